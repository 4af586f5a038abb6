//! IoA lint: ATT&CK hygiene of a rule set, so a researcher sees whether a new IoA is
//! needed or an existing one can be extended.
//!
//! Checks (each finding names the rule, the file and what to do):
//! - `no-technique`: no ATT&CK technique tag; `multiple-techniques`: more than one
//!   (one IoA, one technique; a parent tagged beside its own sub-technique counts once);
//! - `unknown-technique`, `revoked-technique` (with its replacement),
//!   `deprecated-technique`: tags that are not active techniques of the release;
//! - `unknown-tactic`: a tactic tag the release does not have; `tactic-mismatch`: a
//!   tactic tag none of the rule's techniques belongs to;
//! - `near-duplicate`: another rule on the same logsource whose detection atoms
//!   overlap (Jaccard similarity of `field|op=value` atoms at or above the threshold,
//!   and at least two shared atoms unless the detections are identical);
//! - `version-skew`: one finding for the whole rule set (empty rule id and path) when
//!   its tags use ids the release does not know or revoked, with counts, replacements
//!   and the remedy (see `skew`).

use crate::model::{AttackMatrix, IdStatus, LogSourceKey, RuleInfo};
use crate::skew::{version_skew, VersionSkew};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The kind of a lint finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LintKind {
    /// No technique tag.
    NoTechnique,
    /// More than one technique tag.
    MultipleTechniques,
    /// A technique id the release does not know.
    UnknownTechnique,
    /// A revoked technique id.
    RevokedTechnique,
    /// A deprecated technique id.
    DeprecatedTechnique,
    /// A tactic the release does not have.
    UnknownTactic,
    /// A tactic none of the rule's techniques belongs to.
    TacticMismatch,
    /// Overlaps another rule on the same logsource.
    NearDuplicate,
    /// The rule set is tagged for another ATT&CK release (one finding per rule set).
    VersionSkew,
}

impl LintKind {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LintKind::NoTechnique => "no-technique",
            LintKind::MultipleTechniques => "multiple-techniques",
            LintKind::UnknownTechnique => "unknown-technique",
            LintKind::RevokedTechnique => "revoked-technique",
            LintKind::DeprecatedTechnique => "deprecated-technique",
            LintKind::UnknownTactic => "unknown-tactic",
            LintKind::TacticMismatch => "tactic-mismatch",
            LintKind::NearDuplicate => "near-duplicate",
            LintKind::VersionSkew => "version-skew",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LintFinding {
    /// What kind.
    pub kind: LintKind,
    /// The rule's id.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// The rule's file.
    pub path: String,
    /// What is wrong and what to do, in words.
    pub message: String,
    /// The other id involved: the replacement technique, or the duplicate rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
}

/// Lint settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LintOptions {
    /// Jaccard similarity at or above which two rules are near-duplicates.
    pub duplicate_threshold: f64,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            duplicate_threshold: 0.5,
        }
    }
}

/// The findings and their counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LintReport {
    /// Rules linted.
    pub rules: usize,
    /// Findings, by rule path then kind.
    pub findings: Vec<LintFinding>,
    /// Number of findings of each kind.
    pub counts: BTreeMap<String, usize>,
    /// Tags the release does not know or revoked, counted over the rule set.
    pub version_skew: VersionSkew,
}

/// Lints a rule set against an ATT&CK release.
pub fn lint_rules(matrix: &AttackMatrix, rules: &[RuleInfo], options: &LintOptions) -> LintReport {
    let mut findings = Vec::new();
    for rule in rules {
        tag_findings(matrix, rule, &mut findings);
    }
    near_duplicates(rules, options.duplicate_threshold, &mut findings);
    let version_skew = version_skew(matrix, rules);
    if let Some(message) = version_skew.summary() {
        findings.push(LintFinding {
            kind: LintKind::VersionSkew,
            rule_id: String::new(),
            title: String::new(),
            path: String::new(),
            message,
            related: None,
        });
    }
    findings.sort_by(|a, b| {
        (a.path.as_str(), a.kind, a.related.as_deref()).cmp(&(
            b.path.as_str(),
            b.kind,
            b.related.as_deref(),
        ))
    });
    let mut counts = BTreeMap::new();
    for finding in &findings {
        *counts.entry(finding.kind.as_str().to_string()).or_insert(0) += 1;
    }
    LintReport {
        rules: rules.len(),
        findings,
        counts,
        version_skew,
    }
}

fn finding(
    rule: &RuleInfo,
    kind: LintKind,
    message: String,
    related: Option<String>,
) -> LintFinding {
    LintFinding {
        kind,
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        path: rule.path.clone(),
        message,
        related,
    }
}

fn tag_findings(matrix: &AttackMatrix, rule: &RuleInfo, out: &mut Vec<LintFinding>) {
    // A parent tagged beside one of its own sub-techniques is the same IoA.
    let distinct: Vec<&String> = rule
        .techniques
        .iter()
        .filter(|t| {
            !rule.techniques.iter().any(|other| {
                other
                    .split_once('.')
                    .is_some_and(|(parent, _)| parent == t.as_str())
            })
        })
        .collect();
    match distinct.len() {
        0 => out.push(finding(
            rule,
            LintKind::NoTechnique,
            "no ATT&CK technique tag: map the IoA to the one technique it detects".into(),
            None,
        )),
        1 => {}
        n => out.push(finding(
            rule,
            LintKind::MultipleTechniques,
            format!(
                "{n} techniques ({}): one IoA should detect one technique; split the rule or keep the one it really shows",
                distinct.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
            None,
        )),
    }
    let mut technique_tactics: Vec<&str> = Vec::new();
    for tag in &rule.techniques {
        match matrix.resolve(tag) {
            IdStatus::Active => {
                if let Some(t) = matrix.technique(tag) {
                    technique_tactics.extend(t.tactics.iter().map(String::as_str));
                }
            }
            IdStatus::Unknown => out.push(finding(
                rule,
                LintKind::UnknownTechnique,
                format!(
                    "{tag} is not a technique of ATT&CK {} (a typo, or a newer release)",
                    matrix.attack_version
                ),
                None,
            )),
            IdStatus::Deprecated => out.push(finding(
                rule,
                LintKind::DeprecatedTechnique,
                format!(
                    "{tag} is deprecated in ATT&CK {} and has no replacement",
                    matrix.attack_version
                ),
                None,
            )),
            IdStatus::Revoked { replacement } => {
                if let Some(t) = replacement.as_deref().and_then(|r| matrix.technique(r)) {
                    technique_tactics.extend(t.tactics.iter().map(String::as_str));
                }
                let message = match &replacement {
                    Some(r) => format!(
                        "{tag} is revoked in ATT&CK {}: use {r}",
                        matrix.attack_version
                    ),
                    None => format!("{tag} is revoked in ATT&CK {}", matrix.attack_version),
                };
                out.push(finding(
                    rule,
                    LintKind::RevokedTechnique,
                    message,
                    replacement,
                ));
            }
        }
    }
    for tactic in &rule.tactics {
        if matrix.tactic(tactic).is_none() {
            out.push(finding(
                rule,
                LintKind::UnknownTactic,
                format!(
                    "tactic `{tactic}` is not a tactic of ATT&CK {}",
                    matrix.attack_version
                ),
                None,
            ));
        } else if !technique_tactics.is_empty() && !technique_tactics.contains(&tactic.as_str()) {
            let mut expected: Vec<&str> = technique_tactics.clone();
            expected.sort();
            expected.dedup();
            out.push(finding(
                rule,
                LintKind::TacticMismatch,
                format!(
                    "tactic `{tactic}` does not match its technique(s), whose tactics are {}",
                    expected.join(", ")
                ),
                None,
            ));
        }
    }
}

fn near_duplicates(rules: &[RuleInfo], threshold: f64, out: &mut Vec<LintFinding>) {
    let mut by_source: HashMap<&LogSourceKey, Vec<usize>> = HashMap::new();
    for (index, rule) in rules.iter().enumerate() {
        if !rule.detection_atoms.is_empty() {
            by_source.entry(&rule.logsource).or_default().push(index);
        }
    }
    for members in by_source.values() {
        // Inverted index: only rules sharing an atom are ever compared.
        let mut holders: HashMap<&str, Vec<usize>> = HashMap::new();
        for &i in members {
            for atom in &rules[i].detection_atoms {
                holders.entry(atom).or_default().push(i);
            }
        }
        for &i in members {
            let mut shared: HashMap<usize, usize> = HashMap::new();
            for atom in &rules[i].detection_atoms {
                for &j in &holders[atom.as_str()] {
                    if j > i {
                        *shared.entry(j).or_insert(0) += 1;
                    }
                }
            }
            for (j, common) in shared {
                let (a, b) = (&rules[i], &rules[j]);
                let union = a.detection_atoms.len() + b.detection_atoms.len() - common;
                let similarity = common as f64 / union as f64;
                let identical = common == union;
                if similarity >= threshold && (common >= 2 || identical) {
                    let message = format!(
                        "overlaps `{}` ({}) on {}: {common} shared detection values, similarity {similarity:.2}; extend one rule instead of keeping two",
                        b.title, b.path, a.logsource
                    );
                    out.push(finding(
                        a,
                        LintKind::NearDuplicate,
                        message,
                        Some(b.id.clone()),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::small_matrix;
    use rampart_event::Level;

    fn kinds(report: &LintReport, rule: &str) -> Vec<LintKind> {
        report
            .findings
            .iter()
            .filter(|f| f.rule_id == rule)
            .map(|f| f.kind)
            .collect()
    }

    #[test]
    fn tag_problems_are_found() {
        let matrix = small_matrix();
        let mut good = RuleInfo::new("good", "ok", Level::High, &["T1059.001", "T1059"]);
        good.tactics = vec!["execution".into()];
        let none = RuleInfo::new("none", "untagged", Level::High, &[]);
        let mut many = RuleInfo::new("many", "two", Level::High, &["T1059.001", "T1003.001"]);
        many.tactics = vec!["persistence".into(), "stealth".into()];
        let old = RuleInfo::new("old", "old ids", Level::High, &["T1086", "T1064", "T1999"]);
        let report = lint_rules(&matrix, &[good, none, many, old], &LintOptions::default());
        assert!(kinds(&report, "good").is_empty(), "{:#?}", report.findings);
        assert_eq!(kinds(&report, "none"), [LintKind::NoTechnique]);
        assert_eq!(
            kinds(&report, "many"),
            [
                LintKind::MultipleTechniques,
                LintKind::UnknownTactic,
                LintKind::TacticMismatch
            ]
        );
        let revoked = report
            .findings
            .iter()
            .find(|f| f.kind == LintKind::RevokedTechnique);
        assert_eq!(
            revoked.and_then(|f| f.related.as_deref()),
            Some("T1059.001")
        );
        assert!(kinds(&report, "old").contains(&LintKind::DeprecatedTechnique));
        assert!(kinds(&report, "old").contains(&LintKind::UnknownTechnique));
    }

    #[test]
    fn overlapping_rules_on_one_logsource_are_near_duplicates() {
        let matrix = small_matrix();
        let source = LogSourceKey {
            product: Some("windows".into()),
            category: Some("process_creation".into()),
            service: None,
        };
        let atoms = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut a = RuleInfo::new("a", "A", Level::High, &["T1059.001"]);
        a.logsource = source.clone();
        a.detection_atoms = atoms(&[
            "image|endswith=\\powershell.exe",
            "commandline|contains=-enc",
            "commandline|contains=-nop",
        ]);
        let mut b = a.clone();
        b.id = "b".into();
        b.detection_atoms = atoms(&[
            "image|endswith=\\powershell.exe",
            "commandline|contains=-enc",
        ]);
        let mut c = a.clone();
        c.id = "c".into();
        c.logsource.category = Some("ps_script".into());
        let mut d = a.clone();
        d.id = "d".into();
        d.detection_atoms = atoms(&[
            "image|endswith=\\powershell.exe",
            "commandline|contains=invoke-mimikatz",
        ]);
        let report = lint_rules(&matrix, &[a, b, c, d], &LintOptions::default());
        let pairs: Vec<(&str, &str)> = report
            .findings
            .iter()
            .filter(|f| f.kind == LintKind::NearDuplicate)
            .filter_map(|f| Some((f.rule_id.as_str(), f.related.as_deref()?)))
            .collect();
        // a~b share 2 of 3 atoms; c has another logsource; d shares only one atom.
        assert_eq!(pairs, [("a", "b")]);
    }
}
