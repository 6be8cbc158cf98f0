//! Reading the originals: their MySQL databases (rows of a foreign schema, read with
//! mysql_async, the client diesel-async is built on) and their MongoDB chat logs.

use anyhow::Context;
use futures::TryStreamExt;
use mongodb::bson::Document;
use mysql_async::prelude::{FromValue, Queryable};

pub(crate) struct Mysql {
    pool: mysql_async::Pool,
}

/// One source row, read by column position.
pub(crate) struct Row {
    table: &'static str,
    row: mysql_async::Row,
}

impl Row {
    /// Column `i` as `T` (`Option<T>` for a nullable one).
    pub fn get<T: FromValue>(&self, i: usize) -> anyhow::Result<T> {
        match self.row.get_opt::<T, usize>(i) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => {
                anyhow::bail!("{}: column {i} has an unexpected value: {e}", self.table)
            }
            None => anyhow::bail!("{}: column {i} is missing", self.table),
        }
    }

    /// The row's source id: column 0, an integer or a uuid, as text.
    pub fn key(&self) -> anyhow::Result<String> {
        self.text(0)
            .or_else(|| self.int(0).map(|i| i.to_string()))
            .ok_or_else(|| anyhow::anyhow!("{}: a row without an id", self.table))
    }

    /// A text column that may be NULL or not text at all (bad data reads as `None`).
    pub fn text(&self, i: usize) -> Option<String> {
        self.row
            .get_opt::<Option<String>, usize>(i)
            .and_then(Result::ok)
            .flatten()
    }

    /// An integer column; NULL or unreadable → `None`.
    pub fn int(&self, i: usize) -> Option<i64> {
        self.row
            .get_opt::<Option<i64>, usize>(i)
            .and_then(Result::ok)
            .flatten()
    }
}

impl Mysql {
    pub fn connect(url: &str) -> anyhow::Result<Mysql> {
        let url = url.replacen("mariadb://", "mysql://", 1);
        let opts = mysql_async::Opts::from_url(&url)
            .map_err(|e| anyhow::anyhow!("--from must be a mysql:// URL: {e}"))?;
        Ok(Mysql {
            pool: mysql_async::Pool::new(opts),
        })
    }

    /// Every row of `sql` (a whole table, ordered), for `table`'s messages.
    pub async fn rows(&self, table: &'static str, sql: &str) -> anyhow::Result<Vec<Row>> {
        let mut conn = self
            .pool
            .get_conn()
            .await
            .context("cannot connect to the original's MySQL database (--from)")?;
        let rows: Vec<mysql_async::Row> = conn
            .query(sql)
            .await
            .with_context(|| format!("cannot read the original's `{table}` table"))?;
        Ok(rows.into_iter().map(|row| Row { table, row }).collect())
    }

    pub async fn close(self) {
        let _ = self.pool.disconnect().await;
    }
}

pub(crate) struct Mongo {
    client: mongodb::Client,
    db: mongodb::Database,
}

impl Mongo {
    /// The database the URL names (mongoose's default, `test`, when it names none).
    pub async fn connect(url: &str) -> anyhow::Result<Mongo> {
        let client = mongodb::Client::with_uri_str(url)
            .await
            .context("--mongo must be a mongodb:// URL")?;
        let db = client
            .default_database()
            .unwrap_or_else(|| client.database("test"));
        Ok(Mongo { client, db })
    }

    /// Closes the connections before the runtime goes (dropped with the runtime, the driver's
    /// background tasks panic on their closed channels).
    pub async fn close(self) {
        self.client.shutdown().await;
    }

    /// Every document of `collection` matching `filter`, in `_id` order (creation order).
    pub async fn all(&self, collection: &str, filter: Document) -> anyhow::Result<Vec<Document>> {
        let docs = self
            .db
            .collection::<Document>(collection)
            .find(filter)
            .sort(mongodb::bson::doc! {"_id": 1})
            .await
            .with_context(|| format!("cannot read the original's `{collection}` collection"))?
            .try_collect()
            .await
            .with_context(|| format!("cannot read the original's `{collection}` collection"))?;
        Ok(docs)
    }

    /// The distinct values of `field` in `collection` (strings only).
    pub async fn rooms(&self, collection: &str, field: &str) -> anyhow::Result<Vec<String>> {
        let mut cursor = self
            .db
            .collection::<Document>(collection)
            .find(mongodb::bson::doc! {})
            .projection(mongodb::bson::doc! {field: 1})
            .await
            .with_context(|| format!("cannot read the original's `{collection}` collection"))?;
        let mut seen = std::collections::BTreeSet::new();
        while let Some(d) = cursor.try_next().await? {
            if let Ok(v) = d.get_str(field) {
                seen.insert(v.to_string());
            }
        }
        Ok(seen.into_iter().collect())
    }
}
