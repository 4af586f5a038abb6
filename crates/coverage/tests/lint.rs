#![allow(clippy::unwrap_used, clippy::expect_used)]
//! IoA lint on purpose-made bad rules (tests/data/lint) against ATT&CK 18.1, and on
//! SigmaHQ as a whole.

mod common;

use common::{enterprise, sigma_rules};
use rampart_coverage::{lint_rules, rule_info, LintKind, LintOptions};
use std::collections::BTreeMap;
use std::path::Path;

fn findings_by_file() -> BTreeMap<String, Vec<(LintKind, Option<String>)>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lint");
    let (set, diagnostics) = rampart_sigma::load_rules(&[dir]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(set.rules.len(), 9);
    let rules: Vec<_> = set.rules.iter().map(rule_info).collect();
    let report = lint_rules(enterprise(), &rules, &LintOptions::default());
    let mut by_file: BTreeMap<String, Vec<(LintKind, Option<String>)>> = BTreeMap::new();
    for rule in &rules {
        let name = Path::new(&rule.path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        by_file.insert(name, Vec::new());
    }
    for finding in report.findings {
        // The one rule-set-wide finding has no file.
        if finding.kind == LintKind::VersionSkew {
            assert!(finding.path.is_empty());
            by_file
                .entry("(rule set)".into())
                .or_default()
                .push((finding.kind, None));
            continue;
        }
        let name = Path::new(&finding.path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        by_file
            .entry(name)
            .or_default()
            .push((finding.kind, finding.related));
    }
    by_file
}

#[test]
fn each_bad_rule_gets_its_finding_and_the_good_one_none() {
    let found = findings_by_file();
    let kinds = |file: &str| found[file].iter().map(|(k, _)| *k).collect::<Vec<_>>();
    assert_eq!(kinds("good.yml"), []);
    assert_eq!(kinds("no_technique.yml"), [LintKind::NoTechnique]);
    assert_eq!(kinds("two_techniques.yml"), [LintKind::MultipleTechniques]);
    assert_eq!(kinds("tactic_mismatch.yml"), [LintKind::TacticMismatch]);
    assert_eq!(
        found["revoked.yml"],
        [(LintKind::RevokedTechnique, Some("T1059.001".to_string()))]
    );
    assert_eq!(kinds("deprecated.yml"), [LintKind::DeprecatedTechnique]);
    assert_eq!(
        kinds("unknown.yml"),
        [LintKind::UnknownTechnique, LintKind::UnknownTactic]
    );
    // T1999, `evasion` and the revoked T1086: said once for the whole set.
    assert_eq!(found["(rule set)"], [(LintKind::VersionSkew, None)]);
    assert_eq!(
        found["dup_a.yml"],
        [(
            LintKind::NearDuplicate,
            Some("00000000-0000-4000-8000-000000000009".to_string())
        )]
    );
}

#[test]
fn sigmahq_findings_are_consistent_with_the_rules() {
    let rules = sigma_rules();
    let report = lint_rules(enterprise(), rules, &LintOptions::default());
    let untagged = rules.iter().filter(|r| r.techniques.is_empty()).count();
    assert_eq!(report.counts["no-technique"], untagged);
    // SigmaHQ already uses ATT&CK v19's `stealth` tactic, unknown to 18.1.
    assert!(report
        .findings
        .iter()
        .any(|f| f.kind == LintKind::UnknownTactic && f.message.contains("`stealth`")));
    // ... and says so once for the rule set, with the remedy.
    let skew: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == LintKind::VersionSkew)
        .collect();
    assert_eq!(skew.len(), 1);
    assert!(
        skew[0].message.contains("stealth") && skew[0].message.contains("rampart data update"),
        "{}",
        skew[0].message
    );
    let total: usize = report.counts.values().sum();
    assert_eq!(total, report.findings.len());
}
