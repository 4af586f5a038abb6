//! Response runs: playbook runs as durable state machines.
//!
//! A run is created with all its steps in one transaction; from then on every move
//! of a step is a transaction that also appends its audit entry to the hash chain
//! ([`crate::chain`]), so the state and its audit commit together or not at all.
//!
//! A step moves `pending` → `queued` (or `awaiting_approval` → `queued` when
//! approved) → `in_flight` (its *intent*: the prepared request and the attempt,
//! committed before anything is sent) → `done` / `failed`, or back to `queued` with
//! the time of its next attempt. A step found `in_flight` when a runner starts was
//! sent by a runner that died before its outcome was committed: it goes back to
//! `queued`, marked to be sent again with the same idempotency key (the peer
//! recognises it) and without counting as a new attempt. A step whose outcome was
//! committed is never claimed again. Steps run in order: one step of a run is active
//! at a time.

use crate::access::Role;
use crate::chain;
use crate::error::{Result, StoreError, StoreErrorKind};
use crate::sqlite::{parse_time, time_text, write_transaction, SqliteStore};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;
use std::str::FromStr;

/// Identifies a response run.
pub type ResponseRunId = i64;

/// The actor the runner's own decisions are recorded under.
pub const RUNNER_ACTOR: &str = "rampart";

macro_rules! names {
    ($type:ty, $what:literal, $($variant:path => $name:literal),+) => {
        impl $type {
            /// The name the command line, the API and the store use.
            pub fn as_str(self) -> &'static str {
                match self { $($variant => $name),+ }
            }
        }
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $type {
            type Err = String;
            fn from_str(text: &str) -> std::result::Result<Self, String> {
                match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                    $(n if n == $name.replace('-', "_") => Ok($variant),)+
                    _ => Err(format!(
                        concat!("unknown ", $what, " `{}` (expected {})"),
                        text.chars().take(64).collect::<String>(),
                        [$($name),+].join(", ")
                    )),
                }
            }
        }
    };
}

/// Whether a run acts or only shows what it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunMode {
    /// Steps are sent.
    Live,
    /// Steps are prepared and recorded, nothing is sent.
    DryRun,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseRunState {
    /// A step is queued or being sent.
    Running,
    /// Its current step waits for an analyst.
    AwaitingApproval,
    /// Every step done.
    Succeeded,
    /// A step failed (its retries spent, or a failure that will not pass).
    Failed,
    /// An analyst (or an approval's timeout) rejected a step.
    Rejected,
    /// Cancelled; its remaining steps will not run.
    Cancelled,
    /// Its compensating steps are running.
    Compensating,
    /// Every compensating step done.
    Compensated,
    /// A compensating step failed.
    CompensationFailed,
    /// A dry run: every step prepared and recorded, none sent.
    Previewed,
}

impl ResponseRunState {
    /// Whether the run has nothing left to do (it may still be compensated).
    pub fn is_finished(self) -> bool {
        !matches!(
            self,
            ResponseRunState::Running
                | ResponseRunState::AwaitingApproval
                | ResponseRunState::Compensating
        )
    }
}

/// Which list of steps a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepPhase {
    /// The playbook's own steps.
    Forward,
    /// Steps undoing done steps, added by a compensation.
    Compensation,
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Waits for the steps before it.
    Pending,
    /// Due at `next_at`.
    Queued,
    /// Waits for an analyst's decision (until `next_at`, when it has a timeout).
    AwaitingApproval,
    /// Its intent is committed and it is being sent.
    InFlight,
    /// The peer did it.
    Done,
    /// It failed for good.
    Failed,
    /// An analyst rejected it.
    Rejected,
    /// Cancelled with its run.
    Cancelled,
    /// Not run because a step before it failed or was rejected.
    Skipped,
    /// Prepared by a dry run, not sent.
    Previewed,
}

/// An analyst's decision on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Go ahead.
    Approve,
    /// Do not.
    Reject,
}

names!(RunMode, "mode", RunMode::Live => "live", RunMode::DryRun => "dry-run");
names!(ResponseRunState, "run state",
    ResponseRunState::Running => "running",
    ResponseRunState::AwaitingApproval => "awaiting_approval",
    ResponseRunState::Succeeded => "succeeded",
    ResponseRunState::Failed => "failed",
    ResponseRunState::Rejected => "rejected",
    ResponseRunState::Cancelled => "cancelled",
    ResponseRunState::Compensating => "compensating",
    ResponseRunState::Compensated => "compensated",
    ResponseRunState::CompensationFailed => "compensation_failed",
    ResponseRunState::Previewed => "previewed");
names!(StepPhase, "phase", StepPhase::Forward => "forward", StepPhase::Compensation => "compensation");
names!(StepState, "step state",
    StepState::Pending => "pending",
    StepState::Queued => "queued",
    StepState::AwaitingApproval => "awaiting_approval",
    StepState::InFlight => "in_flight",
    StepState::Done => "done",
    StepState::Failed => "failed",
    StepState::Rejected => "rejected",
    StepState::Cancelled => "cancelled",
    StepState::Skipped => "skipped",
    StepState::Previewed => "previewed");
names!(Decision, "decision", Decision::Approve => "approve", Decision::Reject => "reject");

/// A step's approval: who may decide, for how long, and what the timeout decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// The lowest role that may decide (admin ≥ analyst ≥ viewer).
    pub role: Role,
    /// How long to wait, in milliseconds; `None`: for ever.
    pub timeout_ms: Option<u64>,
    /// What the timeout decides.
    pub default: Decision,
}

/// How a step is sent: its deadline per attempt, retries and approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPolicy {
    /// Deadline of one attempt, in milliseconds.
    pub timeout_ms: u64,
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// First wait between attempts, in milliseconds (doubled each time).
    pub backoff_ms: u64,
    /// Longest wait, in milliseconds.
    pub max_backoff_ms: u64,
    /// When set, the step waits for a decision before it is sent.
    pub approval: Option<ApprovalPolicy>,
}

/// A run to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponseRun {
    /// The playbook's id.
    pub playbook_id: String,
    /// SHA-256 of the playbook snapshot (hex).
    pub playbook_digest: String,
    /// The playbook as it was when the run started (JSON), so later edits of the file
    /// change no run already started.
    pub playbook: Value,
    /// `incident` or `alert`.
    pub subject_kind: String,
    /// The incident's or alert's id.
    pub subject_id: String,
    /// The inputs taken from the subject (JSON).
    pub inputs: Value,
    /// Live or dry run.
    pub mode: RunMode,
    /// Who started it.
    pub started_by: String,
}

/// A step to add to a run.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponseStep {
    /// The playbook step's id.
    pub step_id: String,
    /// Its title.
    pub title: String,
    /// The D3FEND technique it implements.
    pub d3fend: String,
    /// The prepared request (JSON, secrets as references): the intent.
    pub request: Value,
    /// The key the peer recognises a resend by.
    pub idempotency_key: String,
    /// What concurrency limits count against.
    pub target: String,
    /// Timeout, retries, approval.
    pub policy: StepPolicy,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRun {
    /// Run id.
    pub id: ResponseRunId,
    /// The playbook's id.
    pub playbook_id: String,
    /// SHA-256 of the playbook snapshot.
    pub playbook_digest: String,
    /// `incident` or `alert`.
    pub subject_kind: String,
    /// The incident's or alert's id.
    pub subject_id: String,
    /// The inputs taken from the subject.
    pub inputs: Value,
    /// Live or dry run.
    pub mode: RunMode,
    /// Where it stands.
    pub state: ResponseRunState,
    /// Who started it.
    pub started_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last moved.
    pub updated_at: DateTime<Utc>,
}

/// A step as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseStep {
    /// Its run.
    pub run: ResponseRunId,
    /// Position in the run (forward steps first, compensations after).
    pub index: u32,
    /// Forward or compensation.
    pub phase: StepPhase,
    /// The playbook step's id.
    pub step_id: String,
    /// Its title.
    pub title: String,
    /// The D3FEND technique it implements.
    pub d3fend: String,
    /// Where it stands.
    pub state: StepState,
    /// Attempts made (a resend after a crash is not a new attempt).
    pub attempts: u32,
    /// Queued: when due. Awaiting approval: the deadline.
    pub next_at: Option<DateTime<Utc>>,
    /// The prepared request (secrets as references).
    pub request: Value,
    /// The key the peer recognises a resend by.
    pub idempotency_key: String,
    /// What concurrency limits count against.
    pub target: String,
    /// Timeout, retries, approval.
    pub policy: StepPolicy,
    /// The last attempt's outcome (redacted).
    pub outcome: Option<Value>,
    /// When it last moved.
    pub updated_at: DateTime<Utc>,
}

/// A decision on a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// The step's position.
    pub index: u32,
    /// Approve or reject.
    pub decision: Decision,
    /// Who decided (`rampart` for a timeout's default).
    pub actor: String,
    /// With which role.
    pub role: Role,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, when given.
    pub reason: Option<String>,
}

/// A run with its playbook snapshot, steps and decisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRunDetail {
    /// The run.
    pub run: ResponseRun,
    /// The playbook as it was when the run started.
    pub playbook: Value,
    /// Its steps, in order.
    pub steps: Vec<ResponseStep>,
    /// Decisions on its steps, oldest first.
    pub approvals: Vec<ApprovalRecord>,
}

/// Which runs to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseRunQuery {
    /// Only runs in this state.
    pub state: Option<ResponseRunState>,
    /// Only unfinished runs (running, awaiting approval, compensating).
    pub unfinished: bool,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

/// A step a runner took to send: its intent is committed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedStep {
    /// Its run.
    pub run: ResponseRunId,
    /// Its position.
    pub index: u32,
    /// The prepared request.
    pub request: Value,
    /// The key the peer recognises a resend by.
    pub idempotency_key: String,
    /// What concurrency limits count against.
    pub target: String,
    /// Timeout, retries, approval.
    pub policy: StepPolicy,
    /// This attempt's number (from 1).
    pub attempt: u32,
    /// Whether this sends again an attempt whose outcome was never committed.
    pub resend: bool,
}

/// What to do with a step after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepResult {
    /// It is done; the next step becomes due.
    Done,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    /// It failed for good; so does its run.
    Failed,
}

/// An attempt's outcome to record.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Its run.
    pub run: ResponseRunId,
    /// The step's position.
    pub index: u32,
    /// What follows.
    pub result: StepResult,
    /// The connector's outcome (redacted JSON).
    pub outcome: Value,
}

/// A failure inside a transaction: SQLite's, or a refusal.
enum Fail {
    Sql(rusqlite::Error),
    Kind(StoreErrorKind),
}

impl From<rusqlite::Error> for Fail {
    fn from(error: rusqlite::Error) -> Self {
        Fail::Sql(error)
    }
}

fn refused(why: impl Into<String>) -> Fail {
    Fail::Kind(StoreErrorKind::Invalid(why.into()))
}

fn subject_run(run: ResponseRunId) -> String {
    format!("run {run}")
}

fn subject_step(run: ResponseRunId, index: u32) -> String {
    format!("run {run} step {index}")
}

fn parse<T: FromStr<Err = String>>(text: &str) -> rusqlite::Result<T> {
    text.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

fn json_of<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

fn time_of(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    parse_time(text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("bad time {text:?}").into(),
        )
    })
}

const RUN_COLUMNS: &str = "id, playbook_id, playbook_digest, subject_kind, subject_id, inputs, mode, state, started_by, created_at, updated_at";

fn run_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<ResponseRun> {
    Ok(ResponseRun {
        id: row.get(0)?,
        playbook_id: row.get(1)?,
        playbook_digest: row.get(2)?,
        subject_kind: row.get(3)?,
        subject_id: row.get(4)?,
        inputs: json_of(&row.get::<_, String>(5)?)?,
        mode: parse(&row.get::<_, String>(6)?)?,
        state: parse(&row.get::<_, String>(7)?)?,
        started_by: row.get(8)?,
        created_at: time_of(&row.get::<_, String>(9)?)?,
        updated_at: time_of(&row.get::<_, String>(10)?)?,
    })
}

const STEP_COLUMNS: &str = "run, idx, phase, step_id, title, d3fend, state, attempts, next_at, request, idempotency_key, target, policy, outcome, updated_at";

fn step_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<ResponseStep> {
    Ok(ResponseStep {
        run: row.get(0)?,
        index: row.get(1)?,
        phase: parse(&row.get::<_, String>(2)?)?,
        step_id: row.get(3)?,
        title: row.get(4)?,
        d3fend: row.get(5)?,
        state: parse(&row.get::<_, String>(6)?)?,
        attempts: row.get(7)?,
        next_at: row
            .get::<_, Option<String>>(8)?
            .map(|t| time_of(&t))
            .transpose()?,
        request: json_of(&row.get::<_, String>(9)?)?,
        idempotency_key: row.get(10)?,
        target: row.get(11)?,
        policy: json_of(&row.get::<_, String>(12)?)?,
        outcome: row
            .get::<_, Option<String>>(13)?
            .map(|t| json_of(&t))
            .transpose()?,
        updated_at: time_of(&row.get::<_, String>(14)?)?,
    })
}

fn load_run(tx: &Transaction<'_>, run: ResponseRunId) -> std::result::Result<ResponseRun, Fail> {
    tx.query_row(
        &format!("SELECT {RUN_COLUMNS} FROM respond_runs WHERE id = ?1"),
        params![run],
        run_of,
    )
    .optional()?
    .ok_or_else(|| Fail::Kind(StoreErrorKind::NotFound(format!("response run {run}"))))
}

fn load_step(
    tx: &Transaction<'_>,
    run: ResponseRunId,
    index: u32,
) -> std::result::Result<ResponseStep, Fail> {
    tx.query_row(
        &format!("SELECT {STEP_COLUMNS} FROM respond_steps WHERE run = ?1 AND idx = ?2"),
        params![run, index],
        step_of,
    )
    .optional()?
    .ok_or_else(|| {
        Fail::Kind(StoreErrorKind::NotFound(format!(
            "step {index} of response run {run}"
        )))
    })
}

fn set_run_state(
    tx: &Transaction<'_>,
    run: ResponseRunId,
    state: ResponseRunState,
    now: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE respond_runs SET state = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![run, state.as_str(), now])?;
    Ok(())
}

fn set_step_state(
    tx: &Transaction<'_>,
    run: ResponseRunId,
    index: u32,
    state: StepState,
    next_at: Option<&str>,
    now: &str,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE respond_steps SET state = ?3, next_at = ?4, updated_at = ?5
         WHERE run = ?1 AND idx = ?2",
    )?
    .execute(params![run, index, state.as_str(), next_at, now])?;
    Ok(())
}

/// Makes the first pending step of `phase` after `after` the current one (queued, or
/// awaiting approval); with none left, finishes the run.
fn advance(
    tx: &Transaction<'_>,
    run: ResponseRunId,
    phase: StepPhase,
    after: Option<u32>,
    at: DateTime<Utc>,
) -> rusqlite::Result<ResponseRunState> {
    let now = time_text(at);
    let next: Option<(u32, String)> = tx
        .prepare_cached(
            "SELECT idx, policy FROM respond_steps
             WHERE run = ?1 AND phase = ?2 AND state = 'pending' AND idx > ?3
             ORDER BY idx LIMIT 1",
        )?
        .query_row(
            params![run, phase.as_str(), after.map_or(-1, i64::from)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((index, policy)) = next else {
        let state = match phase {
            StepPhase::Forward => ResponseRunState::Succeeded,
            StepPhase::Compensation => ResponseRunState::Compensated,
        };
        set_run_state(tx, run, state, &now)?;
        chain::append(
            tx,
            at,
            RUNNER_ACTOR,
            "run.finished",
            &subject_run(run),
            &json!({ "state": state }),
        )?;
        return Ok(state);
    };
    let policy: StepPolicy = json_of(&policy)?;
    let running = match phase {
        StepPhase::Forward => ResponseRunState::Running,
        StepPhase::Compensation => ResponseRunState::Compensating,
    };
    match &policy.approval {
        Some(approval) => {
            let deadline = approval.timeout_ms.map(|ms| {
                time_text(at + ChronoDuration::milliseconds(ms.min(i64::MAX as u64) as i64))
            });
            set_step_state(
                tx,
                run,
                index,
                StepState::AwaitingApproval,
                deadline.as_deref(),
                &now,
            )?;
            let state = if phase == StepPhase::Forward {
                ResponseRunState::AwaitingApproval
            } else {
                running
            };
            set_run_state(tx, run, state, &now)?;
            chain::append(
                tx,
                at,
                RUNNER_ACTOR,
                "step.awaiting_approval",
                &subject_step(run, index),
                &json!({ "role": approval.role, "deadline": deadline, "default": approval.default }),
            )?;
            Ok(state)
        }
        None => {
            set_step_state(tx, run, index, StepState::Queued, Some(&now), &now)?;
            set_run_state(tx, run, running, &now)?;
            Ok(running)
        }
    }
}

/// Ends a run whose step failed or was rejected: its later pending steps are skipped.
fn end_run(
    tx: &Transaction<'_>,
    run: ResponseRunId,
    phase: StepPhase,
    state: ResponseRunState,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let now = time_text(at);
    tx.prepare_cached(
        "UPDATE respond_steps SET state = 'skipped', updated_at = ?3
         WHERE run = ?1 AND phase = ?2 AND state = 'pending'",
    )?
    .execute(params![run, phase.as_str(), now])?;
    set_run_state(tx, run, state, &now)?;
    chain::append(
        tx,
        at,
        RUNNER_ACTOR,
        "run.finished",
        &subject_run(run),
        &json!({ "state": state }),
    )?;
    Ok(())
}

fn insert_steps(
    tx: &Transaction<'_>,
    run: ResponseRunId,
    first: u32,
    phase: StepPhase,
    steps: &[NewResponseStep],
    state: StepState,
    now: &str,
) -> std::result::Result<(), Fail> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO respond_steps (run, idx, phase, step_id, title, d3fend, state, request,
         idempotency_key, target, policy, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for (offset, step) in steps.iter().enumerate() {
        let policy = serde_json::to_string(&step.policy)
            .map_err(|e| refused(format!("step {}: {e}", step.step_id)))?;
        insert.execute(params![
            run,
            first + offset as u32,
            phase.as_str(),
            step.step_id,
            step.title,
            step.d3fend,
            state.as_str(),
            step.request.to_string(),
            step.idempotency_key,
            step.target,
            policy,
            now,
        ])?;
    }
    Ok(())
}

impl SqliteStore {
    fn respond_write<T>(
        &mut self,
        work: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, Fail>,
    ) -> Result<T> {
        let (path, busy) = (self.path.clone(), self.busy_ms);
        let tx =
            write_transaction(&mut self.conn).map_err(|e| StoreError::sqlite(&path, e, busy))?;
        let value = work(&tx).map_err(|e| match e {
            Fail::Sql(e) => StoreError::sqlite(&path, e, busy),
            Fail::Kind(kind) => StoreError::new(&path, kind),
        })?;
        tx.commit()
            .map_err(|e| StoreError::sqlite(&path, e, busy))?;
        Ok(value)
    }

    /// Creates a run and its steps in one transaction, with its audit entries. The
    /// steps are made by `steps`, given the new run's id (templates may name it); when
    /// it fails nothing is written and its error is returned inside `Ok`. A live run's
    /// first step becomes due at once (or waits for approval); a dry run's steps are
    /// recorded as previewed, with their requests, and the run is finished.
    pub fn create_response_run<E>(
        &mut self,
        new: &NewResponseRun,
        steps: impl FnOnce(ResponseRunId) -> std::result::Result<Vec<NewResponseStep>, E>,
    ) -> Result<std::result::Result<ResponseRunId, E>> {
        let at = Utc::now();
        let (path, busy) = (self.path.clone(), self.busy_ms);
        let fail = |e: Fail| match e {
            Fail::Sql(e) => StoreError::sqlite(&path, e, busy),
            Fail::Kind(kind) => StoreError::new(&path, kind),
        };
        let tx = write_transaction(&mut self.conn).map_err(|e| fail(Fail::Sql(e)))?;
        let now = time_text(at);
        let state = match new.mode {
            RunMode::Live => ResponseRunState::Running,
            RunMode::DryRun => ResponseRunState::Previewed,
        };
        tx.execute(
            "INSERT INTO respond_runs (playbook_id, playbook_digest, playbook, subject_kind,
             subject_id, inputs, mode, state, started_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            params![
                new.playbook_id,
                new.playbook_digest,
                new.playbook.to_string(),
                new.subject_kind,
                new.subject_id,
                new.inputs.to_string(),
                new.mode.as_str(),
                state.as_str(),
                new.started_by,
                now,
            ],
        )
        .map_err(|e| fail(Fail::Sql(e)))?;
        let run = tx.last_insert_rowid();
        let steps = match steps(run) {
            Ok(steps) => steps,
            // Nothing of the run is kept: the transaction is dropped, not committed.
            Err(e) => return Ok(Err(e)),
        };
        create_steps(&tx, new, run, &steps, at).map_err(fail)?;
        tx.commit().map_err(|e| fail(Fail::Sql(e)))?;
        Ok(Ok(run))
    }

    /// Runs, newest first.
    pub fn response_runs(&self, query: &ResponseRunQuery) -> Result<Vec<ResponseRun>> {
        let mut sql = format!("SELECT {RUN_COLUMNS} FROM respond_runs WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if let Some(state) = query.state {
            sql.push_str(" AND state = ?");
            args.push(state.as_str().to_owned());
        }
        if query.unfinished {
            sql.push_str(" AND state IN ('running', 'awaiting_approval', 'compensating')");
        }
        sql.push_str(" ORDER BY id DESC");
        if let Some(limit) = query.limit {
            sql.push_str(&format!(" LIMIT {}", limit.min(i64::MAX as usize)));
        }
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let runs = statement
            .query_map(rusqlite::params_from_iter(args.iter()), run_of)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(runs)
    }

    /// The newest live run of `playbook_id` for this subject, if any: what automatic
    /// starts look at so that one playbook runs once per alert or incident.
    pub fn live_response_run_of(
        &self,
        playbook_id: &str,
        subject_kind: &str,
        subject_id: &str,
    ) -> Result<Option<ResponseRunId>> {
        self.conn
            .query_row(
                "SELECT id FROM respond_runs WHERE playbook_id = ?1 AND subject_kind = ?2
                 AND subject_id = ?3 AND mode = 'live' ORDER BY id DESC LIMIT 1",
                params![playbook_id, subject_kind, subject_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// How many runs are in each state.
    pub fn response_run_counts(&self) -> Result<Vec<(ResponseRunState, u64)>> {
        let mut statement = self
            .conn
            .prepare("SELECT state, COUNT(*) FROM respond_runs GROUP BY state ORDER BY state")
            .map_err(|e| self.err(e))?;
        let counts = statement
            .query_map([], |row| {
                Ok((
                    parse(&row.get::<_, String>(0)?)?,
                    row.get::<_, i64>(1)? as u64,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(counts)
    }

    /// One run with its playbook snapshot, steps and decisions.
    pub fn response_run(&self, run: ResponseRunId) -> Result<Option<ResponseRunDetail>> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS}, playbook FROM respond_runs WHERE id = ?1"),
                params![run],
                |row| Ok((run_of(row)?, json_of::<Value>(&row.get::<_, String>(11)?)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((record, playbook)) = found else {
            return Ok(None);
        };
        let steps = self
            .conn
            .prepare(&format!(
                "SELECT {STEP_COLUMNS} FROM respond_steps WHERE run = ?1 ORDER BY idx"
            ))
            .and_then(|mut s| {
                s.query_map(params![run], step_of)
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            })
            .map_err(|e| self.err(e))?;
        let approvals = self
            .conn
            .prepare(
                "SELECT idx, decision, actor, role, at, reason FROM respond_approvals
                 WHERE run = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map(params![run], |row| {
                    Ok(ApprovalRecord {
                        index: row.get(0)?,
                        decision: parse(&row.get::<_, String>(1)?)?,
                        actor: row.get(2)?,
                        role: row.get::<_, String>(3)?.parse().map_err(
                            |e: crate::access::UnknownRole| {
                                rusqlite::Error::FromSqlConversionFailure(
                                    3,
                                    rusqlite::types::Type::Text,
                                    e.into(),
                                )
                            },
                        )?,
                        at: time_of(&row.get::<_, String>(4)?)?,
                        reason: row.get(5)?,
                    })
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            })
            .map_err(|e| self.err(e))?;
        Ok(Some(ResponseRunDetail {
            run: record,
            playbook,
            steps,
            approvals,
        }))
    }

    /// The targets that have queued steps, each with its earliest due time: what a
    /// runner chooses from, target by target, so one slow target cannot hold the
    /// queue.
    pub fn response_queue_targets(&self) -> Result<Vec<(String, DateTime<Utc>)>> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT target, MIN(next_at) FROM respond_steps WHERE state = 'queued'
                 GROUP BY target",
            )
            .map_err(|e| self.err(e))?;
        let targets = statement
            .query_map([], |row| {
                let next: Option<String> = row.get(1)?;
                Ok((
                    row.get::<_, String>(0)?,
                    next.as_deref()
                        .and_then(parse_time)
                        .unwrap_or_else(Utc::now),
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(targets)
    }

    /// Takes up to `n` due steps of each target (oldest due first) and commits their
    /// intent in one transaction: each becomes `in_flight` with its attempt counted
    /// (a resend after a crash keeps its attempt), and an audit entry records the
    /// request about to be sent. Only after this returns may they be sent.
    pub fn claim_response_steps(
        &mut self,
        now: DateTime<Utc>,
        allowance: &[(String, usize)],
    ) -> Result<Vec<ClaimedStep>> {
        self.respond_write(|tx| {
            let due = time_text(now);
            let mut claimed = Vec::new();
            for (target, n) in allowance {
                if *n == 0 {
                    continue;
                }
                let rows: Vec<(ResponseStep, bool)> = tx
                    .prepare_cached(&format!(
                        "SELECT {STEP_COLUMNS}, resend FROM respond_steps
                         WHERE state = 'queued' AND target = ?1 AND next_at <= ?2
                         ORDER BY next_at, run, idx LIMIT ?3"
                    ))?
                    .query_map(
                        params![target, due, (*n).min(i64::MAX as usize) as i64],
                        |row| Ok((step_of(row)?, row.get::<_, bool>(15)?)),
                    )?
                    .collect::<rusqlite::Result<_>>()?;
                for (step, resend) in rows {
                    let attempt = if resend {
                        step.attempts.max(1)
                    } else {
                        step.attempts + 1
                    };
                    tx.prepare_cached(
                        "UPDATE respond_steps SET state = 'in_flight', attempts = ?3,
                         resend = 0, updated_at = ?4 WHERE run = ?1 AND idx = ?2",
                    )?
                    .execute(params![step.run, step.index, attempt, due])?;
                    chain::append(
                        tx,
                        now,
                        RUNNER_ACTOR,
                        if resend { "step.resend" } else { "step.intent" },
                        &subject_step(step.run, step.index),
                        &json!({
                            "step": step.step_id,
                            "attempt": attempt,
                            "idempotency_key": step.idempotency_key,
                            "target": step.target,
                            "request": step.request,
                        }),
                    )?;
                    claimed.push(ClaimedStep {
                        run: step.run,
                        index: step.index,
                        request: step.request,
                        idempotency_key: step.idempotency_key,
                        target: step.target,
                        policy: step.policy,
                        attempt,
                        resend,
                    });
                }
            }
            Ok(claimed)
        })
    }

    /// Records attempts' outcomes in one transaction, each with its audit entry, and
    /// moves their runs on: a done step makes the next one due (or finishes the run),
    /// a failed one fails its run, a retry waits for its time. An outcome for a step
    /// that is no longer in flight (its run was cancelled meanwhile) is recorded
    /// without moving the run.
    pub fn record_step_outcomes(&mut self, outcomes: &[StepOutcome]) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let at = Utc::now();
        self.respond_write(|tx| {
            let now = time_text(at);
            for outcome in outcomes {
                let step = load_step(tx, outcome.run, outcome.index)?;
                let run = load_run(tx, outcome.run)?;
                let subject = subject_step(outcome.run, outcome.index);
                tx.prepare_cached(
                    "UPDATE respond_steps SET outcome = ?3 WHERE run = ?1 AND idx = ?2",
                )?
                .execute(params![
                    outcome.run,
                    outcome.index,
                    outcome.outcome.to_string()
                ])?;
                let live = step.state == StepState::InFlight && !run.state.is_finished();
                let (action, state, next_at) = match outcome.result {
                    StepResult::Done => ("step.outcome", StepState::Done, None),
                    StepResult::Failed => ("step.outcome", StepState::Failed, None),
                    StepResult::Retry(when) if live => {
                        ("step.retry", StepState::Queued, Some(time_text(when)))
                    }
                    // A retry of a cancelled run's step is not made.
                    StepResult::Retry(_) => ("step.outcome", StepState::Cancelled, None),
                };
                chain::append(
                    tx,
                    at,
                    RUNNER_ACTOR,
                    action,
                    &subject,
                    &json!({
                        "step": step.step_id,
                        "attempt": step.attempts,
                        "state": state,
                        "next_at": next_at,
                        "outcome": outcome.outcome,
                    }),
                )?;
                if step.state != StepState::InFlight {
                    continue;
                }
                set_step_state(
                    tx,
                    outcome.run,
                    outcome.index,
                    state,
                    next_at.as_deref(),
                    &now,
                )?;
                if !live {
                    continue;
                }
                match state {
                    StepState::Done => {
                        advance(tx, outcome.run, step.phase, Some(step.index), at)?;
                    }
                    StepState::Failed => {
                        let end = match step.phase {
                            StepPhase::Forward => ResponseRunState::Failed,
                            StepPhase::Compensation => ResponseRunState::CompensationFailed,
                        };
                        end_run(tx, outcome.run, step.phase, end, at)?;
                    }
                    _ => {}
                }
            }
            Ok(())
        })
    }

    /// Puts back in the queue every step left `in_flight` by a runner that stopped
    /// before committing its outcome, marked to be sent again with the same
    /// idempotency key. Only a runner starting (the sole runner of this store) may
    /// call this. A cancelled run's step is not sent again: it is recorded cancelled,
    /// its outcome unknown. Returns how many steps were put back.
    pub fn requeue_in_flight(&mut self) -> Result<u64> {
        let at = Utc::now();
        self.respond_write(|tx| {
            let now = time_text(at);
            let rows: Vec<(ResponseRunId, u32, String, String)> = tx
                .prepare(
                    "SELECT s.run, s.idx, s.step_id, r.state FROM respond_steps s
                     JOIN respond_runs r ON r.id = s.run WHERE s.state = 'in_flight'
                     ORDER BY s.run, s.idx",
                )?
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut count = 0;
            for (run, index, step_id, run_state) in rows {
                let run_state: ResponseRunState = parse(&run_state)?;
                if run_state.is_finished() {
                    set_step_state(tx, run, index, StepState::Cancelled, None, &now)?;
                    chain::append(
                        tx,
                        at,
                        RUNNER_ACTOR,
                        "step.abandoned",
                        &subject_step(run, index),
                        &json!({ "step": step_id, "reason": "in flight when the runner stopped; its run is finished, so it is not sent again; its outcome is unknown" }),
                    )?;
                    continue;
                }
                tx.prepare_cached(
                    "UPDATE respond_steps SET state = 'queued', resend = 1, next_at = ?3,
                     updated_at = ?3 WHERE run = ?1 AND idx = ?2",
                )?
                .execute(params![run, index, now])?;
                chain::append(
                    tx,
                    at,
                    RUNNER_ACTOR,
                    "step.resumed",
                    &subject_step(run, index),
                    &json!({ "step": step_id, "reason": "in flight when the runner stopped; sent again with the same idempotency key" }),
                )?;
                count += 1;
            }
            Ok(count)
        })
    }

    /// An analyst's decision on a step awaiting approval: `step` is its position or
    /// its playbook id. Refused when the step is not awaiting approval or `role` is
    /// below the step's. Approving makes it due; rejecting ends the run (`rejected`).
    /// The decision, who made it and with which role, is stored and audited.
    pub fn decide_response_step(
        &mut self,
        run: ResponseRunId,
        step: &str,
        decision: Decision,
        actor: &str,
        role: Role,
        reason: Option<&str>,
    ) -> Result<ResponseStep> {
        let at = Utc::now();
        self.respond_write(|tx| {
            load_run(tx, run)?;
            let index: u32 = match step.trim().parse::<u32>() {
                Ok(index) => index,
                Err(_) => tx
                    .query_row(
                        "SELECT idx FROM respond_steps WHERE run = ?1 AND step_id = ?2
                         ORDER BY state != 'awaiting_approval', idx LIMIT 1",
                        params![run, step],
                        |row| row.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| {
                        Fail::Kind(StoreErrorKind::NotFound(format!(
                            "step {step:?} in response run {run}"
                        )))
                    })?,
            };
            let current = load_step(tx, run, index)?;
            if current.state != StepState::AwaitingApproval {
                return Err(refused(format!(
                    "step {index} of run {run} is {}, not awaiting approval",
                    current.state
                )));
            }
            let needed = current
                .policy
                .approval
                .as_ref()
                .map_or(Role::Analyst, |a| a.role);
            if !role_at_least(role, needed) {
                return Err(refused(format!(
                    "step {index} of run {run} needs the role {needed} or above to decide, not {role}"
                )));
            }
            decide_in(tx, &current, decision, actor, role, reason, at)?;
            load_step(tx, run, index)
        })
    }

    /// Applies the default decision to every approval whose deadline has passed
    /// (actor `rampart`, reason `timeout`). Returns how many.
    pub fn expire_approvals(&mut self, now: DateTime<Utc>) -> Result<u64> {
        self.respond_write(|tx| {
            let due: Vec<ResponseStep> = tx
                .prepare_cached(&format!(
                    "SELECT {STEP_COLUMNS} FROM respond_steps
                     WHERE state = 'awaiting_approval' AND next_at IS NOT NULL AND next_at <= ?1"
                ))?
                .query_map(params![time_text(now)], step_of)?
                .collect::<rusqlite::Result<_>>()?;
            for step in &due {
                let default = step
                    .policy
                    .approval
                    .as_ref()
                    .map_or(Decision::Reject, |a| a.default);
                decide_in(
                    tx,
                    step,
                    default,
                    RUNNER_ACTOR,
                    Role::Admin,
                    Some("timeout"),
                    now,
                )?;
            }
            Ok(due.len() as u64)
        })
    }

    /// The earliest approval deadline, if any step awaits one.
    pub fn next_approval_deadline(&self) -> Result<Option<DateTime<Utc>>> {
        let next: Option<String> = self
            .conn
            .query_row(
                "SELECT MIN(next_at) FROM respond_steps WHERE state = 'awaiting_approval'",
                [],
                |row| row.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(next.as_deref().and_then(parse_time))
    }

    /// Cancels an unfinished run: its pending, queued and awaiting steps are cancelled
    /// (a step being sent right now still gets its outcome recorded). Refused when the
    /// run is finished.
    pub fn cancel_response_run(
        &mut self,
        run: ResponseRunId,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<ResponseRun> {
        let at = Utc::now();
        self.respond_write(|tx| {
            let record = load_run(tx, run)?;
            if record.state.is_finished() {
                return Err(refused(format!(
                    "run {run} is {}; only an unfinished run can be cancelled",
                    record.state
                )));
            }
            let now = time_text(at);
            let cancelled = tx.execute(
                "UPDATE respond_steps SET state = 'cancelled', next_at = NULL, updated_at = ?2
                 WHERE run = ?1 AND state IN ('pending', 'queued', 'awaiting_approval')",
                params![run, now],
            )?;
            set_run_state(tx, run, ResponseRunState::Cancelled, &now)?;
            chain::append(
                tx,
                at,
                actor,
                "run.cancelled",
                &subject_run(run),
                &json!({ "reason": reason, "steps_cancelled": cancelled, "was": record.state }),
            )?;
            load_run(tx, run)
        })
    }

    /// Adds compensating steps to a finished live run (the caller gives them, newest
    /// done step's first) and makes the first due. Refused for a dry run, an
    /// unfinished run, or one compensated already.
    pub fn compensate_response_run(
        &mut self,
        run: ResponseRunId,
        actor: &str,
        steps: &[NewResponseStep],
    ) -> Result<ResponseRun> {
        let at = Utc::now();
        self.respond_write(|tx| {
            let record = load_run(tx, run)?;
            if record.mode == RunMode::DryRun {
                return Err(refused(format!("run {run} is a dry run: it changed nothing")));
            }
            if !record.state.is_finished() {
                return Err(refused(format!(
                    "run {run} is {}: cancel it first",
                    record.state
                )));
            }
            let compensated: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM respond_steps WHERE run = ?1 AND phase = 'compensation')",
                params![run],
                |row| row.get(0),
            )?;
            if compensated {
                return Err(refused(format!("run {run} was compensated already")));
            }
            if steps.is_empty() {
                return Err(refused(format!(
                    "run {run} has no done step with a compensation"
                )));
            }
            let first: u32 = tx.query_row(
                "SELECT COALESCE(MAX(idx) + 1, 0) FROM respond_steps WHERE run = ?1",
                params![run],
                |row| row.get(0),
            )?;
            let now = time_text(at);
            insert_steps(tx, run, first, StepPhase::Compensation, steps, StepState::Pending, &now)?;
            chain::append(
                tx,
                at,
                actor,
                "run.compensate",
                &subject_run(run),
                &json!({
                    "was": record.state,
                    "steps": steps.iter().map(|s| json!({ "step": s.step_id, "d3fend": s.d3fend, "request": s.request })).collect::<Vec<_>>(),
                }),
            )?;
            advance(tx, run, StepPhase::Compensation, None, at)?;
            load_run(tx, run)
        })
    }
}

/// Role order for decisions: admin ≥ analyst ≥ viewer; an ingest-only token decides
/// nothing.
fn role_at_least(role: Role, needed: Role) -> bool {
    fn rank(role: Role) -> u8 {
        match role {
            Role::IngestOnly => 0,
            Role::Viewer => 1,
            Role::Analyst => 2,
            Role::Admin => 3,
        }
    }
    rank(role) >= rank(needed) && role != Role::IngestOnly
}

fn decide_in(
    tx: &Transaction<'_>,
    step: &ResponseStep,
    decision: Decision,
    actor: &str,
    role: Role,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> std::result::Result<(), Fail> {
    let now = time_text(at);
    tx.execute(
        "INSERT INTO respond_approvals (run, idx, decision, actor, role, at, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            step.run,
            step.index,
            decision.as_str(),
            actor,
            role.as_str(),
            now,
            reason
        ],
    )?;
    chain::append(
        tx,
        at,
        actor,
        "approval",
        &subject_step(step.run, step.index),
        &json!({ "step": step.step_id, "decision": decision, "role": role, "reason": reason }),
    )?;
    let running = match step.phase {
        StepPhase::Forward => ResponseRunState::Running,
        StepPhase::Compensation => ResponseRunState::Compensating,
    };
    match decision {
        Decision::Approve => {
            set_step_state(
                tx,
                step.run,
                step.index,
                StepState::Queued,
                Some(&now),
                &now,
            )?;
            set_run_state(tx, step.run, running, &now)?;
        }
        Decision::Reject => {
            set_step_state(tx, step.run, step.index, StepState::Rejected, None, &now)?;
            let end = match step.phase {
                StepPhase::Forward => ResponseRunState::Rejected,
                StepPhase::Compensation => ResponseRunState::CompensationFailed,
            };
            end_run(tx, step.run, step.phase, end, at)?;
        }
    }
    Ok(())
}

/// The audit entries and steps of a run just inserted.
fn create_steps(
    tx: &Transaction<'_>,
    new: &NewResponseRun,
    run: ResponseRunId,
    steps: &[NewResponseStep],
    at: DateTime<Utc>,
) -> std::result::Result<(), Fail> {
    let now = time_text(at);
    chain::append(
        tx,
        at,
        &new.started_by,
        "run.created",
        &subject_run(run),
        &json!({
            "playbook": new.playbook_id,
            "playbook_digest": new.playbook_digest,
            "subject": { "kind": new.subject_kind, "id": new.subject_id },
            "mode": new.mode,
            "inputs": new.inputs,
            "steps": steps.iter().map(|s| &s.step_id).collect::<Vec<_>>(),
        }),
    )?;
    match new.mode {
        RunMode::DryRun => {
            insert_steps(
                tx,
                run,
                0,
                StepPhase::Forward,
                steps,
                StepState::Previewed,
                &now,
            )?;
            for (index, step) in steps.iter().enumerate() {
                chain::append(
                    tx,
                    at,
                    &new.started_by,
                    "step.previewed",
                    &subject_step(run, index as u32),
                    &json!({ "step": step.step_id, "request": step.request }),
                )?;
            }
        }
        RunMode::Live => {
            if steps.is_empty() {
                return Err(refused("a playbook without steps cannot run"));
            }
            insert_steps(
                tx,
                run,
                0,
                StepPhase::Forward,
                steps,
                StepState::Pending,
                &now,
            )?;
            advance(tx, run, StepPhase::Forward, None, at)?;
        }
    }
    Ok(())
}
