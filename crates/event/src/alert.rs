use crate::{EventMeta, Level};
use serde::{Deserialize, Serialize};

mod context;
mod identity;
mod intel;
mod json_line;

pub use context::{
    cap_context, context_fields, ContextField, CONTEXT_FIELDS, CONTEXT_VALUE_CAP, CUT_MARK,
    FULL_EVENT_FIELD_CAP,
};
pub use identity::{alert_id, derived_alert_id, is_alert_id};
pub use intel::{AlertIntel, AlertObservable};
pub use json_line::JsonLineWriter;

/// One field of the event that a rule's selection matched, with the value it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedField {
    /// Field name (Sigma name), or `keywords` for a keyword match.
    pub field: String,
    /// The event's value of that field, as text.
    pub value: String,
}

/// One (rule, event) match: what the detection engine emits and later stages consume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The alert's stable id ([`alert_id`]): the same (rule, event) pair has the same
    /// id in every run, store and output format. Empty only in alerts written by
    /// versions that had none; [`Alert::stable_id`] derives one for them.
    #[serde(default)]
    pub id: String,
    /// Sigma rule id (UUID), or the file name when the rule has none.
    pub rule_id: String,
    /// Rule title.
    pub rule_title: String,
    /// Rule severity.
    pub level: Level,
    /// Rule status (`stable`, `test`, `experimental`, …), as written.
    pub status: Option<String>,
    /// ATT&CK technique ids from the rule's tags, upper-case (`T1059.001`).
    pub techniques: Vec<String>,
    /// ATT&CK tactic shortnames from the rule's tags (`execution`, `credential-access`).
    pub tactics: Vec<String>,
    /// All of the rule's tags, as written.
    pub tags: Vec<String>,
    /// The event's header data (time, host, channel, event id, record id, source file).
    pub event: EventMeta,
    /// The fields and values that made the rule match.
    pub matched: Vec<MatchedField>,
    /// Context from the event: its [`CONTEXT_FIELDS`] (or every field when the whole
    /// event was asked for), values capped.
    #[serde(default)]
    pub context: Vec<ContextField>,
    /// For an alert raised by a threat-intelligence indicator (an IoC hit, `rule_id`
    /// `intel:<indicator id>`): the indicator, its feed and what it indicates. Absent
    /// for rule alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intel: Option<Box<AlertIntel>>,
}

impl Alert {
    /// The alert's id: [`Alert::id`] when it has the shape of one, else derived from
    /// its header and matched values ([`derived_alert_id`]).
    pub fn stable_id(&self) -> String {
        if is_alert_id(&self.id) {
            self.id.clone()
        } else {
            derived_alert_id(self)
        }
    }
}
