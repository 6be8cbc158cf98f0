//! The relational database: SQLite (embedded default), PostgreSQL or MySQL/MariaDB, chosen by
//! `DATABASE_URL`.
//!
//! diesel-async has no multi-backend connection, so `Db` is an enum of pools and `with_conn!`
//! runs one block of diesel code against whichever pool is configured: each query is written
//! once and type-checked for all three backends. Inserts never use `RETURNING` (MySQL has none);
//! rows are read back by a unique key instead.

use std::time::Duration;

use chrono::{NaiveDateTime, Timelike, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::{BuildError, Pool, PoolError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{
    AsyncConnection, AsyncMigrationHarness, AsyncMysqlConnection, AsyncPgConnection, RunQueryDsl,
    SimpleAsyncConnection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Every SQLite connection's settings: foreign keys for ON DELETE CASCADE; WAL and a busy
/// timeout so readers and the one writer at a time share the file without "database is
/// locked". `synchronous = NORMAL` in WAL mode: a commit survives the process being killed;
/// a power cut may lose the last commits before a checkpoint, never the file's consistency.
pub(crate) const SQLITE_SETUP: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A unique constraint said no; the payload names the constraint when the backend tells.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
    /// The chat log's write queue is full: refused at once rather than queued without bound.
    #[error("the chat log is busy")]
    Busy,
}

impl From<DieselError> for DbError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => DbError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                DbError::Conflict(
                    info.constraint_name()
                        .map(str::to_string)
                        .unwrap_or_else(|| info.message().to_string()),
                )
            }
            // What the row pointed at was deleted in the meantime (a diary under a new comment).
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                DbError::NotFound
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DbError::Unavailable(info.message().to_string())
            }
            other => DbError::Other(other.to_string()),
        }
    }
}

impl From<PoolError> for DbError {
    fn from(err: PoolError) -> Self {
        DbError::Unavailable(err.to_string())
    }
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

#[derive(Clone)]
pub enum Db {
    Sqlite(Pool<SqliteConn>),
    Postgres(Pool<AsyncPgConnection>),
    Mysql(Pool<AsyncMysqlConnection>),
}

/// Runs `$body` with `$conn: &mut <backend connection>` for whichever backend `$db` is.
/// The body is compiled once per backend; it returns a `DbResult`.
#[macro_export]
macro_rules! with_conn {
    ($db:expr, |$conn:ident| $body:expr) => {{
        match $db {
            $crate::store::db::Db::Sqlite(pool) => {
                let mut obj = pool.get().await.map_err($crate::store::db::DbError::from)?;
                let $conn: &mut $crate::store::db::SqliteConn = &mut obj;
                $body
            }
            $crate::store::db::Db::Postgres(pool) => {
                let mut obj = pool.get().await.map_err($crate::store::db::DbError::from)?;
                let $conn: &mut ::diesel_async::AsyncPgConnection = &mut obj;
                $body
            }
            $crate::store::db::Db::Mysql(pool) => {
                let mut obj = pool.get().await.map_err($crate::store::db::DbError::from)?;
                let $conn: &mut ::diesel_async::AsyncMysqlConnection = &mut obj;
                $body
            }
        }
    }};
}

/// Inserts every row of `$rows` (an owned `Vec`) into `$table` on `$conn`, inside whatever
/// transaction it is in: `one_by_one` on SQLite, whose async connection has no multi-row
/// insert (in-process, a statement costs no round trip); `batched`, 100 rows per statement, on
/// PostgreSQL and MySQL. For bulk writes (`ninecloud import`); `?` converts diesel's error.
#[macro_export]
macro_rules! insert_rows {
    (one_by_one, $conn:expr, $table:expr, $rows:expr) => {
        for row in $rows {
            ::diesel::insert_into($table)
                .values(row)
                .execute($conn)
                .await?;
        }
    };
    (batched, $conn:expr, $table:expr, $rows:expr) => {
        let mut rows = $rows;
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(100));
            ::diesel::insert_into($table)
                .values(rows)
                .execute($conn)
                .await?;
            rows = rest;
        }
    };
}

/// What an `UPDATE` or `DELETE` of one row by key returns: `NotFound` when no row matched.
pub fn one_row(affected: usize) -> DbResult<()> {
    if affected == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Now, in UTC, to the microsecond (the finest every backend stores).
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

pub(crate) fn sqlite_path(url: &str) -> String {
    url.trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .to_string()
}

impl Db {
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
            Db::Mysql(_) => Backend::Mysql,
        }
    }

    /// Opens a pool for `url`. Nothing is connected until the first use.
    pub fn connect(url: &str, pool_size: usize) -> anyhow::Result<Db> {
        let wait = Some(Duration::from_secs(10));
        // The same pool settings for every backend; a macro because deadpool's bounds on a
        // generic manager are more than this is worth.
        macro_rules! pool {
            ($mgr:expr) => {
                Pool::builder($mgr)
                    .max_size(pool_size)
                    .wait_timeout(wait)
                    .create_timeout(wait)
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .map_err(|e: BuildError| {
                        anyhow::anyhow!("cannot build the database pool: {e}")
                    })?
            };
        }
        if url.starts_with("sqlite:") {
            let path = sqlite_path(url);
            if let Some(parent) = std::path::Path::new(&path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| anyhow::anyhow!("cannot create the folder for {path}: {e}"))?;
            }
            let mut cfg = ManagerConfig::<SqliteConn>::default();
            cfg.custom_setup = Box::new(|url| {
                let path = sqlite_path(url);
                Box::pin(async move {
                    let mut conn = SqliteConn::establish(&path).await?;
                    conn.batch_execute(SQLITE_SETUP)
                        .await
                        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                    Ok(conn)
                })
            });
            let mgr = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(&path, cfg);
            Ok(Db::Sqlite(pool!(mgr)))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mgr = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
            Ok(Db::Postgres(pool!(mgr)))
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            let url = url.replacen("mariadb:", "mysql:", 1);
            let mgr = AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(url);
            Ok(Db::Mysql(pool!(mgr)))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite://, postgres:// or mysql://")
        }
    }

    /// Runs the pending migrations of this backend. Needs the multi-threaded tokio runtime
    /// (the harness blocks in place while diesel's synchronous migration code runs).
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        // Several instances may start at once on a fresh database (two replicas, or both
        // colours). PostgreSQL and MySQL take a lock for the whole run on the migrating
        // connection, so one migrates and the others then find nothing pending (MySQL's DDL
        // is not transactional: without it a second runner would half-apply a migration).
        // SQLite's migrations are transactional: it takes no lock (`SELECT 1`), and a runner
        // that lost the race retries.
        const NO_LOCK: &str = "SELECT 1";
        const PG_LOCK: &str = "SELECT pg_advisory_lock(4839201758)";
        const PG_UNLOCK: &str = "SELECT pg_advisory_unlock(4839201758)";
        const MYSQL_LOCK: &str = "SELECT GET_LOCK('ninecloud.migrations', 120)";
        const MYSQL_UNLOCK: &str = "SELECT RELEASE_LOCK('ninecloud.migrations')";
        macro_rules! run {
            ($pool:expr, $migrations:expr, $lock:expr, $unlock:expr) => {{
                let mut conn = $pool.get().await?;
                diesel::sql_query($lock).execute(&mut *conn).await?;
                let mut harness = AsyncMigrationHarness::new(conn);
                let result = harness
                    .run_pending_migrations($migrations)
                    .map(|done| done.len())
                    .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
                let mut conn = harness.into_inner();
                diesel::sql_query($unlock).execute(&mut *conn).await?;
                result
            }};
        }
        let mut attempt = 1;
        loop {
            let result = match self {
                Db::Sqlite(pool) => run!(pool, SQLITE_MIGRATIONS, NO_LOCK, NO_LOCK),
                Db::Postgres(pool) => run!(pool, POSTGRES_MIGRATIONS, PG_LOCK, PG_UNLOCK),
                Db::Mysql(pool) => run!(pool, MYSQL_MIGRATIONS, MYSQL_LOCK, MYSQL_UNLOCK),
            };
            match result {
                Err(e) if attempt < 3 && matches!(self, Db::Sqlite(_)) => {
                    tracing::warn!(error = %e, attempt, "migration failed; retrying (another instance may be migrating)");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                other => return other,
            }
        }
    }

    /// The pool's connections: made, allowed, idle and callers waiting (for the metrics).
    pub fn pool_status(&self) -> deadpool::Status {
        match self {
            Db::Sqlite(pool) => pool.status(),
            Db::Postgres(pool) => pool.status(),
            Db::Mysql(pool) => pool.status(),
        }
    }

    /// A cheap round trip, for `/ready` and `/health`.
    pub async fn ping(&self) -> DbResult<()> {
        with_conn!(self, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?;
            Ok(())
        })
    }
}
