//! Likely next techniques: what the groups known to use the observed techniques also use.
//!
//! Method (conditional co-occurrence over groups). Let `O` be the observed techniques
//! and, for every ATT&CK group `g`, `overlap(g) = |O ∩ uses(g)|`, where a group that uses
//! a sub-technique also counts as using its parent (and an observed parent matches a
//! group using any of its sub-techniques). Only groups with `overlap > 0` take part;
//! each candidate technique `t ∉ O` scores
//!
//! ```text
//! likelihood(t) = Σ_{g uses t} overlap(g) / Σ_g overlap(g)
//! ```
//!
//! i.e. the share of the evidence (weighted by how well each group fits what was seen)
//! that points at `t`. Ties are broken by the matrix: a technique whose earliest tactic
//! lies at or just after the furthest tactic reached comes first (the attacker's next
//! step is more likely forward than back), then by id so results are stable.

use crate::KillChain;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};

/// ATT&CK group → technique usage, and technique names; built by the caller from the
/// knowledge graph.
#[derive(Debug, Clone, Default)]
pub struct GroupUsage {
    groups: Vec<GroupTechniques>,
    names: HashMap<String, String>,
}

impl GroupUsage {
    /// An empty usage table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that one group uses `techniques` (ids such as `T1003.001`).
    pub fn add_group(&mut self, techniques: impl IntoIterator<Item = String>) {
        let uses: HashSet<String> = techniques
            .into_iter()
            .map(|t| t.to_ascii_uppercase())
            .collect();
        let mut family = uses.clone();
        for id in &uses {
            if let Some((parent, _)) = id.split_once('.') {
                family.insert(parent.to_string());
            }
        }
        self.groups.push(GroupTechniques { uses, family });
    }

    /// Records a technique's display name (`OS Credential Dumping: LSASS Memory`).
    pub fn add_name(&mut self, technique: &str, name: &str) {
        self.names
            .insert(technique.to_ascii_uppercase(), name.to_string());
    }

    /// A technique's display name, when known.
    pub fn name(&self, technique: &str) -> Option<&str> {
        self.names
            .get(&technique.to_ascii_uppercase())
            .map(String::as_str)
    }

    /// Number of groups recorded.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }
}

/// One group's techniques.
#[derive(Debug, Clone)]
struct GroupTechniques {
    /// The ids the group uses.
    uses: HashSet<String>,
    /// Those ids plus their parents, to match observations at either level.
    family: HashSet<String>,
}

/// Whether the loaded rules detect a technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// A rule is tagged with this exact technique.
    Covered,
    /// No rule names it, but one names its parent technique.
    ParentOnly,
    /// No rule covers it.
    NotCovered,
}

/// One predicted technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextTechnique {
    /// Technique id.
    pub technique: String,
    /// Display name, when known.
    pub name: Option<String>,
    /// Share of the group evidence pointing at it, 0–1 (see the module documentation).
    pub likelihood: f64,
    /// Groups that use it among those that fit the observed techniques.
    pub groups: usize,
    /// Its earliest tactic, in matrix order.
    pub tactic: Option<String>,
    /// Whether the loaded rules detect it.
    pub coverage: Coverage,
}

impl NextTechnique {
    /// One line for people: `T1003.001 (OS Credential Dumping: LSASS Memory) — no rule covers it`.
    pub fn describe(&self) -> String {
        let name = self
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let coverage = match self.coverage {
            Coverage::Covered => "covered by a rule",
            Coverage::ParentOnly => "only its parent technique is covered",
            Coverage::NotCovered => "no rule covers it",
        };
        format!(
            "{}{name} — {coverage} [likelihood {:.2}, {} group(s)]",
            self.technique, self.likelihood, self.groups
        )
    }
}

/// Ranks likely next techniques after `observed`; at most `limit` results.
///
/// `covered` holds the technique ids the loaded rules are tagged with.
pub fn likely_next(
    observed: &[String],
    usage: &GroupUsage,
    kill_chain: &KillChain,
    covered: &HashSet<String>,
    limit: usize,
) -> Vec<NextTechnique> {
    let observed: BTreeSet<String> = observed.iter().map(|t| t.to_ascii_uppercase()).collect();
    // A group "uses" an observed parent if it uses any of its sub-techniques (the
    // family set holds parents), and an observed sub-technique if it uses its parent.
    let matches = |family: &HashSet<String>, id: &str| {
        family.contains(id) || id.split_once('.').is_some_and(|(p, _)| family.contains(p))
    };
    let furthest = observed
        .iter()
        .filter_map(|t| kill_chain.technique_position(t))
        .max();
    let mut weight_total = 0usize;
    let mut weights: HashMap<&str, (usize, usize)> = HashMap::new();
    for group in &usage.groups {
        let overlap = observed
            .iter()
            .filter(|t| matches(&group.family, t))
            .count();
        if overlap == 0 {
            continue;
        }
        weight_total += overlap;
        for technique in &group.uses {
            if observed.contains(technique) {
                continue;
            }
            let entry = weights.entry(technique.as_str()).or_default();
            entry.0 += overlap;
            entry.1 += 1;
        }
    }
    if weight_total == 0 {
        return Vec::new();
    }
    let mut ranked: Vec<NextTechnique> = weights
        .into_iter()
        .filter(|(technique, _)| !is_observed_family(technique, &observed))
        .map(|(technique, (weight, groups))| NextTechnique {
            technique: technique.to_string(),
            name: usage.name(technique).map(str::to_string),
            likelihood: weight as f64 / weight_total as f64,
            groups,
            tactic: kill_chain
                .tactics_of(technique)
                .iter()
                .min_by_key(|t| kill_chain.position(t).unwrap_or(usize::MAX))
                .cloned(),
            coverage: coverage_of(technique, covered),
        })
        .collect();
    let forward_distance =
        |t: &NextTechnique| match (furthest, kill_chain.technique_position(&t.technique)) {
            (Some(f), Some(p)) if p >= f => p - f,
            (Some(f), Some(p)) => kill_chain.tactics().len() + (f - p),
            _ => usize::MAX,
        };
    ranked.sort_by(|a, b| {
        b.likelihood
            .total_cmp(&a.likelihood)
            .then_with(|| forward_distance(a).cmp(&forward_distance(b)))
            .then_with(|| a.technique.cmp(&b.technique))
    });
    ranked.truncate(limit);
    ranked
}

/// Whether `technique` is an observed technique's parent: predicting `T1003` after
/// seeing `T1003.001` tells the analyst nothing.
fn is_observed_family(technique: &str, observed: &BTreeSet<String>) -> bool {
    !technique.contains('.')
        && observed
            .iter()
            .any(|o| o.split_once('.').is_some_and(|(p, _)| p == technique))
}

/// Coverage of a technique by the rules' technique tags.
pub fn coverage_of(technique: &str, covered: &HashSet<String>) -> Coverage {
    let id = technique.to_ascii_uppercase();
    if covered.contains(&id) {
        Coverage::Covered
    } else if id
        .split_once('.')
        .is_some_and(|(parent, _)| covered.contains(parent))
    {
        Coverage::ParentOnly
    } else {
        Coverage::NotCovered
    }
}
