use crate::{EventMeta, Level};
use serde::{Deserialize, Serialize};

mod json_line;

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
}
