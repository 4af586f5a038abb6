//! What an alert raised by a threat-intelligence indicator (an IoC hit) carries about
//! that indicator: which one, from which feed, what it is said to indicate.
//!
//! Defined here rather than in the intelligence crate so that every stage that reads
//! alerts (store, outputs, correlation) knows the shape without depending on it.

use serde::{Deserialize, Serialize};

/// The indicator behind an IoC alert and what the intelligence says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertIntel {
    /// The indicator's id (STIX `indicator--…`, MISP attribute UUID, or a digest).
    pub indicator_id: String,
    /// The feed it came from (`stix:…`, `misp:…`, `taxii:…`, `list:…`).
    pub source: String,
    /// Its name or title, when the feed gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its confidence, 0–100, when the feed gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// Its labels / tags, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Each of its observables (all held in the event) with where it was seen.
    pub observables: Vec<AlertObservable>,
    /// Intrusion sets / threat actors it indicates, as the feed names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
    /// Malware and tools it indicates, as the feed names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub malware: Vec<String>,
    /// ATT&CK ids the feed names for it (techniques, groups, software).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attack_ids: Vec<String>,
    /// Reports, campaigns or events it comes from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<String>,
}

/// One observable of an indicator and the event field it was found in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertObservable {
    /// The observable's kind, as the intelligence crate names it (`sha256`, `ip`,
    /// `domain`, `url`, `email`, `file-name`, `registry-key`, `command-line`, …).
    pub kind: String,
    /// The indicator's value (normalised: `evil.com`, `203.0.113.0/24`).
    pub value: String,
    /// The event field it was found in (Sigma name).
    pub field: String,
}
