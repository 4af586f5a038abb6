//! Connectors: a step's action is first *prepared* — its templates rendered with the
//! run's values into a [`PreparedRequest`], secrets left as references — and only then
//! *sent*. The prepared request is what a dry run shows, what the store keeps as the
//! step's intent before it is sent, and (redacted) what the audit records; the secret
//! values are put in only by [`Connector::send`], on the way out.
//!
//! # Connectors
//! - **HTTP** ([`http`]): any method, URL, headers, JSON body and bearer or basic auth
//!   from a secret; TLS verified (web PKI roots plus a private `ca_file`), redirects
//!   never followed; built-in templates for TheHive alerts and cases, Slack and Teams
//!   incoming webhooks and a generic webhook ([`prepare::BuiltIn`]).
//! - **E-mail** ([`email`]): SMTP to one relay (STARTTLS or TLS; plain only to a
//!   loopback relay), auth from a secret, `Message-ID` from the idempotency key.
//! - **Command** ([`command`]): a program from the configured allow-list, run with an
//!   argument vector (never a shell), a clean environment, no stdin, capped output, and
//!   killed with its process group at the timeout.
//!
//! # Templates
//! `{{ inputs.NAME }}`, `{{ inputs.NAME[0] }}`, `{{ incident.id }}`, `{{ run.id }}`,
//! `{{ step.id }}`, `{{ playbook.id }}` and `{{ secret.NAME }}` — substitution only
//! ([`template`]); an unknown name is an error. Where a value lands decides how it is
//! written ([`template::Field`]): percent-encoded whole in a URL, refused in a header
//! when it holds a control character, one JSON string in a body (a body's string leaves
//! are rendered one by one, so event text can never change the body's shape), one line
//! in an e-mail subject, one argument of a command — refused there when it would start
//! with `-` before a literal `--`, so event text never becomes an option.
//!
//! [`lint()`] finds what `prepare` would refuse whatever the values (undeclared inputs,
//! misplaced secrets, URLs not starting with `http(s)://` or a secret, command
//! arguments led by a value before `--`), for the playbook linter.
//!
//! # Secrets and redaction
//! Secrets ([`Secrets`]) come from a secrets file (owner-only on Unix) and
//! `RAMPART_SECRET_<NAME>` variables, never from a playbook. They may stand only in a
//! URL, a header or `auth`; a prepared request keeps `{{ secret.NAME }}`, and
//! [`Connector::send`] puts the value in. Everything shown, stored or audited passes
//! [`Secrets::redact`]: every secret value, and its base64, JSON and percent-encoded
//! forms, becomes `[secret:NAME]`.
//!
//! # Idempotency
//! Every request carries [`idempotency_key`] (playbook, subject, step, a digest of the
//! inputs) to the peer: as the `Idempotency-Key` header, inside the e-mail `Message-ID`,
//! as `RAMPART_IDEMPOTENCY_KEY` in a command's environment. A step sent again after a
//! crash carries the same key, so a peer that remembers keys acts on it once; the engine
//! sends a step again only when no outcome of it was recorded.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod command;
pub mod email;
pub mod http;
pub mod lint;
pub mod prepare;
pub mod secrets;
pub mod template;

mod connectors;

pub use connectors::{dry_run, ConnectorConfig, Connectors, HttpConfig, SmtpConfig, SmtpTls};
pub use lint::{lint, Problem, Severity};
pub use prepare::prepare;
pub use secrets::Secrets;

/// The header carrying the idempotency key (as Stripe-style APIs name it).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// The environment variable carrying the idempotency key to a command.
pub const IDEMPOTENCY_ENV: &str = "RAMPART_IDEMPOTENCY_KEY";

/// The most of a peer's answer an [`Outcome`] keeps (bytes).
pub const RESPONSE_CAP: usize = 4096;

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
