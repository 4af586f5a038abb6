//! Loading the real reference data once per test binary.

use rampart_coverage::{matrix_from_knowledge, rule_info, AttackMatrix, RuleInfo};
use rampart_knowledge::{load_matrix, Domain};
use rampart_testkit::data_path;
use std::path::PathBuf;
use std::sync::OnceLock;

/// ATT&CK Enterprise 18.1 as coverage sees it (without D3FEND, which tests add by hand).
pub fn enterprise() -> &'static AttackMatrix {
    static MATRIX: OnceLock<AttackMatrix> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let path = data_path("mitre-attack/enterprise-attack-18.1.json.gz");
        let graph = load_matrix(Domain::Enterprise, &path).expect("ATT&CK Enterprise loads");
        matrix_from_knowledge(&graph, |_| Vec::new())
    })
}

/// ATT&CK Enterprise 19.1, the release SigmaHQ's rules are tagged for.
#[allow(dead_code)] // not every test binary compares releases
pub fn enterprise_19() -> &'static AttackMatrix {
    static MATRIX: OnceLock<AttackMatrix> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let path = data_path("mitre-attack/enterprise-attack-19.1.json.gz");
        let graph = load_matrix(Domain::Enterprise, &path).expect("ATT&CK Enterprise loads");
        matrix_from_knowledge(&graph, |_| Vec::new())
    })
}

/// The SigmaHQ rule folders used for alerting and hunting.
pub fn sigma_dirs() -> Vec<PathBuf> {
    ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| data_path(&format!("sigma/{d}")))
        .collect()
}

/// The SigmaHQ rules, as coverage sees them.
pub fn sigma_rules() -> &'static Vec<RuleInfo> {
    static RULES: OnceLock<Vec<RuleInfo>> = OnceLock::new();
    RULES.get_or_init(|| {
        let (set, _diagnostics) = rampart_sigma::load_rules(&sigma_dirs());
        set.rules.iter().map(rule_info).collect()
    })
}
