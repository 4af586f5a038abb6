//! The records the store keeps and the queries it answers, independent of SQL.

use crate::triage::TriageState;
use chrono::{DateTime, Utc};
use rampart_correlate::Incident;
use rampart_event::{Alert, Level};
use serde::{Deserialize, Serialize};

/// Identifies one hunt run in the store.
pub type RunId = i64;

/// What a hunt run is about, recorded when it starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The command line or a short description (`hunt evtx-attack-samples`).
    pub command: String,
    /// Input paths as given.
    pub inputs: Vec<String>,
    /// Rule folders as given.
    pub rule_sources: Vec<String>,
}

/// How a hunt run ended, recorded when it finishes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Files read.
    pub files: u64,
    /// Events read.
    pub events: u64,
    /// Rules loaded.
    pub rules_loaded: u64,
    /// Alerts the engine produced (before deduplication against the store).
    pub alerts: u64,
}

/// A run as kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run id.
    pub id: RunId,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished; `None` for a run that was interrupted (or is still going).
    pub finished_at: Option<DateTime<Utc>>,
    /// What it was.
    pub info: RunInfo,
    /// How it ended, when it did.
    pub summary: Option<RunSummary>,
    /// Alerts this run added to the store (committed).
    pub alerts_added: u64,
}

/// A rule the store has seen loaded, with the techniques it claims to detect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Rule title.
    pub title: String,
    /// Rule level.
    pub level: Level,
    /// ATT&CK technique ids from its tags.
    pub techniques: Vec<String>,
}

/// What one batch insert did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsertOutcome {
    /// Alerts added (committed when the call returns).
    pub inserted: u64,
    /// Alerts already in the store (same dedup key), left as they were.
    pub duplicates: u64,
    /// Indices (into the slice given) of the alerts added, in order; an alert repeated
    /// within the slice counts at its first place only.
    pub added: Vec<usize>,
}

/// An alert as kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    /// Its dedup key, which is also its id (see [`crate::dedup_key`]).
    pub id: String,
    /// The run that first stored it.
    pub run: RunId,
    /// The alert.
    pub alert: Alert,
    /// Its triage state (`new` when nobody has triaged it).
    #[serde(default)]
    pub state: TriageState,
}

/// Filters for listing alerts; every set filter must hold. Build it with
/// `AlertQuery { host: Some(..), ..AlertQuery::default() }`: fields are added over time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertQuery {
    /// Only alerts whose event time is at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Only alerts whose event time is before this.
    pub until: Option<DateTime<Utc>>,
    /// Only alerts of this rule id (any case).
    pub rule: Option<String>,
    /// Only alerts in this triage state.
    pub state: Option<TriageState>,
    /// Skip this many matching alerts first (pagination).
    pub offset: Option<usize>,
    /// Only alerts at this level or above.
    pub min_level: Option<Level>,
    /// Only alerts tagged with this technique or one of its sub-techniques.
    pub technique: Option<String>,
    /// Only alerts from this host (case-insensitive).
    pub host: Option<String>,
    /// At most this many alerts (newest event time last; all when `None`).
    pub limit: Option<usize>,
}

/// Filters for listing incidents; every set filter must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentQuery {
    /// Only incidents in this triage state.
    pub state: Option<TriageState>,
    /// Only incidents of this host (any case).
    pub host: Option<String>,
    /// Skip this many matching incidents first (pagination).
    pub offset: Option<usize>,
    /// At most this many incidents (all when `None`).
    pub limit: Option<usize>,
}

/// An incident as kept in the store, with where its triage stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredIncident {
    /// The incident.
    pub incident: Incident,
    /// Its triage state.
    pub state: TriageState,
    /// When it was stored (its first alert's storing time).
    pub created_at: Option<DateTime<Utc>>,
}
