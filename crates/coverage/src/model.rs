//! The two inputs coverage is computed from, in the shape coverage needs them.
//!
//! [`AttackMatrix`] is one ATT&CK domain seen as a matrix (tactics in column order,
//! techniques with their platforms, groups, analytics and countermeasures);
//! [`RuleInfo`] is one Sigma rule reduced to what coverage and lint look at. Both are
//! plain data so that hand-made cases in tests are a few lines, and so that this crate
//! is insulated from how the knowledge graph and the rule model store things: the
//! adapters in `from_knowledge` and `from_sigma` are the only places that know.

use rampart_event::Level;
use serde::Serialize;
use std::collections::BTreeMap;

/// An ATT&CK tactic (a matrix column).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tactic {
    /// ATT&CK id, e.g. `TA0003`.
    pub id: String,
    /// Shortname used in kill-chain phases and Sigma tags, e.g. `persistence`.
    pub shortname: String,
    /// Display name, e.g. `Persistence`.
    pub name: String,
}

/// One log source an analytic reads (ATT&CK v18 `x_mitre_log_source_references`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LogSourceNeed {
    /// Data component name, e.g. `Process Creation`.
    pub data_component: String,
    /// Log source name, e.g. `WinEventLog:Sysmon`.
    pub name: String,
    /// Channel within the source, e.g. `EventCode=1` (ATT&CK writes `None` when absent).
    pub channel: String,
}

/// An analytic of one of the technique's detection strategies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analytic {
    /// ATT&CK id, e.g. `AN0110`.
    pub id: String,
    /// Platforms the analytic applies to.
    pub platforms: Vec<String>,
    /// The log sources it reads.
    pub log_sources: Vec<LogSourceNeed>,
}

/// A D3FEND countermeasure that answers a technique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Countermeasure {
    /// D3FEND id, e.g. `D3-PSA`.
    pub id: String,
    /// Name, e.g. `Process Spawn Analysis`.
    pub name: String,
    /// D3FEND tactic, e.g. `Detect`.
    pub tactic: String,
}

/// An active technique or sub-technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Technique {
    /// ATT&CK id, upper-case: `T1059` or `T1059.001`.
    pub id: String,
    /// Name (for a sub-technique, its own name without the parent's).
    pub name: String,
    /// Tactic shortnames, in matrix order.
    pub tactics: Vec<String>,
    /// Platforms, as ATT&CK writes them (`Windows`, `Linux`, …).
    pub platforms: Vec<String>,
    /// The parent's id, for a sub-technique.
    pub parent: Option<String>,
    /// Ids of the sub-techniques, for a parent.
    pub subtechniques: Vec<String>,
    /// Analytics of the detection strategies that detect it.
    pub analytics: Vec<Analytic>,
    /// D3FEND countermeasures inferred for it.
    pub countermeasures: Vec<Countermeasure>,
}

impl Technique {
    /// Whether it applies to `platform` (any case); every technique does for `None`.
    pub fn is_on(&self, platform: Option<&str>) -> bool {
        platform.is_none_or(|p| self.platforms.iter().any(|x| x.eq_ignore_ascii_case(p)))
    }

    /// A technique with only an id, a name and tactics; the rest empty (for tests and
    /// hand-made matrices).
    pub fn new(id: &str, name: &str, tactics: &[&str]) -> Self {
        Technique {
            id: id.to_string(),
            name: name.to_string(),
            tactics: tactics.iter().map(|t| t.to_string()).collect(),
            platforms: Vec::new(),
            parent: id.split_once('.').map(|(parent, _)| parent.to_string()),
            subtechniques: Vec::new(),
            analytics: Vec::new(),
            countermeasures: Vec::new(),
        }
    }
}

/// A threat group and the techniques it uses (directly or through its software).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// ATT&CK id, e.g. `G0016`.
    pub id: String,
    /// Name, e.g. `APT29`.
    pub name: String,
    /// Other names, e.g. `Cozy Bear`.
    pub aliases: Vec<String>,
    /// Technique ids it uses.
    pub techniques: Vec<String>,
}

/// What an ATT&CK id resolves to in the matrix's release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IdStatus {
    /// A current technique.
    Active,
    /// Deprecated without replacement.
    Deprecated,
    /// Revoked; `replacement` is the technique that replaced it, when known.
    Revoked {
        /// The replacing technique's id.
        replacement: Option<String>,
    },
    /// Not in this release at all (a typo, or an id from a newer release).
    Unknown,
}

/// One ATT&CK domain as coverage sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttackMatrix {
    /// `enterprise-attack`, `mobile-attack` or `ics-attack`.
    pub domain: String,
    /// The ATT&CK release, e.g. `18.1`.
    pub attack_version: String,
    /// Tactics in matrix (column) order.
    pub tactics: Vec<Tactic>,
    /// Active techniques and sub-techniques by id.
    pub techniques: BTreeMap<String, Technique>,
    /// Active groups.
    pub groups: Vec<Group>,
    /// Technique ids that are revoked or deprecated in this release, with their fate.
    pub retired: BTreeMap<String, IdStatus>,
}

impl AttackMatrix {
    /// What a technique id (any case) is in this release.
    pub fn resolve(&self, id: &str) -> IdStatus {
        let id = id.to_ascii_uppercase();
        if self.techniques.contains_key(&id) {
            return IdStatus::Active;
        }
        self.retired.get(&id).cloned().unwrap_or(IdStatus::Unknown)
    }

    /// A technique by id (any case).
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        self.techniques.get(&id.to_ascii_uppercase())
    }

    /// A tactic by shortname, id or display name (any case).
    pub fn tactic(&self, key: &str) -> Option<&Tactic> {
        let key = key.trim();
        self.tactics.iter().find(|t| {
            t.shortname.eq_ignore_ascii_case(key)
                || t.id.eq_ignore_ascii_case(key)
                || t.name.eq_ignore_ascii_case(key)
                || t.shortname
                    .eq_ignore_ascii_case(&key.replace([' ', '_'], "-"))
        })
    }

    /// A group by id, name or alias (any case).
    pub fn group(&self, key: &str) -> Option<&Group> {
        let key = key.trim();
        self.groups.iter().find(|g| {
            g.id.eq_ignore_ascii_case(key)
                || g.name.eq_ignore_ascii_case(key)
                || g.aliases.iter().any(|a| a.eq_ignore_ascii_case(key))
        })
    }

    /// Parent techniques of one tactic, in id order.
    pub fn parents_in_tactic<'a>(&'a self, tactic: &'a str) -> impl Iterator<Item = &'a Technique> {
        self.techniques
            .values()
            .filter(move |t| t.parent.is_none() && t.tactics.iter().any(|x| x == tactic))
    }

    /// Adds a technique, linking it to its parent when the parent is already present,
    /// and linking existing sub-techniques to it.
    pub fn insert_technique(&mut self, technique: Technique) {
        if let Some(parent) = technique
            .parent
            .as_ref()
            .and_then(|p| self.techniques.get_mut(p))
        {
            if !parent.subtechniques.contains(&technique.id) {
                parent.subtechniques.push(technique.id.clone());
                parent.subtechniques.sort();
            }
        }
        let mut technique = technique;
        for sub in self.techniques.values() {
            if sub.parent.as_deref() == Some(technique.id.as_str())
                && !technique.subtechniques.contains(&sub.id)
            {
                technique.subtechniques.push(sub.id.clone());
            }
        }
        technique.subtechniques.sort();
        self.techniques.insert(technique.id.clone(), technique);
    }

    /// The platforms any technique names, sorted.
    pub fn platforms(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .techniques
            .values()
            .flat_map(|t| t.platforms.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// A Sigma rule's logsource triple.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LogSourceKey {
    /// `product`, e.g. `windows`.
    pub product: Option<String>,
    /// `category`, e.g. `process_creation`.
    pub category: Option<String>,
    /// `service`, e.g. `security`.
    pub service: Option<String>,
}

impl std::fmt::Display for LogSourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}:{v}")))
        .collect();
        if parts.is_empty() {
            f.write_str("(no logsource)")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

/// One Sigma rule, reduced to what coverage and lint look at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleInfo {
    /// Rule id (UUID), or the file name when the rule has none.
    pub id: String,
    /// Title.
    pub title: String,
    /// The file it came from (as given, relative or absolute).
    pub path: String,
    /// Severity.
    pub level: Level,
    /// Status as written (`stable`, `test`, `experimental`, …).
    pub status: Option<String>,
    /// ATT&CK technique ids from its tags, upper-case, as written (not resolved).
    pub techniques: Vec<String>,
    /// ATT&CK tactic shortnames from its tags (`credential-access`).
    pub tactics: Vec<String>,
    /// Its logsource.
    pub logsource: LogSourceKey,
    /// The atoms of its detection: `field|modifiers=value` strings, lower-cased,
    /// one per value of each search identifier (used for near-duplicate detection).
    pub detection_atoms: Vec<String>,
}

impl RuleInfo {
    /// A rule with an id, a title, a level and technique tags; the rest empty.
    pub fn new(id: &str, title: &str, level: Level, techniques: &[&str]) -> Self {
        RuleInfo {
            id: id.to_string(),
            title: title.to_string(),
            path: String::new(),
            level,
            status: None,
            techniques: techniques.iter().map(|t| t.to_ascii_uppercase()).collect(),
            tactics: Vec::new(),
            logsource: LogSourceKey::default(),
            detection_atoms: Vec::new(),
        }
    }
}
