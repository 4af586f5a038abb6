//! Per-technique context: everything the knowledge graph says about one technique,
//! computed once and shared by every alert that names it.

use rampart_knowledge::{Hit, Knowledge, Resolution};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many groups [`GroupSummary::top`] lists.
pub const TOP_GROUPS: usize = 5;

/// An ATT&CK object by id, name and web page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    /// ATT&CK id (`T1003.001`, `TA0006`, `G0016`, `M1043`, `DET0001`).
    pub id: String,
    /// Name.
    pub name: String,
    /// ATT&CK web page, when the data gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A tactic of the technique, in matrix order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TacticRef {
    /// `TA0006`.
    pub id: String,
    /// `credential-access`.
    pub shortname: String,
    /// `Credential Access`.
    pub name: String,
    /// Web page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Who is known to use the technique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Number of groups (directly, through software or campaigns).
    pub count: usize,
    /// The [`TOP_GROUPS`] most relevant to the technique, by
    /// [`rampart_knowledge::Matrix::groups_by_relevance`]: direct use before use through
    /// software or campaigns, then groups with fewer techniques in all (more specific),
    /// then the more recent relationship, then id.
    pub top: Vec<Ref>,
}

/// A D3FEND countermeasure, filed under its D3FEND tactic in [`TechniqueContext::d3fend`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Countermeasure {
    /// `D3-PSA`.
    pub id: String,
    /// Name.
    pub name: String,
    /// The digital artifact it acts on (`Process`).
    pub artifact: String,
}

/// An ENGAGE activity answering the technique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// `EAC0005`.
    pub id: String,
    /// Name.
    pub name: String,
}

/// What the knowledge graph says about one technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TechniqueContext {
    /// The technique (a sub-technique when the rule names one).
    pub technique: Ref,
    /// The parent of a sub-technique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Ref>,
    /// Tactics, in matrix order.
    pub tactics: Vec<TacticRef>,
    /// Groups known to use it.
    pub groups: GroupSummary,
    /// ATT&CK mitigations.
    pub mitigations: Vec<Ref>,
    /// ATT&CK detection strategies.
    pub detection_strategies: Vec<Ref>,
    /// D3FEND countermeasures grouped by D3FEND tactic (`Detect`, `Harden`, …).
    pub d3fend: BTreeMap<String, Vec<Countermeasure>>,
    /// ENGAGE activities.
    pub engage: Vec<Activity>,
}

/// What a rule's technique tag turned out to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TagStatus {
    /// A current technique.
    Active,
    /// ATT&CK deprecated it; its context is still given.
    Deprecated,
    /// ATT&CK revoked it; the context is that of its replacement.
    Revoked {
        /// The replacement's id.
        replaced_by: String,
    },
    /// Revoked with no replacement: no context.
    RevokedWithoutReplacement,
    /// ATT&CK (as loaded) does not know the id: no context.
    Unknown {
        /// Closest known ids.
        nearest: Vec<String>,
    },
}

/// One technique tag of a rule, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedTag {
    /// The id as the rule wrote it (upper-case).
    pub tag: String,
    /// What it resolved to.
    #[serde(flatten)]
    pub status: TagStatus,
}

impl ResolvedTag {
    /// Whether the tag needs a rule author's attention (anything but active).
    pub fn is_issue(&self) -> bool {
        self.status != TagStatus::Active
    }
}

/// Resolves a technique id and builds its context (when there is an object to describe).
pub(crate) fn resolve(knowledge: &Knowledge, tag: &str) -> (ResolvedTag, Option<TechniqueContext>) {
    let tag = tag.trim().to_ascii_uppercase();
    let resolution = knowledge.resolve(&tag);
    let (status, hit) = match &resolution {
        Resolution::Active(hit) => (TagStatus::Active, Some(*hit)),
        Resolution::Deprecated(hit) => (TagStatus::Deprecated, Some(*hit)),
        Resolution::Revoked {
            replacement: Some(hit),
            ..
        } => {
            let replaced_by = attack_id(knowledge, *hit).unwrap_or_default();
            (TagStatus::Revoked { replaced_by }, Some(*hit))
        }
        Resolution::Revoked {
            replacement: None, ..
        } => (TagStatus::RevokedWithoutReplacement, None),
        Resolution::Unknown { nearest } => (
            TagStatus::Unknown {
                nearest: nearest.iter().map(|s| s.id.clone()).collect(),
            },
            None,
        ),
    };
    // `resolve` also finds names and other kinds; only techniques have this context.
    let hit = hit.filter(|h| h.node.kind == rampart_knowledge::Kind::Technique);
    let status = match (&status, hit) {
        (TagStatus::Active | TagStatus::Deprecated | TagStatus::Revoked { .. }, None) => {
            TagStatus::Unknown {
                nearest: Vec::new(),
            }
        }
        _ => status,
    };
    let context = hit.map(|hit| context(knowledge, hit));
    (ResolvedTag { tag, status }, context)
}

fn attack_id(knowledge: &Knowledge, hit: Hit) -> Option<String> {
    knowledge
        .matrix_of(hit)
        .meta(hit.node)
        .map(|m| m.attack_id.clone())
}

fn context(knowledge: &Knowledge, hit: Hit) -> TechniqueContext {
    let report = knowledge.technique_report(hit);
    let matrix = knowledge.matrix_of(hit);
    let url_of = |id: &str| -> Option<String> {
        matrix
            .by_attack_id(id)
            .first()
            .and_then(|node| matrix.meta(*node))
            .and_then(|meta| meta.url.clone())
    };
    let tactics = report
        .tactics
        .iter()
        .map(|shortname| {
            let tactic = matrix.tactics.iter().find(|t| &t.shortname == shortname);
            TacticRef {
                id: tactic.map(|t| t.meta.attack_id.clone()).unwrap_or_default(),
                shortname: shortname.clone(),
                name: tactic
                    .map(|t| t.meta.name.clone())
                    .unwrap_or_else(|| shortname.clone()),
                url: tactic.and_then(|t| t.meta.url.clone()),
            }
        })
        .collect();
    let groups: Vec<Ref> = matrix
        .groups_by_relevance(hit.node.index)
        .into_iter()
        .filter_map(|(group, _)| {
            let meta = matrix.meta(rampart_knowledge::NodeRef {
                kind: rampart_knowledge::Kind::Group,
                index: group,
            })?;
            Some(Ref {
                id: meta.attack_id.clone(),
                name: meta.name.clone(),
                url: meta.url.clone(),
            })
        })
        .collect();
    let mut d3fend: BTreeMap<String, Vec<Countermeasure>> = BTreeMap::new();
    for c in &report.countermeasures {
        let tactic = if c.tactic.is_empty() {
            "Unspecified".to_string()
        } else {
            c.tactic.clone()
        };
        let list = d3fend.entry(tactic).or_default();
        if !list.iter().any(|known| known.id == c.id) {
            list.push(Countermeasure {
                id: c.id.clone(),
                name: c.name.clone(),
                artifact: c.artifact.clone(),
            });
        }
    }
    let mut engage: Vec<Activity> = Vec::new();
    for e in &report.engage {
        if !engage.iter().any(|known| known.id == e.id) {
            engage.push(Activity {
                id: e.id.clone(),
                name: e.name.clone(),
            });
        }
    }
    TechniqueContext {
        technique: Ref {
            id: report.common.id.clone(),
            name: report.common.name.clone(),
            url: report.common.url.clone(),
        },
        parent: report.parent.as_ref().map(|p| Ref {
            id: p.id.clone(),
            name: p.name.clone(),
            url: url_of(&p.id),
        }),
        tactics,
        groups: GroupSummary {
            count: groups.len(),
            top: groups.into_iter().take(TOP_GROUPS).collect(),
        },
        mitigations: report
            .mitigations
            .iter()
            .map(|m| Ref {
                id: m.id.clone(),
                name: m.name.clone(),
                url: url_of(&m.id),
            })
            .collect(),
        detection_strategies: report
            .detection_strategies
            .iter()
            .map(|s| Ref {
                id: s.id.clone(),
                name: s.name.clone(),
                url: url_of(&s.id),
            })
            .collect(),
        d3fend,
        engage,
    }
}
