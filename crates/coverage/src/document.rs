//! The `rampart coverage --json` document, shared by the CLI and the service
//! (`GET /api/v1/coverage`).

use crate::{
    claimed_coverage, lint_rules, matrix_from_knowledge, rank_gaps, AttackMatrix, ClaimWeights,
    ClaimedCoverage, Confidence, Countermeasure, Gap, GapInputs, GapOptions, LintOptions,
    LintReport, RuleInfo, TechniqueVisibility, ValidatedCoverage, VersionSkew, SKEW_REMEDY,
};
use rampart_knowledge::{Domain, Hit, Kind, Knowledge};
use serde_json::json;
use std::collections::BTreeMap;

/// Everything one coverage run computed.
pub struct CoverageDocument<'a> {
    /// The ATT&CK domain.
    pub matrix: &'a AttackMatrix,
    /// What the rules claim.
    pub claimed: &'a ClaimedCoverage,
    /// What samples proved, when samples were run.
    pub validated: Option<&'a ValidatedCoverage>,
    /// Which techniques the collected telemetry can see, when known.
    pub visibility: Option<&'a BTreeMap<String, TechniqueVisibility>>,
    /// Ranked gaps.
    pub gaps: &'a [Gap],
    /// Tag findings.
    pub lint: &'a LintReport,
    /// Tags the loaded ATT&CK release does not know or revoked.
    pub skew: &'a VersionSkew,
    /// The platform the run was limited to.
    pub platform: Option<&'a str>,
    /// Group ids the threat factor counted.
    pub groups: &'a [String],
}

impl CoverageDocument<'_> {
    /// The `--json` document.
    pub fn json(&self) -> serde_json::Value {
        let (parents, parents_total) = self.claimed.parent_totals(self.matrix);
        let (all, all_total) = self.claimed.all_totals(self.matrix);
        let never_validated: Vec<&String> = match self.validated {
            Some(v) => self
                .claimed
                .techniques
                .keys()
                .filter(|id| v.confidence(id).is_none())
                .collect(),
            None => Vec::new(),
        };
        // Claimed and validated side by side, one row per claimed technique.
        let side_by_side: Vec<serde_json::Value> = self
            .claimed
            .techniques
            .values()
            .map(|claim| {
                json!({
                    "technique": claim.technique,
                    "claimed_score": claim.score,
                    "rules": claim.rules.len(),
                    "validation": self.validated.map(|v| v.confidence(&claim.technique)),
                })
            })
            .collect();
        json!({
            "domain": self.matrix.domain,
            "attack_version": self.matrix.attack_version,
            "platform": self.platform,
            "groups": self.groups,
            "summary": {
                "rules": self.claimed.rules,
                "rules_with_technique": self.claimed.rules_with_technique,
                "parent_techniques_claimed": parents,
                "parent_techniques_total": parents_total,
                "parent_techniques_claimed_percent": percent(parents, parents_total),
                "techniques_incl_subtechniques_claimed": all,
                "techniques_incl_subtechniques_total": all_total,
                "techniques_incl_subtechniques_claimed_percent": percent(all, all_total),
                "techniques_validated_on_independent_samples": self.validated.map(|v| v.count(Confidence::Validated)),
                "techniques_self_validated_only": self.validated.map(|v| v.count(Confidence::SelfValidated)),
                "techniques_corroborated": self.validated.map(|v| v.count(Confidence::Corroborated)),
                "claimed_never_validated": self.validated.map(|_| never_validated.len()),
                "gaps": self.gaps.len(),
                "lint_findings": self.lint.findings.len(),
            },
            "techniques": side_by_side,
            "claimed": self.claimed,
            "validated": self.validated,
            "claimed_never_validated": self.validated.map(|_| &never_validated),
            "visibility": self.visibility,
            "gaps": self.gaps,
            "lint": self.lint,
            "version_skew": self.skew_json(),
        })
    }

    /// Tags the loaded release does not know or revoked, with the remedy; `null`
    /// when every tag matches.
    fn skew_json(&self) -> serde_json::Value {
        if self.skew.is_empty() {
            return serde_json::Value::Null;
        }
        json!({
            "summary": self.skew.summary(),
            "remedy": SKEW_REMEDY,
            "rules_with_unknown": self.skew.rules_with_unknown,
            "rules_with_revoked": self.skew.rules_with_revoked,
            "unknown_techniques": self.skew.unknown_techniques,
            "unknown_tactics": self.skew.unknown_tactics,
            "revoked_techniques": self.skew.revoked_techniques,
        })
    }
}

fn percent(part: usize, whole: usize) -> usize {
    (part * 100).checked_div(whole).unwrap_or(0)
}

/// One ATT&CK domain of `knowledge` as coverage sees it, with each technique's D3FEND
/// countermeasures; `None` when the domain is not loaded.
pub fn matrix_with_countermeasures(knowledge: &Knowledge, domain: Domain) -> Option<AttackMatrix> {
    let graph = knowledge.matrix(domain)?;
    let countermeasures = |id: &str| -> Vec<Countermeasure> {
        let Some(node) = graph
            .by_attack_id(id)
            .into_iter()
            .find(|n| n.kind == Kind::Technique && graph.is_active(*n))
        else {
            return Vec::new();
        };
        knowledge
            .countermeasures(Hit { domain, node })
            .into_iter()
            .map(|c| Countermeasure {
                id: c.id,
                name: c.name,
                tactic: c.tactic,
            })
            .collect()
    };
    Some(matrix_from_knowledge(graph, countermeasures))
}

/// The `coverage --json` document of `rules` over `matrix` with default options and
/// no samples, telemetry, platform or groups: claimed coverage, ranked gaps, lint.
pub fn claimed_document(matrix: &AttackMatrix, rules: &[RuleInfo]) -> serde_json::Value {
    let claimed = claimed_coverage(matrix, rules, &ClaimWeights::default());
    let gaps = rank_gaps(
        matrix,
        &GapInputs {
            claimed: &claimed,
            validated: None,
            visibility: None,
        },
        &GapOptions::default(),
    );
    let lint = lint_rules(matrix, rules, &LintOptions::default());
    let skew: &VersionSkew = &lint.version_skew;
    CoverageDocument {
        matrix,
        claimed: &claimed,
        validated: None,
        visibility: None,
        gaps: &gaps,
        lint: &lint,
        skew,
        platform: None,
        groups: &[],
    }
    .json()
}
