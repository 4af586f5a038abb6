//! The ATT&CK bundles load into graphs whose counts and links match the published data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_knowledge::{load_matrix, Domain, Kind, Matrix, Status};
use std::sync::OnceLock;

fn enterprise() -> &'static Matrix {
    static MATRIX: OnceLock<Matrix> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let path = rampart_testkit::data_path("mitre-attack/enterprise-attack-18.1.json.gz");
        load_matrix(Domain::Enterprise, &path).unwrap()
    })
}

fn technique<'m>(matrix: &'m Matrix, id: &str) -> (u32, &'m rampart_knowledge::Technique) {
    let node = matrix.by_attack_id(id)[0];
    assert_eq!(node.kind, Kind::Technique);
    (node.index, &matrix.techniques[node.index as usize])
}

#[test]
fn enterprise_counts_match_the_readme() {
    let m = enterprise();
    let count = |kind: Kind| {
        let all = m.len_of(kind);
        let active = m
            .nodes()
            .filter(|n| n.kind == kind && m.status(*n) == Status::Active)
            .count();
        (all, active)
    };
    assert_eq!(count(Kind::Technique), (835, 691));
    assert_eq!(count(Kind::Group), (187, 172));
    assert_eq!(count(Kind::Mitigation), (268, 44));
    assert_eq!(m.tactics.len(), 14);
    assert_eq!(m.software.len(), 696 + 91);
    assert_eq!(m.campaigns.len(), 52);
    assert_eq!(m.data_components.len(), 109);
    assert_eq!(m.detection_strategies.len(), 691);
    assert_eq!(m.analytics.len(), 1739);
    let subs = m
        .techniques
        .iter()
        .filter(|t| t.is_subtechnique && t.meta.status == Status::Active)
        .count();
    assert_eq!(subs, 475);
    assert_eq!(m.counts.relationships.get("uses"), Some(&17_270));
    assert_eq!(m.counts.of("relationship").total, 20_048);
    assert_eq!(m.version, "18.1");
}

#[test]
fn tactics_follow_the_matrix_columns() {
    let m = enterprise();
    let names: Vec<&str> = m.tactics.iter().map(|t| t.shortname.as_str()).collect();
    assert_eq!(names.first(), Some(&"reconnaissance"));
    assert_eq!(names.last(), Some(&"impact"));
    assert!(m.tactic_order("persistence") < m.tactic_order("privilege-escalation"));
    assert!(m.tactic_order("execution") < m.tactic_order("persistence"));
}

#[test]
fn scheduled_task_has_three_tactics_and_a_parent() {
    let m = enterprise();
    let (index, t) = technique(m, "t1053.005");
    assert_eq!(t.meta.name, "Scheduled Task");
    assert_eq!(
        t.tactics,
        ["execution", "persistence", "privilege-escalation"]
    );
    assert!(t.is_subtechnique);
    let parent = &m.techniques[t.parent.unwrap() as usize];
    assert_eq!(parent.meta.attack_id, "T1053");
    assert!(parent.subtechniques.contains(&index));
    assert!(!m.mitigations_of(index).is_empty());
    assert!(!m.detection_strategies_of(index).is_empty());
    let sources = m.log_sources_of(index);
    assert!(sources
        .iter()
        .flat_map(|s| &s.log_sources)
        .any(|l| l.name.starts_with("WinEventLog")));
}

#[test]
fn revoked_technique_resolves_to_its_replacement() {
    let m = enterprise();
    // T1086 PowerShell was revoked by T1059.001.
    let node = m.by_attack_id("T1086")[0];
    assert_eq!(m.status(node), Status::Revoked);
    let replacement = m.replacement(node).unwrap();
    assert_eq!(m.meta(replacement).unwrap().attack_id, "T1059.001");
}
