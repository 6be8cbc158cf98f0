use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ninecloud::config::Config;
use tracing_subscriber::EnvFilter;

/// The NINE Cloud backend and Socket.IO server.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Bring an existing deployment of the NINE Cloud or Everyone's friend Node backend over
    /// into this configuration's database and chat log (DATABASE_URL, MONGO_DB).
    Import {
        #[command(subcommand)]
        original: ninecloud::import::Original,
    },
    /// Exit 0 when the server on this machine's PORT is ready (for container health checks).
    Healthcheck,
    /// Read a password on standard input and print its bcrypt hash (for ADMIN_PASSWORD_HASH).
    HashPassword,
}

fn init_logs() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::HashPassword)) {
        return hash_password();
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Healthcheck => healthcheck(&config).await,
        Command::HashPassword => hash_password(),
        Command::Migrate => {
            init_logs();
            match ninecloud::store::db::Db::connect(&config.database_url, 1) {
                Ok(db) => match db.migrate().await {
                    Ok(n) => {
                        tracing::info!(applied = n, "migrations done");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("{e:#}");
                        ExitCode::FAILURE
                    }
                },
                Err(e) => {
                    eprintln!("{e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Import { original } => {
            init_logs();
            import(config, original).await
        }
        Command::Serve => {
            init_logs();
            match serve(config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("ninecloud: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(?config, "starting");
    let (listener, app) = ninecloud::bind(config).await?;
    tracing::info!(addr = %listener.local_addr()?, "ready");
    ninecloud::serve_on(listener, app, ninecloud::shutdown_signal()).await
}

async fn import(config: Config, original: ninecloud::import::Original) -> ExitCode {
    let result = ninecloud::import::run(config, &original, |t| {
        eprintln!(
            "{}: {} read, {} new, {} imported before, {} linked, {} skipped",
            t.table,
            t.read,
            t.new,
            t.already,
            t.linked,
            t.skipped.len()
        );
    })
    .await;
    match result {
        Ok(report) => {
            print!("{}", report.render());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "ninecloud import: {e:#}\nEvery chunk of rows written before this is kept whole (the \
                 tables reported above are complete); run the same command again to import the rest."
            );
            ExitCode::FAILURE
        }
    }
}

fn hash_password() -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("cannot read the password: {e}");
        return ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!(
            "give the password on standard input, e.g. `ninecloud hash-password <<< 'secret'`"
        );
        return ExitCode::from(2);
    }
    match bcrypt::hash(password, 10) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn healthcheck(config: &Config) -> ExitCode {
    let url = format!("http://127.0.0.1:{}/ready", config.port);
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
    {
        Ok(c) => c,
        Err(_) => return ExitCode::FAILURE,
    };
    match client.get(&url).send().await {
        Ok(r) if r.status().is_success() => ExitCode::SUCCESS,
        Ok(r) => {
            eprintln!("{url}: {}", r.status());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{url}: {e}");
            ExitCode::FAILURE
        }
    }
}
