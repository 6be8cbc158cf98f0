//! What the importers share: the account of each table, the target they write into (in
//! chunked transactions) and the originals' date forms.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use std::collections::HashMap;

use super::source;
use super::target;
use crate::config::Config;
use crate::store::db::{Db, DbResult};
use crate::store::messages::MessageStore;

/// Rows per transaction.
const CHUNK: usize = 500;

/// What became of one source row.
pub(crate) enum Fate {
    New,
    /// Imported by an earlier run.
    Already,
    /// Joined to a row that was here already (an account with the same address).
    Linked(String),
    Skipped(String),
}

/// One source table's account.
#[derive(Default)]
pub struct TableReport {
    pub table: String,
    pub read: usize,
    pub new: usize,
    pub already: usize,
    pub linked: usize,
    /// (source id, reason)
    pub skipped: Vec<(String, String)>,
    /// (source id, what was changed to fit): kept, but not exactly as it was.
    pub adjusted: Vec<(String, String)>,
    /// (source id, note) for linked rows.
    pub links: Vec<(String, String)>,
}

impl TableReport {
    pub(crate) fn new(table: &str) -> Self {
        TableReport {
            table: table.to_string(),
            ..Default::default()
        }
    }

    pub(crate) fn count(&mut self, id: &str, fate: Fate) {
        self.read += 1;
        match fate {
            Fate::New => self.new += 1,
            Fate::Already => self.already += 1,
            Fate::Linked(note) => {
                self.linked += 1;
                self.links.push((id.to_string(), note));
            }
            Fate::Skipped(reason) => self.skipped.push((id.to_string(), reason)),
        }
    }

    /// `n` rows read, of which `new` were new and the rest imported before.
    pub(crate) fn count_many(&mut self, n: usize, new: usize) {
        self.read += n;
        self.new += new;
        self.already += n - new;
    }

    pub(crate) fn adjust(&mut self, id: &str, what: impl Into<String>) {
        self.adjusted.push((id.to_string(), what.into()));
    }
}

/// The whole run's account.
pub struct Report {
    pub original: &'static str,
    pub dry_run: bool,
    pub tables: Vec<TableReport>,
}

impl Report {
    pub fn new_rows(&self) -> usize {
        self.tables.iter().map(|t| t.new).sum()
    }

    /// The summary table, then every skipped, linked and adjusted row with its reason.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "table",
            "read",
            if self.dry_run { "would" } else { "new" },
            "already",
            "linked",
            "skipped"
        );
        for t in &self.tables {
            let _ = writeln!(
                out,
                "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8}",
                t.table,
                t.read,
                t.new,
                t.already,
                t.linked,
                t.skipped.len()
            );
        }
        for t in &self.tables {
            for (id, reason) in &t.skipped {
                let _ = writeln!(out, "skipped {} {id}: {reason}", t.table);
            }
            for (id, note) in &t.links {
                let _ = writeln!(out, "linked {} {id}: {note}", t.table);
            }
            for (id, what) in &t.adjusted {
                let _ = writeln!(out, "adjusted {} {id}: {what}", t.table);
            }
        }
        let new = self.new_rows();
        let read: usize = self.tables.iter().map(|t| t.read).sum();
        let _ = if self.dry_run {
            writeln!(
                out,
                "dry run: {new} of {read} rows would be imported; nothing was written"
            )
        } else if new == 0 {
            writeln!(
                out,
                "nothing new to import: every importable row of the {read} read was imported before"
            )
        } else {
            writeln!(out, "imported {new} new rows of {read} read")
        };
        out
    }
}

/// Where the rows go: this configuration's database and chat log.
pub struct Target {
    pub db: Db,
    pub log: std::sync::Arc<dyn MessageStore>,
    pub config: Config,
    pub dry: bool,
    pub now: NaiveDateTime,
}

/// A progress bar on a terminal (nothing when stderr is not one).
fn progress(table: &str, len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:<20} [{bar:30}] {pos}/{len} {elapsed_precise}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(table.to_string());
    bar
}

/// What a run decided for one row to be written: the row (none for a row linked to one that
/// is here already) and its `import_ids` row.
pub(crate) type Planned<R> = Vec<(Option<R>, target::MapRow)>;

impl Target {
    pub(crate) fn map_row(&self, kind: &str, source_id: &str, target_id: i64) -> target::MapRow {
        target::MapRow {
            kind: kind.to_string(),
            source_id: source_id.to_string(),
            target_id,
            created_at: self.now,
        }
    }

    /// Writes what was planned, `CHUNK` rows per transaction (nothing on a dry run).
    pub(crate) async fn write<R, F, Fut>(
        &self,
        table: &str,
        planned: Planned<R>,
        write: F,
    ) -> anyhow::Result<()>
    where
        F: Fn(Vec<R>, Vec<target::MapRow>) -> Fut,
        Fut: std::future::Future<Output = crate::store::db::DbResult<()>>,
    {
        if self.dry || planned.is_empty() {
            return Ok(());
        }
        let bar = progress(table, planned.len());
        let mut planned = planned.into_iter().peekable();
        while planned.peek().is_some() {
            let chunk: Vec<_> = planned.by_ref().take(CHUNK).collect();
            let n = chunk.len();
            let (rows, maps): (Vec<Option<R>>, Vec<target::MapRow>) = chunk.into_iter().unzip();
            write(rows.into_iter().flatten().collect(), maps)
                .await
                .map_err(|e| anyhow::anyhow!("writing `{table}` here failed: {e}"))?;
            bar.inc(n as u64);
        }
        bar.finish_and_clear();
        Ok(())
    }
}

/// What a table's importer decided for a row that no earlier run imported.
pub(crate) enum Step<R> {
    /// A new row here, with its id.
    New(R, i64),
    /// Joined to the row here with this id, and why.
    Linked(i64, String),
    /// Left behind, and why.
    Skip(String),
}

/// Source id (column 0, as text) → id here, of every row imported now or before (or linked).
pub(crate) type Imported = HashMap<String, i64>;

/// One source table decided row by row, before anything is written.
pub(crate) struct Plan<R> {
    name: String,
    pub report: TableReport,
    pub map: Imported,
    planned: Planned<R>,
}

/// Decides every row of a source table: one that an earlier run imported (`import_ids` of
/// `kind`) is counted as such; every other goes to `decide` (which may note adjustments in the
/// report). Nothing is written yet: `Plan::finish` does that.
pub(crate) async fn plan<R>(
    t: &Target,
    name: &str,
    kind: &str,
    rows: &[source::Row],
    mut decide: impl FnMut(&source::Row, &str, &mut TableReport) -> anyhow::Result<Step<R>>,
) -> anyhow::Result<Plan<R>> {
    let mut report = TableReport::new(name);
    let mut map = target::imported(&t.db, kind).await?;
    let mut planned = Vec::new();
    for row in rows {
        let sid = row.key()?;
        if map.contains_key(&sid) {
            report.count(&sid, Fate::Already);
            continue;
        }
        let (row_here, id, fate) = match decide(row, &sid, &mut report)? {
            Step::Skip(why) => {
                report.count(&sid, Fate::Skipped(why));
                continue;
            }
            Step::New(r, id) => (Some(r), id, Fate::New),
            Step::Linked(id, note) => (None, id, Fate::Linked(note)),
        };
        map.insert(sid.clone(), id);
        planned.push((row_here, t.map_row(kind, &sid, id)));
        report.count(&sid, fate);
    }
    Ok(Plan {
        name: name.to_string(),
        report,
        map,
        planned,
    })
}

impl<R> Plan<R> {
    /// Writes the planned rows (`write`: one chunk in one transaction), reports the table and
    /// returns its id map.
    pub(crate) async fn finish<W, Fut>(
        self,
        t: &Target,
        write: W,
        done: &mut dyn FnMut(TableReport),
    ) -> anyhow::Result<Imported>
    where
        W: Fn(Vec<R>, Vec<target::MapRow>) -> Fut,
        Fut: std::future::Future<Output = DbResult<()>>,
    {
        t.write(&self.name, self.planned, write).await?;
        done(self.report);
        Ok(self.map)
    }
}

/// The id here of source row `id` in `map`.
pub(crate) fn here(map: &Imported, id: Option<i64>) -> Option<i64> {
    id.and_then(|id| map.get(&id.to_string()).copied())
}

impl Target {
    /// Stores a channel's carried-over messages in the chat log, `CHUNK` at a time in the
    /// order given (nothing on a dry run), and counts them in `report`.
    pub(crate) async fn import_messages(
        &self,
        label: &str,
        channel: i64,
        list: &[crate::store::messages::Imported],
        report: &mut TableReport,
    ) -> anyhow::Result<()> {
        let bar = progress(label, list.len());
        for chunk in list.chunks(CHUNK) {
            let new = self.log.import(channel, chunk, self.dry).await?;
            report.count_many(chunk.len(), new);
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        Ok(())
    }
}

/// A MySQL date read as text (`CAST(… AS CHAR)`), as a UTC instant.
pub(crate) fn naive(raw: Option<String>) -> Option<NaiveDateTime> {
    raw.as_deref().and_then(parse_date).map(|t| t.naive_utc())
}

/// At most `max` characters of `s`.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A date as the originals wrote it: MySQL's `YYYY-MM-DD hh:mm:ss[.fff]` (read as text), ISO
/// 8601, or JavaScript's long form (`Fri Jul 01 2022 08:03:21 GMT+0000 (Coordinated
/// Universal Time)`, what mongoose made of a `Date` in a `String` field).
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, f) {
            return Some(t.and_utc());
        }
    }
    let long = raw.split(" (").next().unwrap_or(raw);
    DateTime::parse_from_str(long, "%a %b %d %Y %H:%M:%S GMT%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn reads_every_date_form_the_originals_wrote() {
        let want = "2022-07-01T08:03:21Z";
        for raw in [
            "Fri Jul 01 2022 08:03:21 GMT+0000 (Coordinated Universal Time)",
            "Fri Jul 01 2022 17:03:21 GMT+0900 (Korean Standard Time)",
            "2022-07-01T08:03:21.000Z",
            "2022-07-01 08:03:21",
            "2022-07-01 08:03:21.000000",
        ] {
            let t = parse_date(raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                want,
                "{raw}"
            );
        }
        assert!(parse_date("yesterday").is_none());
        assert!(parse_date("").is_none());
    }
}
