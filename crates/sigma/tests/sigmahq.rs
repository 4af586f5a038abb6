//! Parse-all of SigmaHQ's rule folders: the loader must accept at least 99 % of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_sigma::{load_rules, Severity};
use std::collections::BTreeMap;

#[test]
fn loads_at_least_99_percent_of_sigmahq() {
    let folders = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .map(|folder| rampart_testkit::data_path(&format!("sigma/{folder}")));
    let started = std::time::Instant::now();
    let (set, diagnostics) = load_rules(&folders);
    let elapsed = started.elapsed();
    let failed = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let loaded = set.rules.len();
    let total = loaded + failed;
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for diagnostic in &diagnostics {
        *by_kind.entry(diagnostic.kind.to_string()).or_default() += 1;
        eprintln!("{diagnostic}");
    }
    eprintln!("{loaded} of {total} loaded in {elapsed:?}; failures by kind: {by_kind:?}");
    // 3,141 + 473 + 140 rule files, one rule each.
    assert_eq!(total, 3_754);
    assert!(
        loaded * 100 >= total * 99,
        "only {loaded} of {total} rules loaded"
    );
}
