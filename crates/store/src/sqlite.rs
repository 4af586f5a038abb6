//! The embedded SQLite store: one file, WAL journal, migrations, one transaction per batch.

use crate::access::{Role, TokenId, TokenInfo};
use crate::error::{Result, StoreError, StoreErrorKind};
use crate::model::{
    AlertQuery, IncidentQuery, InsertOutcome, RuleInfo, RunId, RunInfo, RunRecord, RunSummary,
    StoredAlert, StoredIncident,
};
use crate::schema::MIGRATIONS;
use crate::triage::{
    AuditEntry, Comment, Subject, TriageChange, TriageMetrics, TriageRecord, TriageState,
};
use crate::{dedup_key, AlertRow, Store};
use chrono::{DateTime, SecondsFormat, Utc};
use rampart_correlate::Incident;
use rampart_event::{Alert, Level};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, ToSql, Transaction};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The SQLite `application_id` that marks a file as a Rampart store: "RMPT" in ASCII
/// (0x524D5054). It is set when a store is created (or an unmarked store of an earlier
/// version adopted) and checked before anything else is written.
pub const APPLICATION_ID: i32 = 0x524D_5054;

/// The tables of a schema-version-1 store, which earlier versions created without an
/// application id; sorted, as [`SqliteStore::table_names`] lists them.
const UNMARKED_STORE_TABLES: [&str; 5] =
    ["alert_techniques", "alerts", "incidents", "rules", "runs"];

/// How to open a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long to wait for another process's write lock before giving up.
    pub busy_timeout: Duration,
    /// Open for reading only (queries); the file must exist.
    pub read_only: bool,
}

impl Default for OpenOptions {
    /// Five seconds of patience, read-write.
    fn default() -> Self {
        OpenOptions {
            busy_timeout: Duration::from_secs(5),
            read_only: false,
        }
    }
}

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) busy_ms: u64,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` for reading and writing.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, &OpenOptions::default())
    }

    /// Opens the store at `path` with options.
    ///
    /// A read-write open checks up front that the file is writable, so that a
    /// read-only file is reported as such instead of failing on the first write.
    pub fn open_with(path: &Path, options: &OpenOptions) -> Result<Self> {
        let busy_ms = options.busy_timeout.as_millis() as u64;
        let fail = |kind| StoreError::new(path, kind);
        if !options.read_only {
            if let Ok(meta) = std::fs::metadata(path) {
                if meta.permissions().readonly() {
                    return Err(fail(StoreErrorKind::ReadOnly(
                        "the file's permissions do not allow writing".into(),
                    )));
                }
            } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| fail(StoreErrorKind::Io(e)))?;
            }
        } else if !path.exists() {
            return Err(fail(StoreErrorKind::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no store here yet: run `rampart hunt ... --store` first",
            ))));
        }
        let flags = if options.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let sql = |e| StoreError::sqlite(path, e, busy_ms);
        let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
        conn.busy_timeout(options.busy_timeout).map_err(sql)?;
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            busy_ms,
        };
        if store.prepare(options.read_only)? == Prepared::NeedsMigration {
            // A reader of a store an older build wrote: migrate it once through a
            // read-write open (refused, by name, when the file cannot be written), then
            // read it as asked.
            drop(store);
            let writer = OpenOptions {
                read_only: false,
                ..options.clone()
            };
            drop(Self::open_with(path, &writer)?);
            return Self::open_with(path, options);
        }
        Ok(store)
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, error: rusqlite::Error) -> StoreError {
        StoreError::sqlite(&self.path, error, self.busy_ms)
    }

    pub(crate) fn bad(&self, id: impl ToString, reason: impl ToString) -> StoreError {
        StoreError::new(
            &self.path,
            StoreErrorKind::BadRecord {
                id: id.to_string(),
                reason: reason.to_string(),
            },
        )
    }

    /// Identity check, settings and migrations. Reading `user_version` is the first
    /// read of the file, so a file that is not a database fails here, by name; and
    /// nothing is written (not even the journal mode) until the file is known to be a
    /// Rampart store, a store of an earlier version, or empty.
    fn prepare(&mut self, read_only: bool) -> Result<Prepared> {
        let version = self.pragma_number("user_version")?;
        let application_id = self.pragma_number("application_id")?;
        if application_id != 0 && application_id != i64::from(APPLICATION_ID) {
            return Err(self.foreign(format!(
                "its application id is {application_id}, Rampart's is {APPLICATION_ID}"
            )));
        }
        let supported = MIGRATIONS.len() as i64;
        // No Rampart writes a negative version; taken as a count of migrations it
        // would skip them all and leave a store without tables.
        if version < 0 {
            return Err(StoreError::new(
                &self.path,
                StoreErrorKind::Corrupt(format!("negative schema version {version}")),
            ));
        }
        if version > supported {
            return Err(StoreError::new(
                &self.path,
                StoreErrorKind::TooNew {
                    found: version,
                    supported,
                },
            ));
        }
        if application_id == 0 {
            self.check_unmarked(version)?;
        }
        if read_only {
            return Ok(if version < supported {
                Prepared::NeedsMigration
            } else {
                Prepared::Ready
            });
        }
        if application_id == 0 {
            self.conn
                .pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(|e| self.err(e))?;
        }
        // WAL lets `alerts list` read while a hunt writes; FULL sync makes each
        // committed batch survive a crash, not only a killed process. A writer's page
        // cache of 32 MiB (SQLite's default is 2 MiB; pages are taken as used): every
        // insert seeks the alert id index at a random place, and a page the cache has
        // dropped is read again through a system call, which cost the service's
        // committer more than the inserts themselves.
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
                 PRAGMA cache_size = -32768;",
            )
            .map_err(|e| self.err(e))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let (path, busy) = (&self.path, self.busy_ms);
            let tx =
                write_transaction(&mut self.conn).map_err(|e| StoreError::sqlite(path, e, busy))?;
            // Another process may have migrated since the version was read: the
            // version is read again under the write lock.
            let now: i64 = tx
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .map_err(|e| StoreError::sqlite(path, e, busy))?;
            if now > index as i64 {
                continue;
            }
            tx.execute_batch(migration)
                .and_then(|_| tx.pragma_update(None, "user_version", index as i64 + 1))
                .and_then(|_| tx.commit())
                .map_err(|e| StoreError::sqlite(path, e, busy))?;
        }
        Ok(Prepared::Ready)
    }

    /// A file without Rampart's application id is taken only when it is empty (a new
    /// store) or holds exactly the tables of a store made before the id was set.
    fn check_unmarked(&self, version: i64) -> Result<()> {
        let tables = self.table_names()?;
        if tables.is_empty() && version == 0 {
            return Ok(());
        }
        if version == 1 && tables.iter().map(String::as_str).eq(UNMARKED_STORE_TABLES) {
            return Ok(());
        }
        if tables.is_empty() {
            return Err(self.foreign(format!("schema version {version} but no tables")));
        }
        Err(self.foreign(format!("it has other tables: {tables:?}")))
    }

    fn pragma_number(&self, pragma: &str) -> Result<i64> {
        self.conn
            .query_row(&format!("PRAGMA {pragma}"), [], |row| row.get(0))
            .map_err(|e| self.err(e))
    }

    /// The names of the file's own tables (not SQLite's), sorted.
    fn table_names(&self) -> Result<Vec<String>> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let names = statement
            .query_map([], |row| row.get(0))
            .and_then(|rows| rows.collect::<std::result::Result<Vec<String>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(names)
    }

    fn foreign(&self, why: String) -> StoreError {
        StoreError::new(&self.path, StoreErrorKind::Foreign(why))
    }
}

/// A transaction that takes the write lock at once (waiting up to the busy timeout).
/// A deferred one that reads first and writes later cannot wait: if another process
/// (a running service) committed in between, SQLite refuses the upgrade at once.
pub(crate) fn write_transaction(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

/// Whether an opened store can be used as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prepared {
    Ready,
    /// Opened read-only at an older schema version.
    NeedsMigration,
}

/// Timestamps are stored as fixed-width UTC text so that text order is time order.
pub(crate) fn time_text(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `alert` with `id` as its id (a copy only when it differs).
fn with_id<'a>(alert: &'a Alert, id: &str) -> std::borrow::Cow<'a, Alert> {
    if alert.id == id {
        std::borrow::Cow::Borrowed(alert)
    } else {
        let mut owned = alert.clone();
        owned.id = id.to_string();
        std::borrow::Cow::Owned(owned)
    }
}

fn level_rank(level: Level) -> i64 {
    Level::ALL.iter().position(|l| *l == level).unwrap_or(0) as i64
}

impl Store for SqliteStore {
    fn location(&self) -> &Path {
        &self.path
    }

    fn begin_run(&mut self, info: &RunInfo) -> Result<RunId> {
        let info_json = serde_json::to_string(info).map_err(|e| self.bad("run", e))?;
        self.conn
            .execute(
                "INSERT INTO runs (started_at, info) VALUES (?1, ?2)",
                params![time_text(Utc::now()), info_json],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    fn record_rules(&mut self, run: RunId, rules: &[RuleInfo]) -> Result<()> {
        let path = self.path.clone();
        let busy = self.busy_ms;
        let sql = |e| StoreError::sqlite(&path, e, busy);
        let tx = write_transaction(&mut self.conn).map_err(sql)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO rules (id, title, level, techniques, first_run, last_run)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                     ON CONFLICT(id) DO UPDATE SET title = ?2, level = ?3, techniques = ?4,
                     last_run = ?5",
                )
                .map_err(sql)?;
            for rule in rules {
                let techniques = rule.techniques.join(",");
                insert
                    .execute(params![
                        rule.id,
                        rule.title,
                        rule.level.as_str(),
                        techniques,
                        run
                    ])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    fn insert_alerts(&mut self, run: RunId, alerts: &[Alert]) -> Result<InsertOutcome> {
        self.commit_ingest(run, alerts, &[])
    }

    fn finish_run(&mut self, run: RunId, summary: &RunSummary) -> Result<()> {
        let summary = serde_json::to_string(summary).map_err(|e| self.bad(run, e))?;
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?1, summary = ?2 WHERE id = ?3",
                params![time_text(Utc::now()), summary, run],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn alerts(&self, query: &AlertQuery) -> Result<Vec<StoredAlert>> {
        let mut sql = String::from(
            "SELECT a.id, a.run, a.body, t.state FROM alerts a
             LEFT JOIN triage t ON t.subject_kind = 'alert' AND t.subject_id = a.id
             WHERE 1 = 1",
        );
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(since) = query.since {
            sql.push_str(" AND a.event_time >= ?");
            args.push(Box::new(time_text(since)));
        }
        if let Some(until) = query.until {
            sql.push_str(" AND a.event_time < ?");
            args.push(Box::new(time_text(until)));
        }
        if let Some(level) = query.min_level {
            sql.push_str(" AND a.level_rank >= ?");
            args.push(Box::new(level_rank(level)));
        }
        if let Some(host) = &query.host {
            sql.push_str(" AND a.host = ?");
            args.push(Box::new(host.clone()));
        }
        if let Some(rule) = &query.rule {
            sql.push_str(" AND a.rule_id = ? COLLATE NOCASE");
            args.push(Box::new(rule.trim().to_string()));
        }
        if let Some(state) = query.state {
            sql.push_str(" AND COALESCE(t.state, 'new') = ?");
            args.push(Box::new(state.as_str()));
        }
        if let Some(technique) = &query.technique {
            let id = technique.trim().to_ascii_uppercase();
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM alert_techniques t WHERE t.alert_id = a.id
                  AND (t.technique = ? OR t.technique LIKE ? ESCAPE '\\'))",
            );
            args.push(Box::new(id.clone()));
            args.push(Box::new(format!(
                "{}.%",
                id.replace('%', "\\%").replace('_', "\\_")
            )));
        }
        sql.push_str(" ORDER BY a.event_time IS NULL, a.event_time, a.id");
        push_page(&mut sql, &mut args, query.offset, query.limit);
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(args.iter()), |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut alerts = Vec::new();
        for row in rows {
            let (id, run, body, state) = row.map_err(|e| self.err(e))?;
            alerts.push(self.stored_alert(id, run, &body, state.as_deref())?);
        }
        Ok(alerts)
    }

    fn alert(&self, id: &str) -> Result<Option<StoredAlert>> {
        let row: Option<(String, i64, String, Option<String>)> = self
            .conn
            .query_row(
                // Ids are stored in lower case (hex digests, or the older keys, also
                // lower-case hex): comparing a lower-cased id keeps the primary-key
                // index usable, where COLLATE NOCASE read every row.
                "SELECT a.id, a.run, a.body, t.state FROM alerts a
                 LEFT JOIN triage t ON t.subject_kind = 'alert' AND t.subject_id = a.id
                 WHERE a.id = ?1",
                [id.trim().to_ascii_lowercase()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((id, run, body, state)) = row else {
            return Ok(None);
        };
        Ok(Some(self.stored_alert(id, run, &body, state.as_deref())?))
    }

    fn rules(&self) -> Result<Vec<RuleInfo>> {
        let mut statement = self
            .conn
            .prepare("SELECT id, title, level, techniques FROM rules ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut rules = Vec::new();
        for row in rows {
            let (id, title, level, techniques) = row.map_err(|e| self.err(e))?;
            let level = level.parse().map_err(|e| self.bad(&id, e))?;
            let techniques = techniques
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            rules.push(RuleInfo {
                id,
                title,
                level,
                techniques,
            });
        }
        Ok(rules)
    }

    fn runs(&self) -> Result<Vec<RunRecord>> {
        let mut statement = self
            .conn
            .prepare("SELECT id, started_at, finished_at, info, summary, alerts_added FROM runs ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut runs = Vec::new();
        for row in rows {
            let (id, started, finished, info, summary, added) = row.map_err(|e| self.err(e))?;
            let started_at = parse_time(&started).ok_or_else(|| self.bad(id, "bad start time"))?;
            let info = serde_json::from_str(&info).map_err(|e| self.bad(id, e))?;
            let summary = summary
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(|e| self.bad(id, e))?;
            runs.push(RunRecord {
                id,
                started_at,
                finished_at: finished.as_deref().and_then(parse_time),
                info,
                summary,
                alerts_added: added.max(0) as u64,
            });
        }
        Ok(runs)
    }

    fn replace_incidents(&mut self, incidents: &[Incident]) -> Result<()> {
        let path = self.path.clone();
        let busy = self.busy_ms;
        let sql = |e| StoreError::sqlite(&path, e, busy);
        let tx = write_transaction(&mut self.conn).map_err(sql)?;
        let triaged = triaged_incidents(&tx).map_err(sql)?;
        tx.execute("DELETE FROM incidents", []).map_err(sql)?;
        write_incidents(&tx, incidents, false).map_err(|e| e.at(&path, busy))?;
        carry_triage(&tx, &triaged, incidents).map_err(sql)?;
        tx.commit().map_err(sql)
    }

    fn incidents(&self) -> Result<Vec<Incident>> {
        let mut statement = self
            .conn
            .prepare("SELECT id, body FROM incidents ORDER BY score DESC, first_seen, id")
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut incidents = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(|e| self.err(e))?;
            incidents.push(serde_json::from_str(&body).map_err(|e| self.bad(&id, e))?);
        }
        Ok(incidents)
    }

    fn incident(&self, id: &str) -> Result<Option<Incident>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM incidents WHERE id = ?1 COLLATE NOCASE",
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| self.bad(id, e)))
            .transpose()
    }

    fn create_token(&mut self, role: Role, name: &str) -> Result<(TokenInfo, String)> {
        self.create_token_impl(role, name)
    }

    fn verify_token(&self, secret: &str) -> Result<Option<TokenInfo>> {
        self.verify_token_impl(secret)
    }

    fn tokens(&self) -> Result<Vec<TokenInfo>> {
        self.tokens_impl()
    }

    fn revoke_token(&mut self, id: TokenId) -> Result<bool> {
        self.revoke_token_impl(id)
    }

    fn token_generation(&self) -> Result<u64> {
        self.token_generation_impl()
    }

    fn commit_ingest(
        &mut self,
        run: RunId,
        alerts: &[Alert],
        checkpoints: &[(String, String)],
    ) -> Result<InsertOutcome> {
        let (path, busy) = (self.path.clone(), self.busy_ms);
        let tx =
            write_transaction(&mut self.conn).map_err(|e| StoreError::sqlite(&path, e, busy))?;
        let outcome = insert_alerts_in(&tx, run, alerts).map_err(|e| e.at(&path, busy))?;
        upsert_checkpoints(&tx, checkpoints).map_err(|e| StoreError::sqlite(&path, e, busy))?;
        tx.commit()
            .map_err(|e| StoreError::sqlite(&path, e, busy))?;
        Ok(outcome)
    }

    fn commit_rows(
        &mut self,
        run: RunId,
        rows: &[AlertRow],
        checkpoints: &[(String, String)],
    ) -> Result<InsertOutcome> {
        let (path, busy) = (self.path.clone(), self.busy_ms);
        let tx =
            write_transaction(&mut self.conn).map_err(|e| StoreError::sqlite(&path, e, busy))?;
        let outcome = insert_rows_in(&tx, run, rows).map_err(|e| e.at(&path, busy))?;
        upsert_checkpoints(&tx, checkpoints).map_err(|e| StoreError::sqlite(&path, e, busy))?;
        tx.commit()
            .map_err(|e| StoreError::sqlite(&path, e, busy))?;
        Ok(outcome)
    }

    fn checkpoint(&self, source_key: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT value FROM checkpoints WHERE source_key = ?1",
                [source_key],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn upsert_incidents(&mut self, incidents: &[Incident]) -> Result<()> {
        let (path, busy) = (self.path.clone(), self.busy_ms);
        let tx =
            write_transaction(&mut self.conn).map_err(|e| StoreError::sqlite(&path, e, busy))?;
        write_incidents(&tx, incidents, true).map_err(|e| e.at(&path, busy))?;
        tx.commit().map_err(|e| StoreError::sqlite(&path, e, busy))
    }

    fn retire_incidents(&mut self, ids: &[String], into: &str) -> Result<()> {
        let (path, busy) = (self.path.clone(), self.busy_ms);
        let sql = |e| StoreError::sqlite(&path, e, busy);
        let tx = write_transaction(&mut self.conn).map_err(sql)?;
        retire_in(&tx, ids, into).map_err(sql)?;
        tx.commit().map_err(sql)
    }

    fn incidents_page(&self, query: &IncidentQuery) -> Result<Vec<StoredIncident>> {
        self.incidents_page_impl(query)
    }

    fn triage(
        &mut self,
        subject: &Subject,
        actor: &str,
        change: &TriageChange,
    ) -> Result<TriageRecord> {
        self.triage_impl(subject, actor, change)
    }

    fn triage_record(&self, subject: &Subject) -> Result<Option<TriageRecord>> {
        self.triage_record_impl(subject)
    }

    fn audit(&self, subject: Option<&Subject>, limit: usize) -> Result<Vec<AuditEntry>> {
        self.audit_impl(subject, limit)
    }

    fn comments(&self, subject: &Subject) -> Result<Vec<Comment>> {
        self.comments_impl(subject)
    }

    fn triage_metrics(&self) -> Result<TriageMetrics> {
        self.triage_metrics_impl()
    }
}

impl SqliteStore {
    /// At most `limit` stored alerts after the position `after` (0: from the first), in
    /// the order they were stored, each with its position: pass the last position back
    /// for the next page. A whole store is read this way in bounded memory, each page
    /// one seek on the table's own order (an offset would read every row before it, and
    /// `alerts`' event-time order sorts the whole table for each page).
    pub fn alerts_after(&self, after: i64, limit: usize) -> Result<Vec<(i64, Alert)>> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT rowid, id, body FROM alerts WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(params![after, limit], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut page = Vec::new();
        for row in rows {
            let (position, id, body) = row.map_err(|e| self.err(e))?;
            let mut alert: Alert = serde_json::from_str(&body).map_err(|e| self.bad(&id, e))?;
            // Rows of schema version 1 hold no id in their body.
            alert.id = id;
            page.push((position, alert));
        }
        Ok(page)
    }

    /// A stored alert from its row; `state` is the triage state column (`None`: new).
    fn stored_alert(
        &self,
        id: String,
        run: RunId,
        body: &str,
        state: Option<&str>,
    ) -> Result<StoredAlert> {
        let mut alert: Alert = serde_json::from_str(body).map_err(|e| self.bad(&id, e))?;
        // Rows of schema version 1 hold no id in their body.
        alert.id.clone_from(&id);
        let state = match state {
            Some(text) => text.parse().map_err(|e| self.bad(&id, e))?,
            None => TriageState::New,
        };
        Ok(StoredAlert {
            id,
            run,
            alert,
            state,
        })
    }
}

/// Appends `LIMIT … OFFSET …` for a page.
pub(crate) fn push_page(
    sql: &mut String,
    args: &mut Vec<Box<dyn ToSql>>,
    offset: Option<usize>,
    limit: Option<usize>,
) {
    if limit.is_none() && offset.is_none() {
        return;
    }
    // SQLite reads a negative limit as "no limit".
    sql.push_str(" LIMIT ? OFFSET ?");
    args.push(Box::new(
        limit.map_or(-1, |l| l.min(i64::MAX as usize) as i64),
    ));
    args.push(Box::new(offset.unwrap_or(0).min(i64::MAX as usize) as i64));
}

/// An error inside a transaction helper: SQLite's, or a record that cannot be encoded.
pub(crate) enum TxError {
    Sql(rusqlite::Error),
    Bad(String, String),
}

impl From<rusqlite::Error> for TxError {
    fn from(error: rusqlite::Error) -> Self {
        TxError::Sql(error)
    }
}

impl TxError {
    pub(crate) fn at(self, path: &Path, busy_ms: u64) -> StoreError {
        match self {
            TxError::Sql(e) => StoreError::sqlite(path, e, busy_ms),
            TxError::Bad(id, reason) => {
                StoreError::new(path, StoreErrorKind::BadRecord { id, reason })
            }
        }
    }
}

/// Sets input checkpoints `(source key, value)`.
fn upsert_checkpoints(
    tx: &Transaction<'_>,
    checkpoints: &[(String, String)],
) -> rusqlite::Result<()> {
    if checkpoints.is_empty() {
        return Ok(());
    }
    let now = time_text(Utc::now());
    let mut upsert = tx.prepare_cached(
        "INSERT INTO checkpoints (source_key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(source_key) DO UPDATE SET value = ?2, updated_at = ?3",
    )?;
    for (key, value) in checkpoints {
        upsert.execute(params![key, value, now])?;
    }
    Ok(())
}

/// Inserts alerts (known dedup keys skipped) and counts them to their run.
pub(crate) fn insert_alerts_in(
    tx: &Transaction<'_>,
    run: RunId,
    alerts: &[Alert],
) -> std::result::Result<InsertOutcome, TxError> {
    let mut insert = AlertInsert::new(tx, run)?;
    for (index, alert) in alerts.iter().enumerate() {
        let id = dedup_key(alert);
        // The body carries the id it is stored under, whatever the alert had.
        let stored = &with_id(alert, &id);
        let body =
            serde_json::to_string(stored).map_err(|e| TxError::Bad(id.clone(), e.to_string()))?;
        let time = stored.event.timestamp.map(time_text);
        insert.row(index, stored, &id, &body, time.as_deref())?;
    }
    insert.finish(tx)
}

/// Inserts rows made ahead ([`AlertRow`]), as [`insert_alerts_in`] does alerts.
pub(crate) fn insert_rows_in(
    tx: &Transaction<'_>,
    run: RunId,
    rows: &[AlertRow],
) -> std::result::Result<InsertOutcome, TxError> {
    let mut insert = AlertInsert::new(tx, run)?;
    for (index, row) in rows.iter().enumerate() {
        let body = row
            .body()
            .map_err(|reason| TxError::Bad(row.id().to_string(), reason.to_string()))?;
        insert.row(index, row.alert(), row.id(), body, row.event_time())?;
    }
    insert.finish(tx)
}

/// One transaction's alert inserts: the statements (cached by the connection, so
/// parsed once per connection) and what they did.
struct AlertInsert<'t> {
    insert: rusqlite::CachedStatement<'t>,
    technique: rusqlite::CachedStatement<'t>,
    run: RunId,
    now: String,
    outcome: InsertOutcome,
}

impl<'t> AlertInsert<'t> {
    fn new(tx: &'t Transaction<'_>, run: RunId) -> rusqlite::Result<Self> {
        Ok(AlertInsert {
            insert: tx.prepare_cached(
                "INSERT OR IGNORE INTO alerts
                 (id, run, rule_id, level_rank, event_time, host, source, record_id, body,
                  id_scheme, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 2, ?10)",
            )?,
            technique: tx.prepare_cached(
                "INSERT OR IGNORE INTO alert_techniques (alert_id, technique) VALUES (?1, ?2)",
            )?,
            run,
            now: time_text(Utc::now()),
            outcome: InsertOutcome::default(),
        })
    }

    /// Inserts the alert at `index` of the batch under `id`, unless that id is stored.
    fn row(
        &mut self,
        index: usize,
        alert: &Alert,
        id: &str,
        body: &str,
        event_time: Option<&str>,
    ) -> rusqlite::Result<()> {
        let added = self.insert.execute(params![
            id,
            self.run,
            alert.rule_id,
            level_rank(alert.level),
            event_time,
            alert.event.computer.as_deref(),
            &*alert.event.source,
            alert.event.record_id.map(|r| r as i64),
            body,
            self.now
        ])?;
        if added == 0 {
            self.outcome.duplicates += 1;
            return Ok(());
        }
        self.outcome.inserted += 1;
        self.outcome.added.push(index);
        for id_tag in &alert.techniques {
            self.technique
                .execute(params![id, id_tag.to_ascii_uppercase()])?;
        }
        Ok(())
    }

    /// Counts the alerts added to their run.
    fn finish(self, tx: &Transaction<'_>) -> std::result::Result<InsertOutcome, TxError> {
        let mut count =
            tx.prepare_cached("UPDATE runs SET alerts_added = alerts_added + ?1 WHERE id = ?2")?;
        count.execute(params![self.outcome.inserted as i64, self.run])?;
        Ok(self.outcome)
    }
}

/// Writes incidents; with `upsert`, a known id keeps its `created_at`. An incident's
/// `created_at` is when its first alert was stored.
pub(crate) fn write_incidents(
    tx: &Transaction<'_>,
    incidents: &[Incident],
    upsert: bool,
) -> std::result::Result<(), TxError> {
    let now = time_text(Utc::now());
    let mut insert = tx.prepare_cached(
        "INSERT INTO incidents (id, host, first_seen, last_seen, score, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET host = excluded.host, first_seen = excluded.first_seen,
         last_seen = excluded.last_seen, score = excluded.score, body = excluded.body,
         created_at = CASE WHEN ?8 THEN COALESCE(incidents.created_at, excluded.created_at)
                      ELSE excluded.created_at END",
    )?;
    let mut stored_at = tx
        .prepare_cached("SELECT created_at FROM alerts WHERE id = ?1 AND created_at IS NOT NULL")?;
    let mut known =
        tx.prepare_cached("SELECT 1 FROM incidents WHERE id = ?1 AND created_at IS NOT NULL")?;
    for incident in incidents {
        let body = serde_json::to_string(incident)
            .map_err(|e| TxError::Bad(incident.id.clone(), e.to_string()))?;
        let mut created: Option<String> = None;
        // An upsert keeps a stored incident's `created_at`: its alerts (up to the
        // timeline's cap, looked up one by one) are read only for a new incident.
        let keeps_its_own = upsert && known.exists([&incident.id])?;
        for entry in incident.timeline.iter().filter(|_| !keeps_its_own) {
            let at: Option<String> = stored_at
                .query_row([&entry.alert_id], |row| row.get(0))
                .optional()?;
            if let Some(at) = at {
                if created.as_ref().is_none_or(|c| at < *c) {
                    created = Some(at);
                }
            }
        }
        insert.execute(params![
            incident.id,
            incident.host,
            incident.first_seen.map(time_text),
            incident.last_seen.map(time_text),
            incident.score,
            body,
            created.unwrap_or_else(|| now.clone()),
            upsert
        ])?;
    }
    Ok(())
}

/// Incidents with triage or comments, and their alert ids, before a regrouping.
fn triaged_incidents(tx: &Transaction<'_>) -> rusqlite::Result<Vec<(String, HashSet<String>)>> {
    let mut statement = tx.prepare(
        "SELECT i.id, json_extract(j.value, '$.alert_id')
         FROM incidents i, json_each(i.body, '$.timeline') j
         WHERE EXISTS (SELECT 1 FROM triage t WHERE t.subject_kind = 'incident'
                       AND t.subject_id = i.id)
            OR EXISTS (SELECT 1 FROM comments c WHERE c.subject_kind = 'incident'
                       AND c.subject_id = i.id)",
    )?;
    let mut members: HashMap<String, HashSet<String>> = HashMap::new();
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
    })?;
    for row in rows {
        let (incident, alert) = row?;
        let entry = members.entry(incident).or_default();
        if let Some(alert) = alert {
            entry.insert(alert);
        }
    }
    let mut members: Vec<_> = members.into_iter().collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(members)
}

/// After a regrouping, gives the triage and comments of each triaged incident to the
/// new incident holding most of its alerts (ties: the same id, then the earliest). When
/// two old incidents want one new incident, the larger share wins; the other keeps its
/// rows under its old id (renamed `ID/superseded` if that id now names another
/// incident). Every move is an audit row (field `incident`, actor `rampart`).
fn carry_triage(
    tx: &Transaction<'_>,
    triaged: &[(String, HashSet<String>)],
    incidents: &[Incident],
) -> rusqlite::Result<()> {
    let new_ids: HashSet<&str> = incidents.iter().map(|i| i.id.as_str()).collect();
    let mut home: HashMap<&str, usize> = HashMap::new();
    for (index, incident) in incidents.iter().enumerate() {
        for entry in &incident.timeline {
            home.insert(entry.alert_id.as_str(), index);
        }
    }
    // (shared alerts, old id, best new id), largest share first.
    let mut wants = Vec::new();
    for (old, alerts) in triaged {
        let mut shares: HashMap<usize, usize> = HashMap::new();
        for alert in alerts {
            if let Some(&index) = home.get(alert.as_str()) {
                *shares.entry(index).or_default() += 1;
            }
        }
        let best = shares.into_iter().max_by(|a, b| {
            a.1.cmp(&b.1)
                .then((incidents[a.0].id == *old).cmp(&(incidents[b.0].id == *old)))
                .then(b.0.cmp(&a.0))
        });
        match best {
            Some((index, shared)) => wants.push((shared, old.as_str(), Some(&incidents[index].id))),
            None => wants.push((0, old.as_str(), None)),
        }
    }
    wants.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut claimed: HashSet<&str> = HashSet::new();
    // (old id, where its rows go); rows staying under their own id are left alone.
    let mut moves: Vec<(&str, String)> = Vec::new();
    for (_, old, target) in wants {
        if let Some(target) = target.filter(|t| claimed.insert(t.as_str())) {
            if target != old {
                moves.push((old, target.clone()));
            }
        } else if new_ids.contains(old) {
            moves.push((old, format!("{old}/superseded")));
        }
    }
    // Out of the way first, so that no move meets a row still to be moved.
    let rename = |from: &str, to: &str| -> rusqlite::Result<()> {
        for table in ["triage", "comments"] {
            tx.execute(
                &format!(
                    "UPDATE {table} SET subject_id = ?2
                     WHERE subject_kind = 'incident' AND subject_id = ?1"
                ),
                [from, to],
            )?;
        }
        Ok(())
    };
    for (old, _) in &moves {
        rename(old, &format!("\u{1}{old}"))?;
    }
    let now = time_text(Utc::now());
    for (old, to) in &moves {
        rename(&format!("\u{1}{old}"), to)?;
        tx.execute(
            "INSERT INTO audit (at, actor, subject_kind, subject_id, field, old_value, new_value)
             VALUES (?1, 'rampart', 'incident', ?2, 'incident', ?3, ?2)",
            [now.as_str(), to.as_str(), old],
        )?;
    }
    Ok(())
}

/// Deletes the retired incidents, moving their comments (and triage, when `into` has
/// none) to `into`, with an audit row per move.
fn retire_in(tx: &Transaction<'_>, ids: &[String], into: &str) -> rusqlite::Result<()> {
    let now = time_text(Utc::now());
    let has_triage = |id: &str| -> rusqlite::Result<bool> {
        tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM triage WHERE subject_kind = 'incident'
                            AND subject_id = ?1)",
            [id],
            |row| row.get(0),
        )
    };
    for old in ids.iter().filter(|id| id.as_str() != into) {
        let mut moved = tx.execute(
            "UPDATE comments SET subject_id = ?2
             WHERE subject_kind = 'incident' AND subject_id = ?1",
            [old.as_str(), into],
        )?;
        if has_triage(old)? && !has_triage(into)? {
            moved += tx.execute(
                "UPDATE triage SET subject_id = ?2
                 WHERE subject_kind = 'incident' AND subject_id = ?1",
                [old.as_str(), into],
            )?;
        }
        if moved > 0 {
            tx.execute(
                "INSERT INTO audit (at, actor, subject_kind, subject_id, field, old_value,
                                    new_value)
                 VALUES (?1, 'rampart', 'incident', ?2, 'incident', ?3, ?2)",
                [now.as_str(), into, old.as_str()],
            )?;
        }
        tx.execute("DELETE FROM incidents WHERE id = ?1", [old.as_str()])?;
    }
    Ok(())
}
