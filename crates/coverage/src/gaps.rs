//! Prioritised gaps: one ranked list of what to build next, each row with its reasons.
//!
//! # Scoring
//! Every candidate technique gets six factors in `[0, 1]`; its priority is their
//! weighted sum (weights in [`GapWeights`], changeable by the user):
//!
//! | factor | default weight | value |
//! |---|---:|---|
//! | `threat` | 3.0 | with `--groups`: share of those groups that use the technique; otherwise groups using it ÷ the most groups using any technique |
//! | `tactic` | 2.0 | `1 − i/n` for the technique's best position `i` in the tactic priority order of length `n`; 0 when none of its tactics is listed |
//! | `coverage` | 2.0 | `1 − claimed score` (see `claimed`) |
//! | `confidence` | 1.0 | when samples were run: 0 validated on an independent sample, 0.5 corroborated, 1 otherwise (self-validated on a rule's own regression sample included); 0 when no samples were run |
//! | `visibility` | 0.5 | when collected sources are known: 1 visible (a rule can be written today), 0.5 no analytic, 0 blind (collection comes first); 0 when unknown |
//! | `countermeasures` | 0.5 | D3FEND countermeasures available, `min(n, 5) / 5` |
//!
//! A technique is a candidate when its claimed score is below 1, or when samples were
//! run and it is not validated. Group usage of a sub-technique also counts for its
//! parent. Ties are broken by technique id so the order is stable.

use crate::claimed::ClaimedCoverage;
use crate::error::CoverageError;
use crate::model::{AttackMatrix, Technique};
use crate::validated::{Confidence, ValidatedCoverage};
use crate::visibility::{TechniqueVisibility, Visibility};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The default tactic priority (capabilities-driven): where an intruder settles in and
/// moves, the phases a SOC most needs to see. Defense Evasion until ATT&CK 18, Stealth
/// and Defense Impairment (its two halves) from 19: only the tactics the loaded release
/// has are used, so either release gets the same priorities.
pub const DEFAULT_TACTIC_ORDER: [&str; 9] = [
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "stealth",
    "defense-impairment",
    "credential-access",
    "lateral-movement",
    "exfiltration",
    "command-and-control",
];

/// Weights of the gap-priority factors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapWeights {
    /// Weight of threat (group usage).
    pub threat: f64,
    /// Weight of tactic priority.
    pub tactic: f64,
    /// Weight of missing claimed coverage.
    pub coverage: f64,
    /// Weight of missing validation.
    pub confidence: f64,
    /// Weight of visibility (a seen technique is a quicker win).
    pub visibility: f64,
    /// Weight of available D3FEND countermeasures.
    pub countermeasures: f64,
}

impl Default for GapWeights {
    fn default() -> Self {
        GapWeights {
            threat: 3.0,
            tactic: 2.0,
            coverage: 2.0,
            confidence: 1.0,
            visibility: 0.5,
            countermeasures: 0.5,
        }
    }
}

impl GapWeights {
    /// Parses `threat=3,tactic=1.5,…` over the defaults (names as the fields).
    pub fn parse(text: &str) -> Result<Self, CoverageError> {
        let mut weights = GapWeights::default();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = |reason: String| CoverageError::Setting {
                setting: "--weights".into(),
                reason,
            };
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| bad(format!("`{pair}` is not name=value")))?;
            let value: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(format!("`{value}` is not a non-negative number")))?;
            let slot = match name.trim() {
                "threat" => &mut weights.threat,
                "tactic" => &mut weights.tactic,
                "coverage" => &mut weights.coverage,
                "confidence" => &mut weights.confidence,
                "visibility" => &mut weights.visibility,
                "countermeasures" => &mut weights.countermeasures,
                other => {
                    return Err(bad(format!(
                        "unknown weight `{other}` (threat, tactic, coverage, confidence, visibility, countermeasures)"
                    )))
                }
            };
            *slot = value;
        }
        Ok(weights)
    }
}

/// What to rank gaps for.
#[derive(Debug, Clone, Default)]
pub struct GapOptions {
    /// Group ids the threat factor counts (empty: all groups).
    pub groups: Vec<String>,
    /// Only techniques (and analytics) of this platform.
    pub platform: Option<String>,
    /// Tactic shortnames, most important first (empty: [`DEFAULT_TACTIC_ORDER`]).
    pub tactic_order: Vec<String>,
    /// Factor weights.
    pub weights: GapWeights,
}

/// What kind of gap a technique is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// Not seen: the log sources its analytics need are not collected.
    Blind,
    /// No rule claims it.
    Undetected,
    /// Rules claim it, but weakly (low level or immature status).
    Weak,
    /// Rules claim it, but samples never showed one firing.
    Unvalidated,
}

/// The factor values behind a gap's priority.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Factors {
    /// Threat factor.
    pub threat: f64,
    /// Tactic factor.
    pub tactic: f64,
    /// Coverage factor.
    pub coverage: f64,
    /// Confidence factor.
    pub confidence: f64,
    /// Visibility factor.
    pub visibility: f64,
    /// Countermeasures factor.
    pub countermeasures: f64,
}

/// One row of the ranked gap list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// 1-based rank.
    pub rank: usize,
    /// Technique id.
    pub technique: String,
    /// Technique name (sub-techniques as `Parent: Sub`).
    pub name: String,
    /// Its tactics.
    pub tactics: Vec<String>,
    /// The kind of gap.
    pub kind: GapKind,
    /// Priority (weighted sum of the factors).
    pub priority: f64,
    /// Claimed score in `[0, 1]`.
    pub claimed: f64,
    /// Validation reached, when samples were run.
    pub confidence: Option<Confidence>,
    /// Visibility, when collected sources are known.
    pub visibility: Option<Visibility>,
    /// Names of the groups (of those considered) that use it.
    pub groups: Vec<String>,
    /// D3FEND countermeasure ids.
    pub countermeasures: Vec<String>,
    /// The factors.
    pub factors: Factors,
    /// Why it ranks where it does, in words.
    pub reasons: Vec<String>,
}

/// What the ranking knows besides the matrix.
pub struct GapInputs<'a> {
    /// Claimed coverage.
    pub claimed: &'a ClaimedCoverage,
    /// Validated coverage, when samples were run.
    pub validated: Option<&'a ValidatedCoverage>,
    /// Visibility, when collected sources are known.
    pub visibility: Option<&'a BTreeMap<String, TechniqueVisibility>>,
}

/// The display name of a technique (`Parent: Sub` for a sub-technique).
pub fn full_name(matrix: &AttackMatrix, technique: &Technique) -> String {
    match technique.parent.as_ref().and_then(|p| matrix.technique(p)) {
        Some(parent) => format!("{}: {}", parent.name, technique.name),
        None => technique.name.clone(),
    }
}

/// Groups (names) using each technique, a sub-technique's users also counted for its parent.
fn users(matrix: &AttackMatrix, groups: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for group in &matrix.groups {
        if !groups.is_empty() && !groups.contains(&group.id) {
            continue;
        }
        for id in &group.techniques {
            out.entry(id.clone())
                .or_default()
                .insert(group.name.clone());
            if let Some(parent) = matrix.technique(id).and_then(|t| t.parent.clone()) {
                out.entry(parent).or_default().insert(group.name.clone());
            }
        }
    }
    out
}

/// Ranks the gaps, highest priority first.
pub fn rank_gaps(matrix: &AttackMatrix, inputs: &GapInputs<'_>, options: &GapOptions) -> Vec<Gap> {
    let order: Vec<String> = if options.tactic_order.is_empty() {
        DEFAULT_TACTIC_ORDER
            .iter()
            .filter(|s| matrix.tactic(s).is_some())
            .map(|s| s.to_string())
            .collect()
    } else {
        options.tactic_order.clone()
    };
    let users = users(matrix, &options.groups);
    let threat_scale = if options.groups.is_empty() {
        users.values().map(BTreeSet::len).max().unwrap_or(0)
    } else {
        options.groups.len()
    }
    .max(1) as f64;
    let weights = &options.weights;
    let mut gaps: Vec<Gap> = Vec::new();
    for technique in matrix.techniques.values() {
        if let Some(platform) = &options.platform {
            if !technique
                .platforms
                .iter()
                .any(|p| p.eq_ignore_ascii_case(platform))
            {
                continue;
            }
        }
        let claimed = inputs.claimed.score(&technique.id);
        let confidence = inputs.validated.and_then(|v| v.confidence(&technique.id));
        let unvalidated = inputs.validated.is_some() && confidence != Some(Confidence::Validated);
        if claimed >= 1.0 && !unvalidated {
            continue;
        }
        let visibility = inputs
            .visibility
            .and_then(|v| v.get(&technique.id))
            .map(|v| v.visibility);
        let used_by = users.get(&technique.id).cloned().unwrap_or_default();
        let tactic_position = technique
            .tactics
            .iter()
            .filter_map(|t| order.iter().position(|o| o == t))
            .min();
        let factors = Factors {
            threat: used_by.len() as f64 / threat_scale,
            tactic: tactic_position.map_or(0.0, |i| 1.0 - i as f64 / order.len() as f64),
            coverage: 1.0 - claimed,
            confidence: match (inputs.validated, confidence) {
                (None, _) => 0.0,
                (Some(_), Some(Confidence::Validated)) => 0.0,
                (Some(_), Some(Confidence::Corroborated)) => 0.5,
                // Circular evidence: ranked as if never validated.
                (Some(_), Some(Confidence::SelfValidated)) => 1.0,
                (Some(_), None) => 1.0,
            },
            visibility: match visibility {
                Some(Visibility::Visible) => 1.0,
                Some(Visibility::NoAnalytics) => 0.5,
                Some(Visibility::Blind) | None => 0.0,
            },
            countermeasures: technique.countermeasures.len().min(5) as f64 / 5.0,
        };
        let priority = weights.threat * factors.threat
            + weights.tactic * factors.tactic
            + weights.coverage * factors.coverage
            + weights.confidence * factors.confidence
            + weights.visibility * factors.visibility
            + weights.countermeasures * factors.countermeasures;
        let kind = if visibility == Some(Visibility::Blind) {
            GapKind::Blind
        } else if claimed == 0.0 {
            GapKind::Undetected
        } else if claimed < 1.0 {
            GapKind::Weak
        } else {
            GapKind::Unvalidated
        };
        let mut gap = Gap {
            rank: 0,
            technique: technique.id.clone(),
            name: full_name(matrix, technique),
            tactics: technique.tactics.clone(),
            kind,
            priority,
            claimed,
            confidence,
            visibility,
            groups: used_by.into_iter().collect(),
            countermeasures: technique
                .countermeasures
                .iter()
                .map(|c| c.id.clone())
                .collect(),
            factors,
            reasons: Vec::new(),
        };
        gap.reasons = reasons(matrix, &gap, &order, tactic_position, options, inputs);
        gaps.push(gap);
    }
    gaps.sort_by(|a, b| {
        b.priority
            .total_cmp(&a.priority)
            .then_with(|| a.technique.cmp(&b.technique))
    });
    for (index, gap) in gaps.iter_mut().enumerate() {
        gap.rank = index + 1;
    }
    gaps
}

fn reasons(
    matrix: &AttackMatrix,
    gap: &Gap,
    order: &[String],
    tactic_position: Option<usize>,
    options: &GapOptions,
    inputs: &GapInputs<'_>,
) -> Vec<String> {
    let mut out = Vec::new();
    if !gap.groups.is_empty() {
        let names = gap
            .groups
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let more = gap.groups.len().saturating_sub(5);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        if options.groups.is_empty() {
            out.push(format!(
                "used by {} groups ({names}{more})",
                gap.groups.len()
            ));
        } else {
            out.push(format!(
                "used by {} of {} selected groups ({names}{more})",
                gap.groups.len(),
                options.groups.len()
            ));
        }
    }
    if let Some(i) = tactic_position {
        let name = matrix
            .tactic(&order[i])
            .map_or(order[i].clone(), |t| t.name.clone());
        out.push(format!(
            "tactic {name} is priority {} of {}",
            i + 1,
            order.len()
        ));
    }
    let rules = inputs
        .claimed
        .techniques
        .get(&gap.technique)
        .map_or(0, |c| c.rules.len());
    out.push(match gap.kind {
        GapKind::Undetected | GapKind::Blind if rules == 0 => "no rule claims it".to_string(),
        _ => format!("claimed by {rules} rule(s), score {:.2}", gap.claimed),
    });
    match gap.confidence {
        Some(Confidence::Corroborated) => {
            out.push("only corroborated by a sample of its tactic".to_string())
        }
        Some(Confidence::SelfValidated) => out.push(
            "only self-validated: its rules fired on their own regression samples, no independent sample"
                .to_string(),
        ),
        None if inputs.validated.is_some() && rules > 0 => {
            out.push("claimed but never validated on a sample".to_string())
        }
        _ => {}
    }
    if let (Some(visibility), Some(all)) = (gap.visibility, inputs.visibility) {
        let detail = all.get(&gap.technique);
        out.push(match visibility {
            Visibility::Visible => {
                "its log sources are collected: a rule can be written now".to_string()
            }
            Visibility::NoAnalytics => "ATT&CK proposes no analytic for it".to_string(),
            Visibility::Blind => {
                let needs: BTreeSet<String> = detail
                    .map(|d| d.missing.iter().map(|n| n.name.clone()).collect())
                    .unwrap_or_default();
                let needs: Vec<String> = needs.into_iter().take(3).collect();
                format!("not visible: collect {}", needs.join(", "))
            }
        });
    }
    if !gap.countermeasures.is_empty() {
        let ids: Vec<&str> = gap
            .countermeasures
            .iter()
            .take(3)
            .map(String::as_str)
            .collect();
        out.push(format!(
            "{} D3FEND countermeasure(s), e.g. {}",
            gap.countermeasures.len(),
            ids.join(", ")
        ));
    }
    out
}

/// Resolves group names, aliases or ids to group ids; unknown names are an error
/// naming them.
pub fn resolve_groups(
    matrix: &AttackMatrix,
    names: &[String],
) -> Result<Vec<String>, CoverageError> {
    let mut ids = Vec::new();
    let mut unknown = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match matrix.group(name) {
            Some(group) if !ids.contains(&group.id) => ids.push(group.id.clone()),
            Some(_) => {}
            None => unknown.push(name.to_string()),
        }
    }
    if unknown.is_empty() {
        Ok(ids)
    } else {
        Err(CoverageError::Setting {
            setting: "--groups".into(),
            reason: format!("unknown group(s): {}", unknown.join(", ")),
        })
    }
}

/// Resolves tactic names, ids or shortnames to shortnames, in the given order.
pub fn resolve_tactics(
    matrix: &AttackMatrix,
    names: &[String],
) -> Result<Vec<String>, CoverageError> {
    names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .map(|name| {
            matrix
                .tactic(name)
                .map(|t| t.shortname.clone())
                .ok_or_else(|| CoverageError::Setting {
                    setting: "--tactic-order".into(),
                    reason: format!("unknown tactic `{name}`"),
                })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::claimed::{claimed_coverage, ClaimWeights};
    use crate::model::RuleInfo;
    use crate::testing::small_matrix;
    use rampart_event::Level;

    fn order(gaps: &[Gap]) -> Vec<&str> {
        gaps.iter().map(|g| g.technique.as_str()).collect()
    }

    #[test]
    fn groups_reorder_the_ranking() {
        let matrix = small_matrix();
        let mut rule = RuleInfo::new("r", "cmd", Level::High, &["T1059.003"]);
        rule.status = Some("stable".into());
        let claimed = claimed_coverage(&matrix, &[rule], &ClaimWeights::default());
        let inputs = GapInputs {
            claimed: &claimed,
            validated: None,
            visibility: None,
        };
        let all = rank_gaps(&matrix, &inputs, &GapOptions::default());
        // Fully claimed T1059.003 and its parent T1059 are not gaps.
        assert!(!order(&all).contains(&"T1059.003"));
        assert!(!order(&all).contains(&"T1059"));
        // Scheduled Task is used by two groups and sits in Persistence: it and its
        // parent lead (tied, so in id order).
        assert_eq!(order(&all)[..2], ["T1053", "T1053.005"]);
        let apt29 = GapOptions {
            groups: resolve_groups(&matrix, &["cozy bear".to_string()]).unwrap(),
            ..GapOptions::default()
        };
        let ranked = rank_gaps(&matrix, &inputs, &apt29);
        assert_eq!(ranked[0].technique, "T1003.001");
        assert!(ranked[0].reasons[0].contains("1 of 1 selected groups (APT29)"));
        let position = |gaps: &[Gap], id: &str| order(gaps).iter().position(|t| *t == id);
        assert!(position(&ranked, "T1059.001") < position(&ranked, "T1053.005"));
        assert!(position(&all, "T1059.001") > position(&all, "T1053.005"));
    }

    #[test]
    fn weights_parse_and_reject_nonsense() {
        let weights = GapWeights::parse("threat=0, tactic=5").unwrap();
        assert_eq!(weights.threat, 0.0);
        assert_eq!(weights.tactic, 5.0);
        assert_eq!(weights.coverage, 2.0);
        assert!(GapWeights::parse("speed=1").is_err());
        assert!(GapWeights::parse("threat=-1").is_err());
        assert!(resolve_groups(&small_matrix(), &["Nobody".into()]).is_err());
    }
}
