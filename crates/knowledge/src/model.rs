//! The typed ATT&CK objects held by the graph.
//!
//! Objects refer to each other by [`NodeRef`] (a kind and an index into that kind's
//! table) rather than by STIX id strings: the graph is built once and read many times,
//! and small copyable references keep both the traversals and the binary cache cheap.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ATT&CK domain: each is its own matrix, bundle and id space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// ATT&CK for Enterprise.
    Enterprise,
    /// ATT&CK for Mobile.
    Mobile,
    /// ATT&CK for ICS.
    Ics,
}

impl Domain {
    /// Every domain, Enterprise first (lookups prefer it when an object is shared).
    pub const ALL: [Domain; 3] = [Domain::Enterprise, Domain::Mobile, Domain::Ics];

    /// The lower-case name used on the command line and in JSON (`enterprise`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Enterprise => "enterprise",
            Domain::Mobile => "mobile",
            Domain::Ics => "ics",
        }
    }

    /// Parses `enterprise`, `mobile` or `ics` (any case, `-attack` suffix allowed).
    pub fn parse(text: &str) -> Option<Domain> {
        let lower = text.trim().to_ascii_lowercase();
        match lower.trim_end_matches("-attack") {
            "enterprise" => Some(Domain::Enterprise),
            "mobile" => Some(Domain::Mobile),
            "ics" => Some(Domain::Ics),
            _ => None,
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an object is current. Revoked and deprecated objects stay in the graph so
/// that old ids (in rules, in reports) still resolve, but "current" views skip them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Neither revoked nor deprecated.
    Active,
    /// `x_mitre_deprecated: true`: withdrawn without a replacement.
    Deprecated,
    /// `revoked: true`: replaced by another object (see the `revoked-by` relationship).
    Revoked,
}

impl Status {
    /// The lower-case name (`active`, `deprecated`, `revoked`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Deprecated => "deprecated",
            Status::Revoked => "revoked",
        }
    }
}

/// The kinds of ATT&CK object the graph keeps, one table each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `x-mitre-tactic`.
    Tactic,
    /// `attack-pattern` (technique or sub-technique).
    Technique,
    /// `intrusion-set`.
    Group,
    /// `campaign`.
    Campaign,
    /// `malware` or `tool`.
    Software,
    /// `course-of-action`.
    Mitigation,
    /// `x-mitre-data-source`.
    DataSource,
    /// `x-mitre-data-component`.
    DataComponent,
    /// `x-mitre-detection-strategy`.
    DetectionStrategy,
    /// `x-mitre-analytic`.
    Analytic,
    /// `x-mitre-asset` (ICS).
    Asset,
}

impl Kind {
    /// The lower-case name used in JSON (`technique`, `detection-strategy`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tactic => "tactic",
            Kind::Technique => "technique",
            Kind::Group => "group",
            Kind::Campaign => "campaign",
            Kind::Software => "software",
            Kind::Mitigation => "mitigation",
            Kind::DataSource => "data-source",
            Kind::DataComponent => "data-component",
            Kind::DetectionStrategy => "detection-strategy",
            Kind::Analytic => "analytic",
            Kind::Asset => "asset",
        }
    }
}

/// A reference to one object of a domain's graph: its kind and its index in that
/// kind's table. Only meaningful together with the [`crate::Matrix`] it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeRef {
    /// Which table.
    pub kind: Kind,
    /// The index in that table.
    pub index: u32,
}

/// What every ATT&CK object has: identity, text and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The STIX id (`attack-pattern--…`).
    pub stix_id: String,
    /// The ATT&CK id (`T1053.005`, `G0016`, …); empty for the rare object without one.
    pub attack_id: String,
    /// The display name.
    pub name: String,
    /// The description (Markdown, with ATT&CK citations).
    pub description: String,
    /// The ATT&CK web page, when the bundle gives one.
    pub url: Option<String>,
    /// Active, deprecated or revoked.
    pub status: Status,
    /// `modified` timestamp as written in the bundle.
    pub modified: String,
}

/// A tactic (a column of the matrix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tactic {
    /// Identity and text.
    pub meta: Meta,
    /// The short name techniques use in `kill_chain_phases` (`privilege-escalation`).
    pub shortname: String,
}

/// A technique or sub-technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Technique {
    /// Identity and text.
    pub meta: Meta,
    /// Tactic short names, in the order of the bundle's `kill_chain_phases`.
    pub tactics: Vec<String>,
    /// Platforms (`Windows`, `Linux`, …).
    pub platforms: Vec<String>,
    /// `x_mitre_is_subtechnique`.
    pub is_subtechnique: bool,
    /// The parent technique of a sub-technique (from `subtechnique-of`).
    pub parent: Option<u32>,
    /// The sub-techniques of a technique, in id order.
    pub subtechniques: Vec<u32>,
}

/// A threat group (`intrusion-set`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Identity and text.
    pub meta: Meta,
    /// Other names the group is known by (the bundle's `aliases`, minus the name).
    pub aliases: Vec<String>,
}

/// A campaign: a set of intrusions with a time frame, often attributed to a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// Identity and text.
    pub meta: Meta,
    /// Other names (minus the name).
    pub aliases: Vec<String>,
    /// `first_seen`, as written.
    pub first_seen: Option<String>,
    /// `last_seen`, as written.
    pub last_seen: Option<String>,
}

/// Whether a piece of software is malware or a (dual-use) tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SoftwareKind {
    /// STIX `malware`.
    Malware,
    /// STIX `tool`.
    Tool,
}

/// Malware or a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Software {
    /// Identity and text.
    pub meta: Meta,
    /// Malware or tool.
    pub kind: SoftwareKind,
    /// Other names (minus the name).
    pub aliases: Vec<String>,
    /// Platforms it runs on.
    pub platforms: Vec<String>,
}

/// A mitigation (`course-of-action`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mitigation {
    /// Identity and text.
    pub meta: Meta,
}

/// A data source (the older, coarser grouping of data components).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// Identity and text.
    pub meta: Meta,
    /// Platforms.
    pub platforms: Vec<String>,
}

/// A log source as ATT&CK names it: a product/log name and a channel or event filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogSource {
    /// `WinEventLog:Security`, `sysmon`, `auditd:SYSCALL`, …
    pub name: String,
    /// `EventCode=4688`, `execve`, or free text.
    pub channel: String,
}

/// A data component: what to collect (`Process Creation`), and where ATT&CK says it is
/// logged (`x_mitre_log_sources`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataComponent {
    /// Identity and text.
    pub meta: Meta,
    /// The data source it belongs to, when the bundle links one.
    pub data_source: Option<u32>,
    /// The log sources ATT&CK lists for it.
    pub log_sources: Vec<LogSource>,
}

/// One log source an analytic reads, with the data component it stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticLogSource {
    /// The data component (index into the data-component table), when resolvable.
    pub data_component: Option<u32>,
    /// Log name and channel.
    pub log_source: LogSource,
}

/// An analytic: a platform-specific detection recipe of a detection strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analytic {
    /// Identity and text (`AN0110`).
    pub meta: Meta,
    /// Platforms it applies to.
    pub platforms: Vec<String>,
    /// The log sources it reads.
    pub log_sources: Vec<AnalyticLogSource>,
}

/// A detection strategy (ATT&CK v18): how to detect a technique, as a set of analytics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionStrategy {
    /// Identity and text (`DET0001`).
    pub meta: Meta,
    /// Its analytics (indices into the analytic table), in bundle order.
    pub analytics: Vec<u32>,
}

/// An ICS asset (a device or system class that techniques target).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Identity and text.
    pub meta: Meta,
    /// Platforms.
    pub platforms: Vec<String>,
}

/// The relationship types the graph keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    /// Group/campaign/software uses technique; group/campaign uses software.
    Uses,
    /// Mitigation mitigates technique.
    Mitigates,
    /// Detection strategy (or, in older bundles, data component) detects technique.
    Detects,
    /// Sub-technique is a sub-technique of its parent.
    SubtechniqueOf,
    /// Old object revoked by its replacement.
    RevokedBy,
    /// Campaign attributed to group.
    AttributedTo,
    /// ICS technique targets asset.
    Targets,
}

impl RelationKind {
    /// Parses a STIX `relationship_type`.
    pub fn parse(text: &str) -> Option<RelationKind> {
        Some(match text {
            "uses" => RelationKind::Uses,
            "mitigates" => RelationKind::Mitigates,
            "detects" => RelationKind::Detects,
            "subtechnique-of" => RelationKind::SubtechniqueOf,
            "revoked-by" => RelationKind::RevokedBy,
            "attributed-to" => RelationKind::AttributedTo,
            "targets" => RelationKind::Targets,
            _ => return None,
        })
    }
}

/// One relationship between two objects of the same domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edge {
    /// The relationship type.
    pub kind: RelationKind,
    /// `source_ref`.
    pub source: NodeRef,
    /// `target_ref`.
    pub target: NodeRef,
}
