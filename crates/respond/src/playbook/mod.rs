//! The playbook format, version 1.
//!
//! A playbook is a YAML document:
//!
//! ```yaml
//! rampart_playbook: 1                  # format version; other values are refused
//! id: credential-dumping-contain       # unique among loaded playbooks
//! title: Contain credential dumping
//! description: …
//! trigger:                             # every given criterion must hold
//!   on: incident                       # or: alert
//!   techniques: [T1003]                # any of; a sub-technique matches its parent
//!   tactics: [credential-access]       # any of
//!   rules: [<rule id>]                 # any of
//!   min_level: high
//!   min_score: 50                      # incidents only
//!   hosts: ["WS-*"]                    # globs, any of
//!   pyramid: [ttps, tools]             # pyramid-of-pain levels, any of
//! inputs:                              # named values taken from the incident/alerts
//!   host: { from: host }
//!   user: { from: user }
//!   pids: { from: field, field: ProcessId }
//! conditions:                          # all must hold, else the run is not started
//!   - { input: host, present: true }
//! steps:
//!   - id: kill
//!     title: End the dumping process
//!     d3fend: D3-PT                    # the D3FEND technique this step implements
//!     stage: containment               # RE&CT stage
//!     react: RA3xxx                    # optional RE&CT response action id
//!     approval: { role: analyst, timeout: 1h, default: reject }
//!     retry: { attempts: 5, backoff: 2s, max_backoff: 5m }
//!     timeout: 30s
//!     action: { command: { program: edr-kill, args: ["--host", "{{ inputs.host }}"] } }
//!     compensate:                      # undoes it; run by "compensate"
//!       d3fend: D3-RUAA
//!       action: { http: { template: webhook, url: "…", body: { … } } }
//! ```
//!
//! Templates (`{{ inputs.NAME }}`, `{{ inputs.NAME[0] }}`, `{{ incident.id }}`,
//! `{{ run.id }}`, `{{ secret.NAME }}`) are rendered by [`crate::action`]; a secret's
//! value never appears in the playbook, a prepared request, the store or the audit.
//!
//! # Reading and checking
//!
//! - [`load_paths`] reads files and folders (`*.yml`, `*.yaml`): YAML (one document,
//!   nesting at most 64 levels, 1 MiB at most), then the version — a
//!   `rampart_playbook` other than [`FORMAT_VERSION`] is refused before anything else is
//!   read, then the JSON Schema ([`schema::SCHEMA_V1`], shipped as
//!   `schema/playbook-v1.schema.json`, draft 2020-12, for editors too), then this model.
//!   Every problem is a [`Diagnostic`] naming file, line and column; the other files
//!   load; of two playbooks with one id the first is kept.
//! - [`lint()`] checks meaning against ATT&CK, D3FEND and RE&CT (see [`lint`]'s module
//!   notes for the list), the connectors' own check (`action::lint`) included: a secret
//!   may stand only in an HTTP URL (a webhook URL is a credential), a header value or
//!   `auth`, never in a body, an e-mail or a command argument.
//! - Durations are a whole number and a unit: `500ms`, `30s`, `5m`, `1h`, `2d`
//!   ([`parse_duration`]); the linter refuses more than 30 days.
//!
//! # Running
//!
//! - [`Trigger::matches_alert`] / [`Trigger::matches_incident`] decide whether a
//!   playbook applies; [`extract_inputs`] gathers its inputs from the incident and its
//!   alerts (distinct, capped; see [`inputs`]); [`failed_conditions`] says which
//!   conditions keep a run from starting.
//!
//! The starter library (credential dumping, ransomware precursors, lateral movement
//! over SMB, malicious scheduled task, phishing payload) is in `playbooks/` at the
//! repository root; each lints clean and is tested on the EVTX corpus.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod diagnostic;
pub mod inputs;
pub mod lint;
pub mod load;
pub mod positions;
pub mod schema;
pub mod trigger;

pub use diagnostic::{Diagnostic, Severity};
pub use inputs::{extract_inputs, failed_conditions, FailedCondition, Inputs, SubjectRef};
pub use lint::{lint, lint_set, LintContext, LintReport};
pub use load::{load_file, load_paths, parse_playbook, LoadedPlaybook, PlaybookSet};

/// The playbook format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// One playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Format version ([`FORMAT_VERSION`]).
    pub rampart_playbook: u32,
    /// Unique id (letters, digits, `-`, `_`, `.`).
    pub id: String,
    /// Human title.
    pub title: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// When it applies.
    pub trigger: Trigger,
    /// Named values taken from the incident or alert.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, InputSpec>,
    /// All must hold for a run to start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Run in order; a step starts when the one before it is done.
    pub steps: Vec<Step>,
}

/// What a playbook is started for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A new or grown incident.
    Incident,
    /// A new alert.
    Alert,
}

/// When a playbook applies: every criterion given must hold; a list holds when any of
/// its entries does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Incident or alert.
    pub on: Subject,
    /// ATT&CK technique ids; a sub-technique matches its parent's id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    /// ATT&CK tactic shortnames.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tactics: Vec<String>,
    /// Sigma rule ids (or `intel:<indicator id>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Lowest level (informational, low, medium, high, critical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_level: Option<String>,
    /// Lowest incident score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f64>,
    /// Host globs (`*`, `?`), compared without case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Pyramid-of-pain levels (as the enricher names them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pyramid: Vec<String>,
}

/// Where an input's values come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// `host`, `user`, `process`, `hashes`, `domains`, `ips`, or `field` (then `field`
    /// names the event field).
    pub from: String,
    /// The event field, for `from: field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A check on an input before a run starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The input checked.
    pub input: String,
    /// The input has (true) or lacks (false) a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// No value of the input is one of these (compared without case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_in: Vec<String>,
    /// Some value of the input matches one of these globs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<String>,
}

/// One step of a playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the playbook.
    pub id: String,
    /// Human title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The D3FEND technique it implements (`D3-PT`, `D3-AL`, …).
    pub d3fend: String,
    /// RE&CT stage: preparation, identification, containment, eradication, recovery,
    /// lessons_learned.
    pub stage: String,
    /// RE&CT response action id (`RA3101`), when one fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub react: Option<String>,
    /// What it does.
    pub action: ActionSpec,
    /// When set, the step waits for an analyst's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// Retries of a failure that may pass.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Deadline of one attempt (`30s`, `2m`); default 30 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Undoes the step; run, newest first, when a run is compensated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensate: Option<Box<Compensation>>,
}

/// The step that undoes another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compensation {
    /// The D3FEND technique it implements (e.g. `D3-RUAA` to unlock an account).
    pub d3fend: String,
    /// Human title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// What it does.
    pub action: ActionSpec,
}

/// A step's action: exactly one connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSpec {
    /// An HTTP request.
    Http(HttpAction),
    /// An e-mail over SMTP.
    Email(EmailAction),
    /// An allow-listed program with an argument vector, never a shell.
    Command(CommandAction),
}

/// An HTTP request; string leaves are templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpAction {
    /// A built-in template (`thehive_alert`, `thehive_case`, `slack`, `teams`,
    /// `webhook`) giving method, headers and body shape; fields below override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Method; default POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// URL (template).
    pub url: String,
    /// Headers (values are templates; `{{ secret.NAME }}` allowed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// JSON body: a YAML value whose strings are templates, each rendered and then
    /// encoded as a JSON string, so event text can never change the body's shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// Authorization from a secret (`bearer` or `basic`), never inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<HttpAuth>,
}

/// Authorization for an HTTP action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpAuth {
    /// `bearer` or `basic`.
    pub scheme: String,
    /// The secret holding the token (`user:password` for basic).
    pub secret: String,
}

/// An e-mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailAction {
    /// Recipients (templates).
    pub to: Vec<String>,
    /// Subject (template).
    pub subject: String,
    /// Plain-text body (template).
    pub body: String,
}

/// An allow-listed program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandAction {
    /// The allow-list entry's name (the responder's configuration maps it to a path).
    pub program: String,
    /// Argument vector; each entry a template rendered to exactly one argument.
    #[serde(default)]
    pub args: Vec<String>,
}

/// An analyst's decision a step waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Lowest role that may decide (`analyst` or `admin`).
    pub role: String,
    /// How long to wait (`1h`); none: wait for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// What a timeout decides: `approve` or `reject` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// Retries of a failure that may pass (timeouts, 5xx, 429, refused connections).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    #[serde(default = "RetryPolicy::default_attempts")]
    pub attempts: u32,
    /// First wait; doubled each time, with jitter.
    #[serde(default = "RetryPolicy::default_backoff")]
    pub backoff: String,
    /// Longest wait.
    #[serde(default = "RetryPolicy::default_max_backoff")]
    pub max_backoff: String,
}

impl RetryPolicy {
    fn default_attempts() -> u32 {
        5
    }
    fn default_backoff() -> String {
        "1s".to_owned()
    }
    fn default_max_backoff() -> String {
        "5m".to_owned()
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: Self::default_attempts(),
            backoff: Self::default_backoff(),
            max_backoff: Self::default_max_backoff(),
        }
    }
}

/// Reads a duration as the format writes it: a whole number and a unit, `ms`, `s`, `m`,
/// `h` or `d` (`500ms`, `30s`, `5m`, `1h`, `2d`). `None` for anything else (no unit,
/// fractions, spaces, overflow).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(Duration::from_millis(number.checked_mul(millis_per_unit)?))
}

impl Step {
    /// The deadline of one attempt: [`Step::timeout`], else 30 s. `None` when the text
    /// does not parse (the linter reports it).
    pub fn timeout_duration(&self) -> Option<Duration> {
        match &self.timeout {
            Some(text) => parse_duration(text),
            None => Some(Duration::from_secs(30)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit_and_nothing_else() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        for bad in [
            "",
            "s",
            "1",
            "1.5s",
            " 1s",
            "1 s",
            "1w",
            "-1s",
            "1S",
            "9999999999s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }
}
