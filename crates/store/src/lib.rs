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
//!   store migrates it forward in a transaction (a read-only open of an older store
//!   migrates it first when the file can be written).
//! - **Exactly-once resume.** [`Store::commit_ingest`] writes alerts and the input
//!   checkpoints that produced them in one transaction: after a crash a reader resumes
//!   from a checkpoint whose alerts are all stored, and none twice.
//! - **Secrets never stored.** API tokens are kept as SHA-256 digests ([`Role`],
//!   [`TokenInfo`]).
//! - **Audit is append-only.** Every triage change is an `audit` row in the same
//!   transaction; SQLite triggers refuse to update or delete audit rows.
//! - **Atomic intel imports.** [`SqliteStore::import_feed`] stores a threat-intel feed
//!   (indicators, observables, entities, its source's counts and TAXII cursor) in one
//!   transaction: a failure leaves the source as it was, never half-replaced.
//! - **Durable response runs, tamper-evident audit.** A response run's steps move
//!   in transactions that also append to a hash-chained audit ([`ChainEntry`]); a
//!   step's intent is committed before it is sent and its outcome after, and
//!   [`SqliteStore::verify_audit_chain`] finds any changed, removed or reordered entry.
//! - **Readers and writers side by side.** WAL and a busy timeout: a CLI command works
//!   on a store a running service writes.

mod access;
mod chain;
mod dedup;
mod error;
mod intel;
mod model;
mod response;
mod row;
mod schema;
mod sqlite;
mod sqlite_service;
mod triage;

pub use access::{Role, TokenId, TokenInfo, UnknownRole, TOKEN_PREFIX};
pub use chain::{ChainEntry, ChainHead, ChainProblem, ChainReport, GENESIS_HASH, MAX_PROBLEMS};
pub use response::{
    ApprovalPolicy, ApprovalRecord, ClaimedStep, Decision, NewResponseRun, NewResponseStep,
    ResponseRun, ResponseRunDetail, ResponseRunId, ResponseRunQuery, ResponseRunState,
    ResponseStep, RunMode, StepOutcome, StepPhase, StepPolicy, StepResult, StepState, RUNNER_ACTOR,
};

pub use dedup::dedup_key;
pub use error::{Result, StoreError, StoreErrorKind};
pub use intel::{
    ActiveMatch, AllowEntry, ImportMode, ImportOptions, ImportOutcome, IndicatorQuery, IntelCount,
    IntelSource, IntelStats, StoredContext, StoredEntity, StoredIndicator,
};
pub use model::{
    AlertQuery, IncidentQuery, InsertOutcome, RuleInfo, RunId, RunInfo, RunRecord, RunSummary,
    StoredAlert, StoredIncident,
};
pub use row::AlertRow;
pub use sqlite::{OpenOptions, SqliteStore, APPLICATION_ID};
pub use triage::{
    AuditEntry, Comment, DurationStats, IncidentMetrics, RuleMetrics, Subject, TriageChange,
    TriageMetrics, TriageRecord, TriageState, Verdict, MAX_COMMENT_BYTES, MAX_NAME_BYTES,
    MAX_REASON_BYTES, MAX_TAGS,
};

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

    // --- Tokens -------------------------------------------------------------------

    /// Creates a token and returns it with its secret, which is shown this once: the
    /// store keeps only its digest.
    fn create_token(&mut self, role: Role, name: &str) -> Result<(TokenInfo, String)>;
    /// The token a secret belongs to, unless it is unknown or revoked. Records when it
    /// was last used (to the minute).
    fn verify_token(&self, secret: &str) -> Result<Option<TokenInfo>>;
    /// Every token, revoked ones included, oldest first.
    fn tokens(&self) -> Result<Vec<TokenInfo>>;
    /// Revokes a token; `false` when there is no such token or it was revoked already.
    fn revoke_token(&mut self, id: TokenId) -> Result<bool>;
    /// How many tokens were ever revoked. Revocation is final and tokens are never
    /// deleted, so this grows by one at every revocation, whichever process made it: a
    /// cache of verified tokens holds while it is unchanged. One small read.
    fn token_generation(&self) -> Result<u64>;

    // --- Service ingest -----------------------------------------------------------

    /// [`Store::insert_alerts`] and the checkpoints `(source key, value)` of the input
    /// that produced them, in one transaction.
    fn commit_ingest(
        &mut self,
        run: RunId,
        alerts: &[Alert],
        checkpoints: &[(String, String)],
    ) -> Result<InsertOutcome>;
    /// [`Store::commit_ingest`] of rows made ahead ([`AlertRow`]): the same writes,
    /// without the per-alert work of making them on the writer's thread.
    fn commit_rows(
        &mut self,
        run: RunId,
        rows: &[AlertRow],
        checkpoints: &[(String, String)],
    ) -> Result<InsertOutcome>;
    /// The last committed checkpoint of an input.
    fn checkpoint(&self, source_key: &str) -> Result<Option<String>>;
    /// Inserts these incidents or replaces those with the same id, keeping every other
    /// incident and all triage.
    fn upsert_incidents(&mut self, incidents: &[Incident]) -> Result<()>;
    /// Removes incidents merged into `into` (which the caller has stored), in one
    /// transaction. Their comments move to `into`, and so does the triage of the first
    /// of them that has any when `into` has none (the others keep theirs under their
    /// own ids, visible in the audit); every move is an audit row on `into` (field
    /// `incident`, actor `rampart`, from the retired id). Unknown ids are skipped.
    fn retire_incidents(&mut self, ids: &[String], into: &str) -> Result<()>;
    /// Incidents matching a query, highest score first, with their triage state.
    fn incidents_page(&self, query: &IncidentQuery) -> Result<Vec<StoredIncident>>;

    // --- Triage -------------------------------------------------------------------

    /// Applies an analyst's change to an alert or incident and returns where it stands
    /// now. Refused (nothing written) when the subject does not exist
    /// ([`StoreErrorKind::NotFound`]) or the change breaks a rule
    /// ([`StoreErrorKind::Invalid`]); see the `triage` module for the rules.
    fn triage(
        &mut self,
        subject: &Subject,
        actor: &str,
        change: &TriageChange,
    ) -> Result<TriageRecord>;
    /// Where a subject stands; `None` when it does not exist.
    fn triage_record(&self, subject: &Subject) -> Result<Option<TriageRecord>>;
    /// Audit rows, newest first: of one subject, or of all.
    fn audit(&self, subject: Option<&Subject>, limit: usize) -> Result<Vec<AuditEntry>>;
    /// A subject's comments, oldest first.
    fn comments(&self, subject: &Subject) -> Result<Vec<Comment>>;
    /// Response times and per-rule verdicts.
    fn triage_metrics(&self) -> Result<TriageMetrics>;
}
