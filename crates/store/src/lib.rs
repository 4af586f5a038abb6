//! The alert and incident store: SQLite embedded by default; the only crate that
//! speaks SQL.
//!
//! Callers talk to the [`Store`] trait, so another backend (PostgreSQL is planned)
//! can be added behind a feature without touching them. The SQLite backend keeps one
//! file in WAL mode: a hunt can write while `rampart alerts list` reads.
//!
//! Guarantees the rest of Rampart builds on:
//! - **No duplicates on re-run.** An alert's id is its [`dedup_key`] (rule id + the
//!   event's host, channel, time and record id, or a digest of its fields without a
//!   record id; never the path); inserting a known key is a no-op.
//! - **Only its own file.** A store carries SQLite `application_id` [`APPLICATION_ID`];
//!   any other database is refused before anything in it is changed.
//! - **Reported means durable.** [`Store::insert_alerts`] writes a batch in one
//!   transaction and returns only after it committed, so a count a caller reports was
//!   on disk; killing the process loses at most the batch being written.
//! - **Clear failures.** A locked, read-only, corrupt or too-new file is a distinct
//!   [`StoreErrorKind`] whose message names the file.
//! - **Migrations.** The schema version lives in SQLite's `user_version`; opening a
//!   store migrates it forward in a transaction.

mod dedup;
mod error;
mod model;
mod schema;
mod sqlite;

pub use dedup::dedup_key;
pub use error::{Result, StoreError, StoreErrorKind};
pub use model::{
    AlertQuery, InsertOutcome, RuleInfo, RunId, RunInfo, RunRecord, RunSummary, StoredAlert,
};
pub use sqlite::{OpenOptions, SqliteStore, APPLICATION_ID};

use rampart_correlate::Incident;
use rampart_event::Alert;
use std::path::Path;

/// Opens the store a location names, read-write: today an SQLite file path. A
/// `postgres://` or `postgresql://` URL is reserved for the PostgreSQL backend and is
/// refused with a clear error until it exists. Callers hold a `Box<dyn Store>`, so
/// adding a backend here changes none of them.
pub fn open(location: &Path) -> Result<Box<dyn Store>> {
    open_with(location, &OpenOptions::default())
}

/// [`open`] with options (busy timeout, read-only).
pub fn open_with(location: &Path, options: &OpenOptions) -> Result<Box<dyn Store>> {
    let text = location.to_string_lossy();
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Err(StoreError::new(
            location,
            StoreErrorKind::Database(
                "PostgreSQL stores are not supported by this build; use an SQLite file path".into(),
            ),
        ));
    }
    Ok(Box::new(SqliteStore::open_with(location, options)?))
}

/// What Rampart needs from an alert store, whatever the database behind it. `Send` so
/// that a hunt can hand it to the thread that writes its output.
pub trait Store: Send {
    /// Where the store lives (file path or URL), for messages.
    fn location(&self) -> &Path;
    /// Records the start of a hunt run and returns its id.
    fn begin_run(&mut self, info: &RunInfo) -> Result<RunId>;
    /// Records the rules a run loaded (id, title, level, techniques), upserting.
    fn record_rules(&mut self, run: RunId, rules: &[RuleInfo]) -> Result<()>;
    /// Adds alerts in one transaction; known dedup keys are skipped. Returns after the
    /// transaction committed.
    fn insert_alerts(&mut self, run: RunId, alerts: &[Alert]) -> Result<InsertOutcome>;
    /// Records how a run ended.
    fn finish_run(&mut self, run: RunId, summary: &RunSummary) -> Result<()>;
    /// Alerts matching a query, in event-time order (untimed last).
    fn alerts(&self, query: &AlertQuery) -> Result<Vec<StoredAlert>>;
    /// One alert by id (case-insensitive).
    fn alert(&self, id: &str) -> Result<Option<StoredAlert>>;
    /// Every rule the store has seen loaded.
    fn rules(&self) -> Result<Vec<RuleInfo>>;
    /// Every run, oldest first.
    fn runs(&self) -> Result<Vec<RunRecord>>;
    /// Replaces all incidents with these, in one transaction.
    fn replace_incidents(&mut self, incidents: &[Incident]) -> Result<()>;
    /// All incidents, highest score first.
    fn incidents(&self) -> Result<Vec<Incident>>;
    /// One incident by id (case-insensitive).
    fn incident(&self, id: &str) -> Result<Option<Incident>>;
}
