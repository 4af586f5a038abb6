//! The joined graph: lookups, resolution, search, D3FEND and ENGAGE on the real data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_knowledge::{Domain, Kind, Knowledge, Resolution, Status};
use std::sync::OnceLock;

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

fn id_of(k: &Knowledge, hit: rampart_knowledge::Hit) -> String {
    k.matrix_of(hit).meta(hit.node).unwrap().attack_id.clone()
}

#[test]
fn every_domain_loads_with_published_counts() {
    let k = knowledge();
    let mobile = k.matrix(Domain::Mobile).unwrap();
    assert_eq!(mobile.counts.of("attack-pattern").total, 190);
    assert_eq!(mobile.counts.of("attack-pattern").active, 124);
    assert_eq!(mobile.counts.of("intrusion-set").total, 22);
    assert_eq!(mobile.tactics.len(), 14);
    let ics = k.matrix(Domain::Ics).unwrap();
    assert_eq!(ics.counts.of("attack-pattern").total, 118);
    assert_eq!(ics.counts.of("attack-pattern").active, 97);
    assert_eq!(ics.assets.len(), 18);
    assert_eq!(ics.counts.relationships.get("targets"), Some(&842));
    assert!(ics.edges.iter().any(|e| e.target.kind == Kind::Asset));
}

#[test]
fn apt29_resolves_by_id_name_and_alias() {
    let k = knowledge();
    let by_id = k.find("g0016").unwrap();
    assert_eq!(by_id.node.kind, Kind::Group);
    assert_eq!(k.find("APT29"), Some(by_id));
    assert_eq!(k.find("cozy bear"), Some(by_id));
    assert_eq!(k.find("NOBELIUM"), Some(by_id));
    let stix = k.matrix_of(by_id).meta(by_id.node).unwrap().stix_id.clone();
    assert_eq!(k.find(&stix), Some(by_id));
}

#[test]
fn apt29_uses_techniques_directly_and_through_software() {
    let k = knowledge();
    let hit = k.find("APT29").unwrap();
    let report = k.group_report(hit).unwrap();
    assert!(report.techniques.iter().any(|t| t.direct));
    let via_software_only = report
        .techniques
        .iter()
        .find(|t| !t.direct && !t.via_software.is_empty())
        .expect("a technique reached only through software");
    // Cross-check the edge: one of the named software really uses the technique.
    let m = k.enterprise();
    let technique = m.by_attack_id(&via_software_only.id)[0];
    let users = m.software_using(technique.index);
    assert!(via_software_only
        .via_software
        .iter()
        .any(|s| users
            .iter()
            .any(|u| m.software[*u as usize].meta.attack_id == s.id)));
    assert!(report
        .campaigns
        .iter()
        .any(|c| c.name == "SolarWinds Compromise"));
}

#[test]
fn revoked_and_unknown_ids_resolve_helpfully() {
    let k = knowledge();
    match k.resolve("attack.t1086") {
        Resolution::Revoked {
            replacement: Some(new),
            ..
        } => assert_eq!(id_of(k, new), "T1059.001"),
        other => panic!("expected revoked, got {other:?}"),
    }
    match k.resolve("T1053.005") {
        Resolution::Active(hit) => assert_eq!(id_of(k, hit), "T1053.005"),
        other => panic!("expected active, got {other:?}"),
    }
    match k.resolve("T1053.055") {
        Resolution::Unknown { nearest } => {
            assert!(nearest.iter().any(|s| s.id == "T1053.005"), "{nearest:?}")
        }
        other => panic!("expected unknown, got {other:?}"),
    }
    match k.resolve("Scheduled Tsak") {
        Resolution::Unknown { nearest } => {
            assert!(
                nearest.iter().any(|s| s.name == "Scheduled Task"),
                "{nearest:?}"
            )
        }
        other => panic!("expected unknown, got {other:?}"),
    }
    let deprecated = k
        .enterprise()
        .techniques
        .iter()
        .find(|t| t.meta.status == Status::Deprecated)
        .unwrap();
    assert!(matches!(
        k.resolve(&deprecated.meta.attack_id),
        Resolution::Deprecated(_)
    ));
}

#[test]
fn search_ranks_names_above_descriptions() {
    let k = knowledge();
    let hits = k.search("scheduled task", 10);
    let ids: Vec<String> = hits.iter().map(|h| id_of(k, h.hit)).collect();
    assert_eq!(ids[0], "T1053.005", "{ids:?}");
    assert!(ids.contains(&"T1053".to_owned()));
    // An exact id wins outright, and revoked objects are found by id only.
    assert_eq!(id_of(k, k.search("T1086", 5)[0].hit), "T1086");
    assert!(k
        .search("powershell", 50)
        .iter()
        .all(|h| k.matrix_of(h.hit).is_active(h.hit.node)));
    assert!(k.search("   ", 5).is_empty());
}

#[test]
fn lsass_memory_has_a_detect_countermeasure() {
    let k = knowledge();
    assert!(k.d3fend().is_some(), "warnings: {:?}", k.warnings());
    let hit = k.find("T1003.001").unwrap();
    let countermeasures = k.countermeasures(hit);
    // LSASS Memory is process-memory access: D3FEND should detect it over processes.
    assert!(
        countermeasures.iter().any(|c| c.tactic == "Detect"
            && c.id.starts_with("D3-")
            && c.artifact.contains("Process")),
        "{countermeasures:?}"
    );
}

#[test]
fn engage_answers_data_obfuscation() {
    let k = knowledge();
    let hit = k.find("T1001").unwrap();
    let activities = k.engage_activities(hit);
    assert!(!activities.is_empty());
    assert!(activities
        .iter()
        .all(|a| a.activity_id.starts_with("EAC") && a.vulnerability_id.starts_with("EAV")));
}

#[test]
fn technique_report_has_every_documented_key() {
    let k = knowledge();
    let report = k.report(k.find("T1053.005").unwrap()).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    for key in [
        "id",
        "name",
        "tactics",
        "platforms",
        "is_subtechnique",
        "parent",
        "subtechniques",
        "groups",
        "software",
        "mitigations",
        "detection_strategies",
        "countermeasures",
        "engage",
        "revoked_by",
        "url",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["parent"]["id"], "T1053");
    assert_eq!(json["tactics"][1], "persistence");
    let strategy = &json["detection_strategies"][0];
    assert!(strategy["id"].as_str().unwrap().starts_with("DET"));
    assert!(!strategy["analytics"].as_array().unwrap().is_empty());
    assert!(json["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "APT29"));
}
