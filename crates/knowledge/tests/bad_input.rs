//! Broken or missing inputs give errors naming the file, or warnings when optional;
//! never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_knowledge::{load_matrix, DataFiles, Domain, Knowledge, KnowledgeError};
use std::path::Path;

fn enterprise_only(path: &Path) -> DataFiles {
    DataFiles {
        root: path.parent().unwrap().to_path_buf(),
        enterprise: Some(path.to_path_buf()),
        ..DataFiles::default()
    }
}

fn error_for(name: &str, content: &[u8]) -> (KnowledgeError, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    let error = Knowledge::from_files(&enterprise_only(&path)).unwrap_err();
    let message = rampart_event::error_chain(&error);
    assert!(
        message.contains(name),
        "message does not name the file: {message}"
    );
    (error, message)
}

#[test]
fn truncated_json_names_the_file_and_place() {
    let ics = std::fs::read(rampart_testkit::data_path(
        "mitre-attack/ics-attack-18.1.json",
    ))
    .unwrap();
    let (error, message) = error_for("enterprise-attack-18.1.json", &ics[..ics.len() / 2]);
    assert!(matches!(error, KnowledgeError::Json { .. }), "{error:?}");
    assert!(message.contains("line"), "{message}");
}

#[test]
fn a_gz_that_is_not_gzip_is_reported() {
    let (error, message) = error_for("enterprise-attack-18.1.json.gz", b"{\"type\": \"bundle\"}");
    assert!(matches!(error, KnowledgeError::Gzip { .. }), "{error:?}");
    assert!(message.contains("gzip"), "{message}");
}

#[test]
fn json_that_is_not_an_attack_bundle_is_reported() {
    let (error, _) = error_for(
        "enterprise-attack.json",
        b"{\"type\": \"report\", \"objects\": []}",
    );
    assert!(matches!(error, KnowledgeError::Bundle { .. }), "{error:?}");
    let (error, message) = error_for(
        "enterprise-attack.json",
        b"{\"type\": \"bundle\", \"objects\": []}",
    );
    assert!(matches!(error, KnowledgeError::Bundle { .. }), "{error:?}");
    assert!(message.contains("tactic"), "{message}");
}

#[test]
fn an_odd_object_is_skipped_with_a_warning() {
    let bundle = br#"{"type": "bundle", "objects": [
        {"type": "x-mitre-tactic", "id": "x-mitre-tactic--1", "name": "Execution",
         "x_mitre_shortname": "execution",
         "external_references": [{"source_name": "mitre-attack", "external_id": "TA0002"}]},
        {"type": "attack-pattern", "id": "attack-pattern--1", "name": "Good",
         "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
         "external_references": [{"source_name": "mitre-attack", "external_id": "T0001"}]},
        {"type": "attack-pattern", "id": "attack-pattern--2", "name": "Bad",
         "x_mitre_platforms": 42},
        {"type": "relationship", "id": "relationship--1", "relationship_type": "uses",
         "source_ref": "intrusion-set--missing", "target_ref": "attack-pattern--1"}
    ]}"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enterprise-attack.json");
    std::fs::write(&path, bundle).unwrap();
    let matrix = load_matrix(Domain::Enterprise, &path).unwrap();
    assert_eq!(matrix.techniques.len(), 1);
    assert_eq!(matrix.techniques[0].tactics, ["execution"]);
    assert!(
        matrix
            .warnings
            .iter()
            .any(|w| w.contains("attack-pattern--2")),
        "{:?}",
        matrix.warnings
    );
    assert!(
        matrix
            .warnings
            .iter()
            .any(|w| w.contains("intrusion-set--missing")),
        "{:?}",
        matrix.warnings
    );
    assert!(matrix.edges.is_empty());
}

#[test]
fn an_empty_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = Knowledge::load(dir.path()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
}

#[test]
fn a_data_dir_without_enterprise_is_a_clear_error() {
    let files = DataFiles {
        root: "somewhere".into(),
        ics: Some(rampart_testkit::data_path(
            "mitre-attack/ics-attack-18.1.json",
        )),
        ..DataFiles::default()
    };
    let error = Knowledge::from_files(&files).unwrap_err();
    assert!(matches!(error, KnowledgeError::MissingEnterprise { .. }));
    assert!(error.to_string().contains("enterprise-attack"), "{error}");
}

#[test]
fn broken_or_missing_defense_sources_degrade_to_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let ttl = dir.path().join("d3fend.ttl");
    std::fs::write(
        &ttl,
        "@prefix d3f: <http://d3fend.mitre.org/ontologies/d3fend.owl#> .\nd3f:Broken a a a ;;; .\n",
    )
    .unwrap();
    let mut files = enterprise_only(&rampart_testkit::data_path(
        "mitre-attack/enterprise-attack-18.1.json.gz",
    ));
    files.d3fend_ttl = Some(ttl);
    let k = Knowledge::from_files(&files).unwrap();
    assert!(k.d3fend().is_none());
    assert!(
        k.warnings().iter().any(|w| w.contains("d3fend.ttl")),
        "{:?}",
        k.warnings()
    );
    assert!(
        k.warnings().iter().any(|w| w.contains("ENGAGE")),
        "{:?}",
        k.warnings()
    );
    let hit = k.find("T1003.001").unwrap();
    assert!(k.countermeasures(hit).is_empty());
    assert!(k.engage_activities(hit).is_empty());
}

#[test]
fn a_truncated_mobile_bundle_is_a_warning_and_enterprise_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mobile = rampart_refdata::read_maybe_gzip(&rampart_testkit::data_path(
        "mitre-attack/mobile-attack-18.1.json.gz",
    ))
    .unwrap();
    let truncated = dir.path().join("mobile-attack-18.1.json");
    std::fs::write(&truncated, &mobile[..mobile.len() / 3]).unwrap();
    let files = DataFiles {
        root: dir.path().to_path_buf(),
        enterprise: Some(rampart_testkit::data_path(
            "mitre-attack/enterprise-attack-18.1.json.gz",
        )),
        mobile: Some(truncated),
        ics: Some(rampart_testkit::data_path(
            "mitre-attack/ics-attack-18.1.json",
        )),
        ..DataFiles::default()
    };
    let k = Knowledge::from_files(&files).unwrap();
    assert!(k.find("T1003").is_some());
    assert!(k.matrix(Domain::Mobile).is_none());
    assert!(k.matrix(Domain::Ics).is_some());
    let warning = k
        .warnings()
        .iter()
        .find(|w| w.contains("mobile-attack-18.1.json"))
        .unwrap_or_else(|| panic!("no Mobile warning: {:?}", k.warnings()));
    assert!(
        warning.contains("ATT&CK mobile not loaded") && warning.contains("line"),
        "{warning}"
    );
}
