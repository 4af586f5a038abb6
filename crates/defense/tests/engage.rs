#![allow(clippy::unwrap_used, clippy::expect_used)]
//! ENGAGE read from the real JSON files in the reference data.

use rampart_defense::engage::Engage;
use rampart_defense::DefenseError;
use std::path::PathBuf;

fn engage_dir() -> PathBuf {
    rampart_testkit::data_path("mitre-engage/Data/json")
}

fn engage() -> Engage {
    Engage::from_dir(&engage_dir()).unwrap()
}

#[test]
fn goals_approaches_and_activities_match_the_published_lists() {
    let engage = engage();
    // Counts from the ENGAGE README in the reference data.
    assert_eq!(engage.goals().len(), 5);
    assert_eq!(engage.approaches().len(), 9);
    assert_eq!(engage.activities().len(), 31);
    assert_eq!(engage.attack_mappings().len(), 793);
    let expose = &engage.goals()[0];
    assert_eq!(
        (expose.id.as_str(), expose.name.as_str()),
        ("EGO0001", "Expose")
    );
    assert_eq!(expose.kind, "Engagement");
    assert!(expose.approaches.contains(&"EAP0001".to_owned()));
    let collect = &engage.approaches()[0];
    assert_eq!(collect.name, "Collect");
    assert!(collect.activities.contains(&"EAC0001".to_owned()));
}

#[test]
fn activities_carry_their_vulnerabilities_and_links() {
    let engage = engage();
    let api = engage.activity("eac0001").unwrap();
    assert_eq!(api.name, "API Monitoring");
    assert_eq!(api.goals, ["EGO0001"]);
    assert!(api.vulnerabilities.iter().any(|v| v.id == "EAV0016"));
    assert!(engage.activities().iter().any(|a| a.kind == "Strategic"));
    // 29 distinct vulnerabilities appear in the ATT&CK mapping (README).
    assert!(engage.vulnerabilities().len() >= 29);
}

#[test]
fn data_obfuscation_maps_to_activities_through_vulnerabilities() {
    let rows = engage().activities_for("t1001");
    assert!(!rows.is_empty());
    let manipulation = rows
        .iter()
        .find(|r| r.activity_id == "EAC0014")
        .expect("Software Manipulation answers T1001 in attack_mapping.json");
    assert_eq!(manipulation.activity_name, "Software Manipulation");
    assert_eq!(manipulation.vulnerability_id, "EAV0016");
    assert!(manipulation.vulnerability.contains("Man-in-the-Middle"));
    assert!(rows
        .iter()
        .all(|r| !r.vulnerability.is_empty() && !r.activity_name.is_empty()));
}

#[test]
fn a_sub_technique_without_its_own_rows_inherits_its_parents() {
    let engage = engage();
    let parent = engage.activities_for("T1001");
    assert!(engage
        .attack_mappings()
        .iter()
        .all(|m| m.attack_id != "T1001.001"));
    assert_eq!(engage.activities_for("T1001.001"), parent);
    assert!(engage.activities_for("T9999").is_empty());
}

#[test]
fn a_truncated_json_file_is_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(engage_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let mapping = dir.path().join("attack_mapping.json");
    let text = std::fs::read_to_string(&mapping).unwrap();
    std::fs::write(&mapping, &text[..text.len() / 2]).unwrap();
    let error = Engage::from_dir(dir.path()).unwrap_err();
    assert!(matches!(error, DefenseError::Syntax { .. }), "{error:?}");
    assert!(error.to_string().contains("attack_mapping.json"), "{error}");
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let message = Engage::from_dir(dir.path()).unwrap_err().to_string();
    assert!(message.contains(".json"), "{message}");
}
