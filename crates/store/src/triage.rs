//! Triage: what analysts do with an alert or incident, and the rules a change obeys.
//!
//! The state moves forward (new → acknowledged → in progress → closed, steps may be
//! skipped); a closed subject may be reopened to in progress. Closing needs a verdict
//! and a reason; reopening clears them (the audit keeps them). Every field a change
//! touches becomes one append-only audit row, written in the same transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest actor, assignee or tag accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Longest reason accepted, in bytes.
pub const MAX_REASON_BYTES: usize = 4 * 1024;
/// Longest comment accepted, in bytes.
pub const MAX_COMMENT_BYTES: usize = 64 * 1024;
/// Most tags one subject may carry.
pub const MAX_TAGS: usize = 64;

/// Where a subject stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum TriageState {
    /// Nobody has looked at it yet.
    #[default]
    New,
    /// Someone has seen it.
    Acknowledged,
    /// Someone is working on it.
    InProgress,
    /// Done, with a verdict.
    Closed,
}

/// How a closed subject was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Malicious activity, rightly detected.
    TruePositive,
    /// Rightly detected, but expected (an admin's tool, a pentest).
    BenignTruePositive,
    /// The rule fired on something it should not have.
    FalsePositive,
}

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
            fn from_str(text: &str) -> Result<Self, String> {
                match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
                    $($name => Ok($variant),)+
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

names!(TriageState, "state",
    TriageState::New => "new",
    TriageState::Acknowledged => "acknowledged",
    TriageState::InProgress => "in-progress",
    TriageState::Closed => "closed");
names!(Verdict, "verdict",
    Verdict::TruePositive => "true-positive",
    Verdict::BenignTruePositive => "benign-true-positive",
    Verdict::FalsePositive => "false-positive");

impl TriageState {
    /// Whether a subject may move from `self` to `to`: forward (skipping allowed), or
    /// closed back to in progress. Staying put is no move and always allowed.
    pub fn may_become(self, to: TriageState) -> bool {
        to >= self || (self == TriageState::Closed && to == TriageState::InProgress)
    }
}

/// What is triaged: an alert or an incident, by its store id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Subject {
    /// An alert (its dedup key).
    Alert(String),
    /// An incident (`INC-…`).
    Incident(String),
}

impl Subject {
    /// `alert` or `incident`, as the store's `subject_kind` column holds it.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Alert(_) => "alert",
            Subject::Incident(_) => "incident",
        }
    }

    /// The subject's id.
    pub fn id(&self) -> &str {
        match self {
            Subject::Alert(id) | Subject::Incident(id) => id,
        }
    }

    pub(crate) fn from_parts(kind: &str, id: String) -> Option<Subject> {
        match kind {
            "alert" => Some(Subject::Alert(id)),
            "incident" => Some(Subject::Incident(id)),
            _ => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

/// One analyst action: every field left `None` (or empty) is left as it is. An unknown
/// field is an error (a misspelt one must not silently change nothing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TriageChange {
    /// The new state.
    pub state: Option<TriageState>,
    /// The verdict: required when closing, refused otherwise.
    pub verdict: Option<Verdict>,
    /// Why: required when closing, refused otherwise.
    pub reason: Option<String>,
    /// `Some(Some(name))` assigns, `Some(None)` unassigns.
    pub assignee: Option<Option<String>>,
    /// Tags to add.
    pub add_tags: Vec<String>,
    /// Tags to remove.
    pub remove_tags: Vec<String>,
    /// A comment to add.
    pub comment: Option<String>,
}

/// Where a subject stands now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageRecord {
    /// What this is about.
    pub subject: Subject,
    /// Its state (`new` when never triaged).
    pub state: TriageState,
    /// Its verdict, when closed.
    pub verdict: Option<Verdict>,
    /// Why it was closed.
    pub reason: Option<String>,
    /// Who works on it.
    pub assignee: Option<String>,
    /// Its tags, sorted.
    pub tags: Vec<String>,
    /// When it was last changed (`None`: never triaged).
    pub updated_at: Option<DateTime<Utc>>,
    /// When it first left `new`.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it was closed (cleared when reopened).
    pub closed_at: Option<DateTime<Utc>>,
}

impl TriageRecord {
    /// A subject nobody has triaged.
    pub fn untouched(subject: Subject) -> Self {
        TriageRecord {
            subject,
            state: TriageState::New,
            verdict: None,
            reason: None,
            assignee: None,
            tags: Vec::new(),
            updated_at: None,
            acknowledged_at: None,
            closed_at: None,
        }
    }
}

/// One append-only audit row: who changed which field of what, when, from → to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Row id (increasing).
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a token's name, `$USER`, `rampart` for the store's own moves).
    pub actor: String,
    /// What.
    pub subject: Subject,
    /// Which field: `state`, `verdict`, `reason`, `assignee`, `tag`, `comment`, or
    /// `incident` when regrouping carried an incident's triage to a new id.
    pub field: String,
    /// The value before (`None`: unset).
    pub from: Option<String>,
    /// The value after (`None`: unset).
    pub to: Option<String>,
}

/// A comment on a subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Comment id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What was said.
    pub text: String,
}

/// Durations over several subjects, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    /// How many subjects have the duration.
    pub count: u64,
    /// Their mean.
    pub mean_secs: Option<f64>,
    /// Their median.
    pub median_secs: Option<f64>,
}

impl DurationStats {
    pub(crate) fn of(mut secs: Vec<f64>) -> Self {
        if secs.is_empty() {
            return DurationStats::default();
        }
        secs.sort_by(f64::total_cmp);
        let n = secs.len();
        let median = if n % 2 == 1 {
            secs[n / 2]
        } else {
            (secs[n / 2 - 1] + secs[n / 2]) / 2.0
        };
        DurationStats {
            count: n as u64,
            mean_secs: Some(secs.iter().sum::<f64>() / n as f64),
            median_secs: Some(median),
        }
    }
}

/// One incident's response times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentMetrics {
    /// Incident id.
    pub id: String,
    /// Its state.
    pub state: TriageState,
    /// When it was stored (its first alert's storing time).
    pub created_at: Option<DateTime<Utc>>,
    /// Seconds from stored to first acknowledged.
    pub time_to_acknowledge_secs: Option<f64>,
    /// Seconds from stored to closed.
    pub time_to_close_secs: Option<f64>,
}

/// One rule's alerts and verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleMetrics {
    /// Rule id.
    pub rule_id: String,
    /// Alerts stored.
    pub alerts: u64,
    /// Alerts with a verdict (their own, else their incident's).
    pub with_verdict: u64,
    /// Of those, true positives.
    pub true_positives: u64,
    /// Of those, benign true positives.
    pub benign_true_positives: u64,
    /// Of those, false positives.
    pub false_positives: u64,
    /// False positives / alerts with a verdict (`None` without verdicts).
    pub false_positive_rate: Option<f64>,
}

/// The feedback a SOC steers by: response times and which rules are noisy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriageMetrics {
    /// Per incident, highest score first.
    pub incidents: Vec<IncidentMetrics>,
    /// Incidents: time to acknowledge.
    pub incident_time_to_acknowledge: DurationStats,
    /// Incidents: time to close.
    pub incident_time_to_close: DurationStats,
    /// Alerts: time to acknowledge.
    pub alert_time_to_acknowledge: DurationStats,
    /// Alerts: time to close.
    pub alert_time_to_close: DurationStats,
    /// Per rule, most false positives first (then most alerts).
    pub rules: Vec<RuleMetrics>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_move_forward_or_reopen() {
        use TriageState::*;
        assert!(New.may_become(Closed));
        assert!(Acknowledged.may_become(InProgress));
        assert!(Closed.may_become(InProgress));
        assert!(!Closed.may_become(New));
        assert!(!Closed.may_become(Acknowledged));
        assert!(!InProgress.may_become(Acknowledged));
    }

    #[test]
    fn names_round_trip() {
        assert_eq!("in_progress".parse(), Ok(TriageState::InProgress));
        assert_eq!(
            "benign-true-positive".parse(),
            Ok(Verdict::BenignTruePositive)
        );
        assert!("done".parse::<TriageState>().is_err());
    }
}
