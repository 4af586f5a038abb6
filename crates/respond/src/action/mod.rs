//! Connectors: a step's action is first *prepared* — its templates rendered with the
//! run's values into a [`PreparedRequest`], secrets left as references — and only then
//! *sent*. The prepared request is what a dry run shows, what the store keeps as the
//! step's intent before it is sent, and (redacted) what the audit records; the secret
//! values are put in only by [`Connector::send`], on the way out.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The values a step's templates may use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RenderContext {
    /// `{{ run.id }}`.
    pub run_id: String,
    /// `{{ incident.id }}` (or the alert's id for an alert-triggered run).
    pub subject_id: String,
    /// `{{ inputs.NAME }}`: every value of each input (an input with several values
    /// renders as them joined by `, `; `{{ inputs.NAME[0] }}` takes one).
    pub inputs: BTreeMap<String, Vec<String>>,
}

/// Which connector carries a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    /// HTTP(S).
    Http,
    /// SMTP.
    Email,
    /// An allow-listed program.
    Command,
}

/// A request ready to send: everything rendered, secrets still references
/// (`{{ secret.NAME }}` kept as written), so it can be stored, shown and audited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedRequest {
    /// The connector.
    pub connector: ConnectorKind,
    /// What concurrency limits count against: `scheme://host:port` for HTTP,
    /// `smtp://host:port`, `command:NAME`.
    pub target: String,
    /// Sent to the peer (`Idempotency-Key` header, e-mail `Message-ID`, command
    /// environment `RAMPART_IDEMPOTENCY_KEY`), so a resend after a crash is recognised.
    pub idempotency_key: String,
    /// The request itself.
    pub detail: RequestDetail,
}

/// A request's connector-specific part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestDetail {
    /// HTTP.
    Http {
        /// Method.
        method: String,
        /// URL.
        url: String,
        /// Headers, in order.
        headers: Vec<(String, String)>,
        /// Body (JSON text), if any.
        body: Option<String>,
    },
    /// E-mail.
    Email {
        /// From.
        from: String,
        /// To.
        to: Vec<String>,
        /// Subject.
        subject: String,
        /// Body.
        body: String,
    },
    /// Command.
    Command {
        /// Allow-list name.
        program: String,
        /// Arguments, one rendered template each.
        args: Vec<String>,
    },
}

/// How a send ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The peer did it (2xx, mail accepted, exit status 0).
    Done,
    /// A failure that may pass: retried under the step's policy.
    Retry,
    /// A failure that will not pass (4xx but 408/429, bad address, exit status ≠ 0).
    Failed,
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Done, retry or failed.
    pub status: OutcomeStatus,
    /// One line: `HTTP 201`, `250 queued`, `exit 0`, `timed out after 30s`.
    pub summary: String,
    /// The peer's answer, capped (e.g. 4 KiB) and with every secret value redacted.
    pub response: Option<String>,
    /// A wait the peer asked for (`Retry-After`).
    pub retry_after: Option<Duration>,
}

/// One kind of action.
pub trait Connector: Send + Sync {
    /// Sends `request` with the secrets put in, within `timeout`. Never panics; every
    /// failure is an [`Outcome`].
    fn send(&self, request: &PreparedRequest, timeout: Duration) -> Outcome;
}

/// The idempotency key of one step of one run: playbook, subject (incident or alert),
/// step and a digest of the step's rendered inputs — the same step for the same
/// incident and values gives the same key, whichever run or process sends it.
pub fn idempotency_key(
    playbook: &str,
    subject: &str,
    step: &str,
    inputs: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut digest = Sha256::new();
    for part in [playbook, subject, step] {
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part.as_bytes());
    }
    for (name, values) in inputs {
        digest.update((name.len() as u64).to_le_bytes());
        digest.update(name.as_bytes());
        digest.update((values.len() as u64).to_le_bytes());
        for value in values {
            digest.update((value.len() as u64).to_le_bytes());
            digest.update(value.as_bytes());
        }
    }
    let hash = digest.finalize();
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("rampart-{hex}")
}
