#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Claimed coverage of the SigmaHQ rules against ATT&CK Enterprise 18.1.

mod common;

use common::{enterprise, sigma_dirs, sigma_rules};
use rampart_coverage::{claimed_coverage, technique_ids_in, ClaimWeights, IdStatus};
use std::collections::BTreeSet;
use std::path::Path;

/// Every `attack.tNNNN[.NNN]` tag written in the rule files, read as plain text: an
/// oracle independent of the Sigma loader and of coverage.
fn tags_in_files(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            tags_in_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let line = line.trim().trim_start_matches("- ").trim();
                if let Some(tag) = line.strip_prefix("attack.") {
                    out.extend(technique_ids_in(tag));
                }
            }
        }
    }
}

#[test]
fn every_technique_tag_is_counted_or_reported() {
    let matrix = enterprise();
    let rules = sigma_rules();
    assert!(rules.len() > 3500, "{} rules loaded", rules.len());
    let claimed = claimed_coverage(matrix, rules, &ClaimWeights::default());
    let mut written = BTreeSet::new();
    for dir in sigma_dirs() {
        tags_in_files(&dir, &mut written);
    }
    let reported: BTreeSet<&str> = claimed
        .tag_issues
        .iter()
        .map(|i| i.technique.as_str())
        .collect();
    let mut missing = Vec::new();
    for tag in &written {
        if !claimed.techniques.contains_key(tag) && !reported.contains(tag.as_str()) {
            missing.push(tag.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "tags neither counted nor reported: {missing:?}"
    );
    // Tags from ATT&CK releases newer than 18.1 exist in SigmaHQ and are reported as unknown.
    assert!(claimed
        .tag_issues
        .iter()
        .any(|i| i.resolution == IdStatus::Unknown));
    for issue in &claimed.tag_issues {
        assert_eq!(matrix.resolve(&issue.technique), issue.resolution);
        assert!(!issue.rules.is_empty());
    }
}

#[test]
fn subtechniques_roll_up_and_tactics_add_up() {
    let matrix = enterprise();
    let claimed = claimed_coverage(matrix, sigma_rules(), &ClaimWeights::default());
    // LSASS dumping is claimed by SigmaHQ; its parent inherits those rules with `via`.
    let lsass = &claimed.techniques["T1003.001"];
    let parent = &claimed.techniques["T1003"];
    assert!(lsass.rules.len() >= 5);
    for rule in &lsass.rules {
        assert!(parent.rules.iter().any(|r| r.rule_id == rule.rule_id));
    }
    assert!(parent
        .rules
        .iter()
        .any(|r| r.via.as_deref() == Some("T1003.001")));
    assert!(parent.score >= lsass.score);
    // Tactic rows are in matrix order and never claim more than they hold.
    assert_eq!(claimed.by_tactic.len(), 14);
    assert_eq!(claimed.by_tactic[0].tactic, "reconnaissance");
    for tactic in &claimed.by_tactic {
        assert!(tactic.covered <= tactic.techniques, "{tactic:?}");
        assert!(tactic.covered_with_subtechniques <= tactic.with_subtechniques);
    }
    let execution = claimed
        .by_tactic
        .iter()
        .find(|t| t.tactic == "execution")
        .unwrap();
    assert!(
        execution.covered * 2 > execution.techniques,
        "{execution:?}"
    );
    let windows = claimed
        .by_platform
        .iter()
        .find(|p| p.platform == "Windows")
        .unwrap();
    let (covered, total) = claimed.parent_totals(matrix);
    assert!(covered > 100 && covered < total, "{covered}/{total}");
    assert!(windows.covered > covered, "{windows:?}");
}
