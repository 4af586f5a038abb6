#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Version skew on the real releases: rules tagged with ids that 19.1 revoked, and
//! rules tagged with 19.x ids read against 18.1 loaded by path.

mod common;

use common::{enterprise, enterprise_19, sigma_rules};
use rampart_coverage::{
    claimed_coverage, rank_gaps, version_skew, ClaimWeights, GapInputs, GapOptions, RuleInfo,
};
use rampart_event::Level;

#[test]
fn ids_revoked_in_19_1_name_their_successors_which_count_as_claimed() {
    let matrix = enterprise_19();
    let rules = [
        RuleInfo::new("r1", "tamper with tools", Level::High, &["T1562.001"]),
        RuleInfo::new("r2", "tamper again", Level::High, &["T1562.001"]),
        RuleInfo::new("r3", "clear event logs", Level::High, &["T1070.001"]),
        // Revoked twice: T1073 → T1574.002 (18.x) → T1574.001 (19.1).
        RuleInfo::new("r4", "dll side-loading", Level::High, &["T1073"]),
    ];
    let skew = version_skew(matrix, &rules);
    assert_eq!(skew.attack_version, "19.1");
    assert!(skew.unknown_techniques.is_empty());
    assert_eq!(skew.rules_with_revoked, 4);
    let successor = |tag: &str| {
        skew.revoked_techniques
            .iter()
            .find(|t| t.tag == tag)
            .and_then(|t| t.replacement.clone())
    };
    assert_eq!(successor("T1562.001").as_deref(), Some("T1685"));
    assert_eq!(successor("T1070.001").as_deref(), Some("T1685.005"));
    assert_eq!(successor("T1073").as_deref(), Some("T1574.001"));
    // The most used first.
    assert_eq!(skew.revoked_techniques[0].tag, "T1562.001");
    assert_eq!(skew.revoked_techniques[0].rules, 2);
    let line = skew.summary().unwrap();
    for part in [
        "4 rule(s) use 3 technique id(s) revoked in ATT&CK 19.1",
        "T1562.001 → T1685",
        "T1073 → T1574.001",
        "`rampart data update`",
    ] {
        assert!(line.contains(part), "{part:?} not in {line}");
    }

    // The successors are claimed; no revoked id is ever a gap, and no successor is a
    // gap "no rule claims it".
    let claimed = claimed_coverage(matrix, &rules, &ClaimWeights::default());
    for id in ["T1685", "T1685.005", "T1574.001"] {
        assert!(claimed.score(id) > 0.0, "{id} not claimed");
    }
    let gaps = rank_gaps(
        matrix,
        &GapInputs {
            claimed: &claimed,
            validated: None,
            visibility: None,
        },
        &GapOptions::default(),
    );
    for id in ["T1562", "T1562.001", "T1070.001", "T1073", "T1574.002"] {
        assert!(gaps.iter().all(|g| g.technique != id), "{id} is a gap");
    }
    for gap in gaps
        .iter()
        .filter(|g| ["T1685", "T1685.005", "T1574.001"].contains(&g.technique.as_str()))
    {
        assert!(
            !gap.reasons.iter().any(|r| r == "no rule claims it"),
            "{}: {:?}",
            gap.technique,
            gap.reasons
        );
    }
}

#[test]
fn ids_of_19_are_unknown_to_18_1_loaded_by_path() {
    let matrix = enterprise();
    let mut rule = RuleInfo::new("r1", "tamper with tools", Level::High, &["T1685"]);
    rule.tactics = vec!["stealth".into(), "defense-impairment".into()];
    let skew = version_skew(matrix, &[rule]);
    assert_eq!(skew.attack_version, "18.1");
    assert_eq!(skew.rules_with_unknown, 1);
    let tags = |list: &[rampart_coverage::SkewedTag]| {
        list.iter().map(|t| t.tag.clone()).collect::<Vec<_>>()
    };
    assert_eq!(tags(&skew.unknown_techniques), ["T1685"]);
    assert_eq!(
        tags(&skew.unknown_tactics),
        ["defense-impairment", "stealth"]
    );
    let line = skew.summary().unwrap();
    assert!(
        line.contains("unknown to ATT&CK 18.1") && line.contains("`rampart data update`"),
        "{line}"
    );
}

#[test]
fn sigmahq_is_skewed_against_18_1_not_against_19_1() {
    let rules = sigma_rules();
    let old = version_skew(enterprise(), rules);
    assert!(old.rules_with_unknown > 100, "{}", old.rules_with_unknown);
    assert!(old.unknown_tactics.iter().any(|t| t.tag == "stealth"));
    assert!(old.unknown_techniques.iter().any(|t| t.tag == "T1685"));
    let new = version_skew(enterprise_19(), rules);
    assert!(new.unknown_techniques.is_empty(), "{new:?}");
    assert!(new.revoked_techniques.is_empty(), "{new:?}");
    assert!(!new.unknown_tactics.iter().any(|t| t.tag == "stealth"));
}

#[test]
fn default_tactic_priority_keeps_defense_evasion_halves_in_19_1() {
    let matrix = enterprise_19();
    let claimed = claimed_coverage(matrix, &[], &ClaimWeights::default());
    let gaps = rank_gaps(
        matrix,
        &GapInputs {
            claimed: &claimed,
            validated: None,
            visibility: None,
        },
        &GapOptions::default(),
    );
    for tactic in ["stealth", "defense-impairment"] {
        let in_tactic: Vec<_> = gaps
            .iter()
            .filter(|g| g.tactics.iter().any(|t| t == tactic))
            .collect();
        assert!(!in_tactic.is_empty(), "{tactic}");
        assert!(
            in_tactic.iter().all(|g| g.factors.tactic > 0.0),
            "{tactic} has no priority"
        );
    }
}
