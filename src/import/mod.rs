//! `ninecloud import nine-cloud|everyones-friend`: brings an existing deployment of one of the
//! two Node backends over (their schemas: `ninecloud-api.md` §2, `everyones-friend-api.md` §4).
//!
//! How a run goes:
//! - One source table at a time is read whole from the original's MySQL (or MongoDB for the
//!   chat log), and each row is decided on in memory: new, imported before, linked to an
//!   account that is here already, or skipped with a reason.
//! - New rows are written in chunks of `CHUNK`, each chunk one transaction together with its
//!   rows of `import_ids` (which source row became which row here). A run that fails part-way
//!   leaves every chunk it committed whole and nothing of the others; a second run skips what
//!   `import_ids` names and completes the rest. A chat message keeps its ObjectId as its id,
//!   which is how a second run knows it.
//! - Ids: a row keeps its original id when no row here has it (a fresh target keeps every
//!   NINE Cloud id, so links such as `/post/12` still lead to the same diary); otherwise it
//!   gets the next free one.
//! - `--dry-run` decides every row the same way and writes nothing.
//!
//! Run it against a quiet target (before the new server takes traffic): ids are allocated from
//! what this process read.

mod common;
mod everyones_friend;
mod nine_cloud;
mod source;
mod target;

use common::Target;
pub use common::{Report, TableReport, parse_date};

use crate::config::Config;
use crate::store::db::{Db, now};
use crate::store::messages;

/// Which original, and where its data is.
#[derive(clap::Subcommand, Debug)]
pub enum Original {
    /// The NINE Cloud backend: MySQL `Users`, `diaries`, `comments`, `secondaryComments`,
    /// `DiaryLikes`; MongoDB `chats` (the community chat, into the lobby).
    NineCloud(Sources),
    /// The Everyone's friend backend: MySQL `User`, `channel`, `channel_join`; MongoDB `chats`.
    EveryonesFriend(Sources),
}

#[derive(clap::Args, Debug)]
pub struct Sources {
    /// The original's MySQL database, e.g. mysql://user:password@host:3306/database.
    #[arg(long = "from", value_name = "MYSQL_URL")]
    pub mysql: String,
    /// The original's MongoDB (the chat log), e.g. mongodb://host:27017/database.
    #[arg(long, value_name = "MONGODB_URL")]
    pub mongo: Option<String>,
    /// Decide every row and report, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl Original {
    fn sources(&self) -> &Sources {
        match self {
            Original::NineCloud(s) | Original::EveryonesFriend(s) => s,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Original::NineCloud(_) => "nine-cloud",
            Original::EveryonesFriend(_) => "everyones-friend",
        }
    }
}

/// Imports `original` into the database and chat log `config` names (migrating it first).
/// `on_table` sees each table's account as soon as it is done, so a run that fails later has
/// still said what it did.
pub async fn run(
    config: Config,
    original: &Original,
    mut on_table: impl FnMut(&TableReport),
) -> anyhow::Result<Report> {
    let sources = original.sources();
    let db = Db::connect(&config.database_url, 2)?;
    db.migrate().await?;
    let log = messages::from_config(
        &db,
        &config.database_url,
        config.mongo_url.as_deref(),
        config.realtime.write_queue,
    )
    .await?;
    let target = Target {
        db,
        log,
        config,
        dry: sources.dry_run,
        now: now(),
    };
    let mysql = source::Mysql::connect(&sources.mysql)?;
    let mongo = match &sources.mongo {
        Some(url) => Some(source::Mongo::connect(url).await?),
        None => None,
    };
    let mut report = Report {
        original: original.name(),
        dry_run: sources.dry_run,
        tables: Vec::new(),
    };
    let result = match original {
        Original::NineCloud(_) => {
            nine_cloud::import(&target, &mysql, mongo.as_ref(), &mut |t| {
                on_table(&t);
                report.tables.push(t);
            })
            .await
        }
        Original::EveryonesFriend(_) => {
            everyones_friend::import(&target, &mysql, mongo.as_ref(), &mut |t| {
                on_table(&t);
                report.tables.push(t);
            })
            .await
        }
    };
    mysql.close().await;
    if let Some(mongo) = mongo {
        mongo.close().await;
    }
    target.log.close().await;
    result.map(|()| report)
}
