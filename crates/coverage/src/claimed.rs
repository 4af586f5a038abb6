//! Claimed coverage: what the rules say they detect, weighted by how much to trust them.
//!
//! # Weights
//! A rule's weight is `level weight × status weight`:
//!
//! | level | weight | | status | weight |
//! |---|---:|---|---|---:|
//! | critical | 1.0 | | stable | 1.0 |
//! | high | 1.0 | | test | 0.8 |
//! | medium | 0.75 | | experimental | 0.5 |
//! | low | 0.5 | | (none / other) | 0.5 |
//! | informational | 0.25 | | deprecated, unsupported | 0.0 |
//!
//! A technique's claimed score combines its rules' weights as independent pieces of
//! evidence, `1 − Π(1 − wᵢ)`: one stable high rule gives 1.0, two experimental medium
//! rules give 0.61, and adding a rule never lowers the score. A rule tagged with a
//! sub-technique also counts for the parent (rolled up), recorded with `via`.
//!
//! Tags are resolved against the matrix's ATT&CK release: a revoked id counts for its
//! replacement; deprecated, revoked-without-replacement and unknown ids (typically tags
//! from a newer ATT&CK release) count for nothing but are reported, never dropped.

use crate::model::{AttackMatrix, IdStatus, RuleInfo};
use serde::Serialize;
use std::collections::BTreeMap;

/// The weights that turn a rule's level and status into a confidence in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimWeights {
    /// Weight of `critical` rules.
    pub critical: f64,
    /// Weight of `high` rules.
    pub high: f64,
    /// Weight of `medium` rules.
    pub medium: f64,
    /// Weight of `low` rules.
    pub low: f64,
    /// Weight of `informational` rules.
    pub informational: f64,
    /// Weight of `stable` rules.
    pub stable: f64,
    /// Weight of `test` rules.
    pub test: f64,
    /// Weight of `experimental` rules.
    pub experimental: f64,
    /// Weight of rules with no status or another one.
    pub other_status: f64,
}

impl Default for ClaimWeights {
    fn default() -> Self {
        ClaimWeights {
            critical: 1.0,
            high: 1.0,
            medium: 0.75,
            low: 0.5,
            informational: 0.25,
            stable: 1.0,
            test: 0.8,
            experimental: 0.5,
            other_status: 0.5,
        }
    }
}

impl ClaimWeights {
    /// The weight of one rule.
    pub fn rule_weight(&self, rule: &RuleInfo) -> f64 {
        use rampart_event::Level;
        let level = match rule.level {
            Level::Critical => self.critical,
            Level::High => self.high,
            Level::Medium => self.medium,
            Level::Low => self.low,
            Level::Informational => self.informational,
        };
        let status = match rule
            .status
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("stable") => self.stable,
            Some("test") => self.test,
            Some("experimental") => self.experimental,
            Some("deprecated") | Some("unsupported") => 0.0,
            _ => self.other_status,
        };
        (level * status).clamp(0.0, 1.0)
    }
}

/// A rule's claim on a technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleClaim {
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub title: String,
    /// The rule's weight.
    pub weight: f64,
    /// The sub-technique the rule is tagged with, when it counts for this parent by roll-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Claimed coverage of one technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechniqueClaim {
    /// Technique id.
    pub technique: String,
    /// Combined score in `[0, 1]`.
    pub score: f64,
    /// The rules that claim it.
    pub rules: Vec<RuleClaim>,
}

/// A rule tag that does not name an active technique of the release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagIssue {
    /// The technique id as tagged.
    pub technique: String,
    /// What it is in the release.
    pub resolution: IdStatus,
    /// Rules carrying the tag.
    pub rules: Vec<String>,
}

/// Coverage of one tactic (a matrix column).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TacticCoverage {
    /// Tactic shortname.
    pub tactic: String,
    /// Tactic display name.
    pub name: String,
    /// Parent techniques in the tactic.
    pub techniques: usize,
    /// Parent techniques with at least one claiming rule (own or sub-technique's).
    pub covered: usize,
    /// Techniques and sub-techniques in the tactic.
    pub with_subtechniques: usize,
    /// Techniques and sub-techniques with at least one claiming rule of their own.
    pub covered_with_subtechniques: usize,
}

/// Coverage of one platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformCoverage {
    /// Platform name.
    pub platform: String,
    /// Techniques and sub-techniques on the platform.
    pub techniques: usize,
    /// Those claimed by at least one rule.
    pub covered: usize,
}

/// What a rule set claims to detect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimedCoverage {
    /// The ATT&CK release the tags were resolved against.
    pub attack_version: String,
    /// Rules considered.
    pub rules: usize,
    /// Rules with at least one technique tag.
    pub rules_with_technique: usize,
    /// Claimed techniques and sub-techniques by id.
    pub techniques: BTreeMap<String, TechniqueClaim>,
    /// Per tactic, in matrix order.
    pub by_tactic: Vec<TacticCoverage>,
    /// Per platform.
    pub by_platform: Vec<PlatformCoverage>,
    /// Tags that are not active techniques of the release (reported, not dropped).
    pub tag_issues: Vec<TagIssue>,
    /// The weights used.
    pub weights: ClaimWeights,
    /// The platform the per-tactic figures are restricted to, if any.
    pub platform: Option<String>,
}

impl ClaimedCoverage {
    /// Restricts the per-tactic figures and totals to techniques of one platform.
    /// Claims themselves are kept whole, so no rule's tag is lost.
    pub fn for_platform(mut self, matrix: &AttackMatrix, platform: &str) -> Self {
        self.by_tactic = tactic_coverage(matrix, &self.techniques, Some(platform));
        self.platform = Some(platform.to_string());
        self
    }

    /// The claimed score of a technique (0 when unclaimed).
    pub fn score(&self, technique: &str) -> f64 {
        self.techniques.get(technique).map_or(0.0, |c| c.score)
    }

    /// Active techniques and sub-techniques with a claim of their own (not only through
    /// a sub-technique), and all of them. (On the platform the coverage is restricted
    /// to, if any.) Revoked and deprecated ids are not techniques of the release.
    pub fn all_totals(&self, matrix: &AttackMatrix) -> (usize, usize) {
        let platform = self.platform.as_deref();
        let on: Vec<&str> = matrix
            .techniques
            .values()
            .filter(|t| t.is_on(platform))
            .map(|t| t.id.as_str())
            .collect();
        let claimed = on
            .iter()
            .filter(|id| own_claim(&self.techniques, id))
            .count();
        (claimed, on.len())
    }

    /// Active parent techniques with at least one claim, and all active parents.
    /// (On the platform the coverage is restricted to, if any.)
    pub fn parent_totals(&self, matrix: &AttackMatrix) -> (usize, usize) {
        let platform = self.platform.as_deref();
        let parents = matrix
            .techniques
            .values()
            .filter(|t| t.parent.is_none() && t.is_on(platform));
        let (mut covered, mut total) = (0, 0);
        for t in parents {
            total += 1;
            covered += usize::from(self.techniques.contains_key(&t.id));
        }
        (covered, total)
    }
}

/// The active technique ids a rule's tags stand for in the matrix's release (revoked
/// ids replaced), in tag order, without duplicates.
pub fn resolved_techniques(matrix: &AttackMatrix, rule: &RuleInfo) -> Vec<String> {
    let mut out = Vec::new();
    for tag in &rule.techniques {
        let id = match matrix.resolve(tag) {
            IdStatus::Active => tag.to_ascii_uppercase(),
            IdStatus::Revoked {
                replacement: Some(replacement),
            } if matrix.technique(&replacement).is_some() => replacement,
            _ => continue,
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Computes claimed coverage of `rules` against `matrix`.
pub fn claimed_coverage(
    matrix: &AttackMatrix,
    rules: &[RuleInfo],
    weights: &ClaimWeights,
) -> ClaimedCoverage {
    let mut techniques: BTreeMap<String, TechniqueClaim> = BTreeMap::new();
    let mut issues: BTreeMap<String, TagIssue> = BTreeMap::new();
    let mut with_technique = 0;
    for rule in rules {
        if !rule.techniques.is_empty() {
            with_technique += 1;
        }
        for tag in &rule.techniques {
            let resolution = matrix.resolve(tag);
            if resolution != IdStatus::Active {
                let issue = issues.entry(tag.clone()).or_insert_with(|| TagIssue {
                    technique: tag.clone(),
                    resolution: resolution.clone(),
                    rules: Vec::new(),
                });
                issue.rules.push(rule.id.clone());
            }
        }
        let weight = weights.rule_weight(rule);
        for id in resolved_techniques(matrix, rule) {
            let parent = matrix.technique(&id).and_then(|t| t.parent.clone());
            add_claim(&mut techniques, &id, rule, weight, None);
            if let Some(parent) = parent {
                add_claim(&mut techniques, &parent, rule, weight, Some(id.clone()));
            }
        }
    }
    for claim in techniques.values_mut() {
        let miss: f64 = claim.rules.iter().map(|r| 1.0 - r.weight).product();
        claim.score = 1.0 - miss;
    }
    let by_tactic = tactic_coverage(matrix, &techniques, None);
    let by_platform = platform_coverage(matrix, &techniques);
    ClaimedCoverage {
        attack_version: matrix.attack_version.clone(),
        rules: rules.len(),
        rules_with_technique: with_technique,
        techniques,
        by_tactic,
        by_platform,
        tag_issues: issues.into_values().collect(),
        weights: weights.clone(),
        platform: None,
    }
}

fn add_claim(
    techniques: &mut BTreeMap<String, TechniqueClaim>,
    id: &str,
    rule: &RuleInfo,
    weight: f64,
    via: Option<String>,
) {
    let claim = techniques
        .entry(id.to_string())
        .or_insert_with(|| TechniqueClaim {
            technique: id.to_string(),
            score: 0.0,
            rules: Vec::new(),
        });
    // A rule tagged with both a parent and its sub-technique claims the parent once.
    if claim.rules.iter().any(|r| r.rule_id == rule.id) {
        return;
    }
    claim.rules.push(RuleClaim {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        weight,
        via,
    });
}

/// Whether a technique has a claim of its own (not only through roll-up).
fn own_claim(techniques: &BTreeMap<String, TechniqueClaim>, id: &str) -> bool {
    techniques
        .get(id)
        .is_some_and(|c| c.rules.iter().any(|r| r.via.is_none()))
}

fn tactic_coverage(
    matrix: &AttackMatrix,
    techniques: &BTreeMap<String, TechniqueClaim>,
    platform: Option<&str>,
) -> Vec<TacticCoverage> {
    matrix
        .tactics
        .iter()
        .map(|tactic| {
            let in_tactic: Vec<_> = matrix
                .techniques
                .values()
                .filter(|t| t.tactics.contains(&tactic.shortname) && t.is_on(platform))
                .collect();
            let parents: Vec<_> = in_tactic.iter().filter(|t| t.parent.is_none()).collect();
            TacticCoverage {
                tactic: tactic.shortname.clone(),
                name: tactic.name.clone(),
                techniques: parents.len(),
                covered: parents
                    .iter()
                    .filter(|t| techniques.contains_key(&t.id))
                    .count(),
                with_subtechniques: in_tactic.len(),
                covered_with_subtechniques: in_tactic
                    .iter()
                    .filter(|t| own_claim(techniques, &t.id))
                    .count(),
            }
        })
        .collect()
}

fn platform_coverage(
    matrix: &AttackMatrix,
    techniques: &BTreeMap<String, TechniqueClaim>,
) -> Vec<PlatformCoverage> {
    matrix
        .platforms()
        .into_iter()
        .map(|platform| {
            let on: Vec<_> = matrix
                .techniques
                .values()
                .filter(|t| t.platforms.contains(&platform))
                .collect();
            PlatformCoverage {
                covered: on.iter().filter(|t| own_claim(techniques, &t.id)).count(),
                techniques: on.len(),
                platform,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::small_matrix;
    use rampart_event::Level;

    #[test]
    fn subtechniques_roll_up_and_weights_combine() {
        let matrix = small_matrix();
        let mut stable = RuleInfo::new("r1", "stable high", Level::High, &["T1059.001"]);
        stable.status = Some("stable".into());
        let mut experimental = RuleInfo::new("r2", "exp medium", Level::Medium, &["T1059"]);
        experimental.status = Some("experimental".into());
        let rules = [stable, experimental];
        let claimed = claimed_coverage(&matrix, &rules, &ClaimWeights::default());
        assert_eq!(claimed.score("T1059.001"), 1.0);
        let parent = &claimed.techniques["T1059"];
        assert_eq!(parent.rules.len(), 2);
        assert_eq!(parent.rules[0].via.as_deref(), Some("T1059.001"));
        // 1 - (1 - 1.0)(1 - 0.375) = 1.0; the experimental medium one alone is 0.375.
        assert!((parent.score - 1.0).abs() < 1e-9);
        let lone = claimed_coverage(&matrix, &rules[1..], &ClaimWeights::default());
        assert!((lone.score("T1059") - 0.375).abs() < 1e-9);
        assert_eq!(lone.score("T1059.001"), 0.0);
    }

    #[test]
    fn unknown_and_revoked_tags_are_reported_not_dropped() {
        let matrix = small_matrix();
        let rules = [
            RuleInfo::new("r1", "newer", Level::High, &["T1686"]),
            RuleInfo::new("r2", "revoked", Level::High, &["T1086"]),
        ];
        let claimed = claimed_coverage(&matrix, &rules, &ClaimWeights::default());
        assert_eq!(claimed.tag_issues.len(), 2);
        let unknown = claimed.tag_issues.iter().find(|i| i.technique == "T1686");
        assert_eq!(unknown.map(|i| &i.resolution), Some(&IdStatus::Unknown));
        // The revoked T1086 counts for its replacement T1059.001 (and its parent).
        assert!(claimed.techniques.contains_key("T1059.001"));
        let execution = claimed.by_tactic.iter().find(|t| t.tactic == "execution");
        assert_eq!(execution.map(|t| t.covered), Some(1));
    }

    #[test]
    fn platform_restricts_tactic_figures_not_claims() {
        let matrix = small_matrix();
        let rules = [RuleInfo::new("r1", "ps", Level::High, &["T1059.001"])];
        let all = claimed_coverage(&matrix, &rules, &ClaimWeights::default());
        assert_eq!(all.parent_totals(&matrix), (1, 5));
        let linux = all.for_platform(&matrix, "linux");
        // Only T1059 and T1059.003 are Linux techniques; the PowerShell claim stays.
        assert_eq!(linux.parent_totals(&matrix), (1, 1));
        let execution = &linux.by_tactic[0];
        assert_eq!(
            (
                execution.with_subtechniques,
                execution.covered_with_subtechniques
            ),
            (2, 0)
        );
        assert!(linux.techniques.contains_key("T1059.001"));
    }
}
