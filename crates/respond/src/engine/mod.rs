//! Runs: playbooks carried out as durable state machines in the store.
//!
//! [`start_run`] snapshots the playbook (JSON and its SHA-256), prepares every step
//! with the run's values and stores the run with its steps in one transaction; a dry
//! run stops there, its requests recorded. [`Runner`] then sends the steps of live
//! runs from a pool of threads, committing each step's intent before it is sent and
//! its outcome after (see the store's `response` module for the state machine), with
//! retries under the step's policy, a deadline per attempt, a limit of concurrent
//! sends per target, and targets served in turn. [`compensate`] adds the undoing steps
//! of a finished run's done steps, newest first.
//!
//! The queue is the store: a runner holds in memory only the steps it is sending,
//! so any number of waiting runs costs it nothing, and a runner killed at any point
//! resumes every unfinished run when it starts again.

mod runner;

pub use runner::{Runner, RunnerConfig, RunnerStats};

use std::collections::BTreeMap;
use std::time::Duration;

use rampart_store::{
    ApprovalPolicy, Decision, NewResponseRun, NewResponseStep, ResponseRunId, Role, RunMode,
    SqliteStore, StepPhase, StepPolicy, StepState, StoreError,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::action::{idempotency_key, Connector, ConnectorKind, PreparedRequest, RenderContext};
use crate::playbook::{ActionSpec, Playbook, Step};
use crate::RespondError;

/// What the runner needs from the connectors: a step's action prepared into a
/// request (secrets left as references), and the connector that sends each kind.
pub trait Actions: Send + Sync {
    /// Renders `action` (step `step_id` of playbook `playbook`) with the run's values.
    fn prepare(
        &self,
        playbook: &str,
        step_id: &str,
        action: &ActionSpec,
        context: &RenderContext,
    ) -> Result<PreparedRequest, RespondError>;
    /// The connector of a kind, if configured.
    fn connector(&self, kind: ConnectorKind) -> Option<&dyn Connector>;
}

impl Actions for crate::action::Connectors {
    fn prepare(
        &self,
        playbook: &str,
        step_id: &str,
        action: &ActionSpec,
        context: &RenderContext,
    ) -> Result<PreparedRequest, RespondError> {
        crate::action::Connectors::prepare(self, playbook, step_id, action, context)
    }

    fn connector(&self, kind: ConnectorKind) -> Option<&dyn Connector> {
        crate::action::Connectors::connector(self, kind)
    }
}

/// What can go wrong starting, compensating or running runs.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed (its error names the file).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A step could not be prepared; nothing of the run was stored.
    #[error("cannot prepare step {step}")]
    Prepare {
        /// The step.
        step: String,
        /// Why.
        #[source]
        source: RespondError,
    },
    /// A step's policy (timeout, retry, approval) is not valid.
    #[error("step {step}: {message}")]
    Policy {
        /// The step.
        step: String,
        /// What is wrong.
        message: String,
    },
    /// No such run.
    #[error("no response run {0} in the store")]
    NoRun(ResponseRunId),
    /// A run's playbook snapshot cannot be read back.
    #[error("run {run}: its playbook snapshot cannot be read")]
    Snapshot {
        /// The run.
        run: ResponseRunId,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A worker thread could not be started.
    #[error("cannot start a response worker thread")]
    Spawn(#[source] std::io::Error),
}

/// What a run is about.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest<'a> {
    /// The playbook.
    pub playbook: &'a Playbook,
    /// `incident` or `alert`.
    pub subject_kind: &'a str,
    /// The incident's or alert's id.
    pub subject_id: &'a str,
    /// The inputs taken from it.
    pub inputs: &'a BTreeMap<String, Vec<String>>,
    /// Live or dry run.
    pub mode: RunMode,
    /// Who starts it.
    pub started_by: &'a str,
}

/// The SHA-256 (hex) of a playbook's JSON snapshot.
pub fn playbook_digest(snapshot: &Value) -> String {
    hex(&Sha256::digest(snapshot.to_string().as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a run: the playbook snapshot, every step prepared, stored in one
/// transaction with its audit entries. A live run's first step is then due for a
/// runner (or waits for approval); a dry run is finished, its requests recorded.
pub fn start_run(
    store: &mut SqliteStore,
    request: &RunRequest<'_>,
    actions: &dyn Actions,
) -> Result<ResponseRunId, EngineError> {
    let playbook = request.playbook;
    let snapshot =
        serde_json::to_value(playbook).map_err(|e| EngineError::Snapshot { run: 0, source: e })?;
    let mut policies = Vec::with_capacity(playbook.steps.len());
    for step in &playbook.steps {
        policies.push(step_policy(step)?);
    }
    let new = NewResponseRun {
        playbook_id: playbook.id.clone(),
        playbook_digest: playbook_digest(&snapshot),
        playbook: snapshot,
        subject_kind: request.subject_kind.to_owned(),
        subject_id: request.subject_id.to_owned(),
        inputs: serde_json::to_value(request.inputs).unwrap_or(Value::Null),
        mode: request.mode,
        started_by: request.started_by.to_owned(),
    };
    let created = store.create_response_run(&new, |run| {
        let context = RenderContext {
            run_id: run.to_string(),
            subject_id: request.subject_id.to_owned(),
            inputs: request.inputs.clone(),
        };
        let mut steps = Vec::with_capacity(playbook.steps.len());
        for (step, policy) in playbook.steps.iter().zip(&policies) {
            let prepared = prepare(
                actions,
                playbook,
                request.subject_id,
                &step.id,
                &step.action,
                &context,
            )?;
            steps.push(new_step(
                &step.id,
                &step.title,
                &step.d3fend,
                prepared,
                policy.clone(),
            )?);
        }
        Ok(steps)
    })?;
    created
}

/// Prepares one action and gives it the step's idempotency key (playbook, subject,
/// step, inputs), whatever the connector proposed: the key must not depend on the
/// run, so a second run of the same playbook for the same incident is recognised.
fn prepare(
    actions: &dyn Actions,
    playbook: &Playbook,
    subject_id: &str,
    step_id: &str,
    action: &ActionSpec,
    context: &RenderContext,
) -> Result<PreparedRequest, EngineError> {
    let mut prepared = actions
        .prepare(&playbook.id, step_id, action, context)
        .map_err(|source| EngineError::Prepare {
            step: step_id.to_owned(),
            source,
        })?;
    prepared.idempotency_key = idempotency_key(&playbook.id, subject_id, step_id, &context.inputs);
    Ok(prepared)
}

fn new_step(
    step_id: &str,
    title: &str,
    d3fend: &str,
    prepared: PreparedRequest,
    policy: StepPolicy,
) -> Result<NewResponseStep, EngineError> {
    let request = serde_json::to_value(&prepared).map_err(|e| EngineError::Policy {
        step: step_id.to_owned(),
        message: format!("the prepared request cannot be encoded: {e}"),
    })?;
    Ok(NewResponseStep {
        step_id: step_id.to_owned(),
        title: title.to_owned(),
        d3fend: d3fend.to_owned(),
        request,
        idempotency_key: prepared.idempotency_key,
        target: prepared.target,
        policy,
    })
}

/// The default deadline of one attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A step's timeout, retry policy and approval, checked.
pub fn step_policy(step: &Step) -> Result<StepPolicy, EngineError> {
    let bad = |message: String| EngineError::Policy {
        step: step.id.clone(),
        message,
    };
    let duration = |what: &str, text: &str| {
        parse_duration(text)
            .ok_or_else(|| bad(format!("{what} {text:?} is not a duration (30s, 2m, 1h)")))
    };
    let timeout = match &step.timeout {
        Some(text) => duration("timeout", text)?,
        None => DEFAULT_TIMEOUT,
    };
    let approval = match &step.approval {
        None => None,
        Some(approval) => {
            let role: Role = approval
                .role
                .parse()
                .map_err(|e: rampart_store::UnknownRole| bad(e.to_string()))?;
            let timeout_ms = approval
                .timeout
                .as_deref()
                .map(|t| duration("approval timeout", t).map(millis))
                .transpose()?;
            let default = match approval.default.as_deref() {
                None => Decision::Reject,
                Some(text) => text
                    .parse()
                    .map_err(|e: String| bad(format!("approval default: {e}")))?,
            };
            Some(ApprovalPolicy {
                role,
                timeout_ms,
                default,
            })
        }
    };
    Ok(StepPolicy {
        timeout_ms: millis(timeout),
        attempts: step.retry.attempts.max(1),
        backoff_ms: millis(duration("retry backoff", &step.retry.backoff)?),
        max_backoff_ms: millis(duration("retry max_backoff", &step.retry.max_backoff)?),
        approval,
    })
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis().min(u128::from(u64::MAX)) as u64
}

/// `500ms`, `30s`, `2m`, `1h`, `1d`: a whole number and a unit.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    number.checked_mul(unit_ms).map(Duration::from_millis)
}

/// Adds to a finished live run the compensations of its done forward steps, newest
/// first (as the playbook snapshot the run started with describes them), and makes
/// the first due. Returns how many steps were added.
pub fn compensate(
    store: &mut SqliteStore,
    run: ResponseRunId,
    actor: &str,
    actions: &dyn Actions,
) -> Result<usize, EngineError> {
    let detail = store.response_run(run)?.ok_or(EngineError::NoRun(run))?;
    let playbook: Playbook = serde_json::from_value(detail.playbook.clone())
        .map_err(|source| EngineError::Snapshot { run, source })?;
    let inputs: BTreeMap<String, Vec<String>> =
        serde_json::from_value(detail.run.inputs.clone()).unwrap_or_default();
    let context = RenderContext {
        run_id: run.to_string(),
        subject_id: detail.run.subject_id.clone(),
        inputs,
    };
    let mut steps = Vec::new();
    for done in detail
        .steps
        .iter()
        .rev()
        .filter(|s| s.phase == StepPhase::Forward && s.state == StepState::Done)
    {
        let Some(step) = playbook.steps.iter().find(|s| s.id == done.step_id) else {
            continue;
        };
        let Some(compensation) = &step.compensate else {
            continue;
        };
        let step_id = format!("{}.compensate", step.id);
        let prepared = prepare(
            actions,
            &playbook,
            &detail.run.subject_id,
            &step_id,
            &compensation.action,
            &context,
        )?;
        let mut policy = step_policy(step)?;
        // Undoing is not gated again: the run was approved step by step already.
        policy.approval = None;
        let title = if compensation.title.is_empty() {
            format!("undo {}", step.id)
        } else {
            compensation.title.clone()
        };
        steps.push(new_step(
            &step_id,
            &title,
            &compensation.d3fend,
            prepared,
            policy,
        )?);
    }
    store.compensate_response_run(run, actor, &steps)?;
    Ok(steps.len())
}

/// The wait before attempt `attempt + 1`: the policy's backoff doubled per attempt
/// made, capped, with jitter (half fixed, half random, so that runs failing together
/// do not retry together), and never shorter than what the peer asked for.
pub fn retry_delay(policy: &StepPolicy, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let doubling = 1u64 << attempt.saturating_sub(1).min(30);
    let base = policy
        .backoff_ms
        .saturating_mul(doubling)
        .min(policy.max_backoff_ms.max(policy.backoff_ms));
    let half = base / 2;
    let random = getrandom::u64().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64)
    });
    let jittered = half + random % (base - half + 1);
    let asked = retry_after.map_or(0, |d| millis(d).min(3_600_000));
    Duration::from_millis(jittered.max(asked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_within_bounds() {
        let policy = StepPolicy {
            timeout_ms: 1000,
            attempts: 10,
            backoff_ms: 1000,
            max_backoff_ms: 10_000,
            approval: None,
        };
        for _ in 0..50 {
            let first = retry_delay(&policy, 1, None).as_millis();
            assert!((500..=1000).contains(&first), "{first}");
            let third = retry_delay(&policy, 3, None).as_millis();
            assert!((2000..=4000).contains(&third), "{third}");
            let capped = retry_delay(&policy, 20, None).as_millis();
            assert!((5000..=10_000).contains(&capped), "{capped}");
        }
        let asked = retry_delay(&policy, 1, Some(Duration::from_secs(7)));
        assert_eq!(asked, Duration::from_secs(7));
    }
}
