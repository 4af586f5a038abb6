#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `status` and `verify` on the real reference data.

use rampart_refdata::{discover, status, verify, AttackDomain, DataKind};

#[test]
fn status_of_the_shared_data_reports_versions_counts_and_hashes() {
    let status = status(&discover(&rampart_testkit::data_dir()).unwrap());
    assert!(
        status.is_healthy(),
        "{:#?}",
        status
            .files
            .iter()
            .filter(|f| f.problem.is_some())
            .collect::<Vec<_>>()
    );
    let file = |kind: DataKind| status.files.iter().find(|f| f.kind == kind).unwrap();

    // Counts and versions as mitre-attack/README.md lists them.
    let enterprise = file(DataKind::Attack(AttackDomain::Enterprise));
    // Discovery picks 19.1, the highest version in the folder.
    assert_eq!(enterprise.version.as_deref(), Some("19.1"));
    assert_eq!(enterprise.counts["attack-pattern"], 858);
    assert_eq!(enterprise.counts["attack-pattern (active)"], 697);
    assert_eq!(enterprise.counts["intrusion-set"], 189);
    assert_eq!(enterprise.counts["x-mitre-detection-strategy"], 699);
    let mobile = file(DataKind::Attack(AttackDomain::Mobile));
    assert_eq!(
        (
            mobile.counts["attack-pattern"],
            mobile.counts["attack-pattern (active)"]
        ),
        (190, 124)
    );
    let ics = file(DataKind::Attack(AttackDomain::Ics));
    assert_eq!(ics.counts["intrusion-set"], 16);
    // The README publishes the sha256 of each 19.1 gzip file.
    assert_eq!(
        ics.sha256.as_deref(),
        Some("0aaf6e5dd774f1c6ebb678798984dd1fce670edb988ba580c5e9a7a79601050b")
    );
    assert_eq!(ics.bytes, std::fs::metadata(&ics.path).unwrap().len());

    // D3FEND: the source ontology has no owl:versionInfo; the changelog beside it says 1.2.0.
    let d3fend = file(DataKind::D3fendTurtle);
    assert_eq!(d3fend.version.as_deref(), Some("1.2.0"));
    assert_eq!(d3fend.version_from, Some("CHANGELOG.md"));
    assert_eq!(d3fend.counts["d3fend-ids"], 475);
    assert!(d3fend.counts["triples"] > 30_000);

    // ENGAGE: every JSON file, with its entry count.
    let engage: Vec<_> = status
        .files
        .iter()
        .filter(|f| f.kind == DataKind::EngageJson)
        .collect();
    assert_eq!(engage.len(), 12);
    let mapping = engage
        .iter()
        .find(|f| f.path.ends_with("attack_mapping.json"))
        .unwrap();
    assert_eq!(mapping.counts["entries"], 793);

    // Sigma: the core rules folder holds thousands of rules.
    let core = status
        .sigma_rule_dirs
        .iter()
        .find(|d| d.path.ends_with("sigma/rules"))
        .unwrap();
    assert!(core.yaml_files > 3000, "{}", core.yaml_files);
    assert!(status.sigma_regression_dir.is_some());
}

#[test]
fn a_broken_file_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // Truncated: its head is a real ICS bundle's, so discovery picks it.
    let ics = std::fs::read(rampart_testkit::data_path(
        "mitre-attack/ics-attack-18.1.json",
    ))
    .unwrap();
    std::fs::write(dir.path().join("ics-attack-18.1.json"), &ics[..20_000]).unwrap();
    // Not a bundle at all: passed over, and said so.
    std::fs::write(
        dir.path().join("ics-attack-99.0.json"),
        b"{\"type\": \"bundle\", \"objects\": [",
    )
    .unwrap();
    std::fs::copy(
        rampart_testkit::data_path("mitre-attack/mobile-attack-18.1.json.gz"),
        dir.path().join("mobile-attack-18.1.json.gz"),
    )
    .unwrap();
    let status = status(&discover(dir.path()).unwrap());
    assert!(!status.is_healthy());
    let ics = status
        .files
        .iter()
        .find(|f| f.kind == DataKind::Attack(AttackDomain::Ics))
        .unwrap();
    let problem = ics.problem.as_deref().unwrap();
    assert!(
        problem.contains("ics-attack-18.1.json") && problem.contains("invalid JSON"),
        "{problem}"
    );
    assert_eq!(
        ics.version.as_deref(),
        Some("18.1"),
        "falls back to the file name"
    );
    let mobile = status
        .files
        .iter()
        .find(|f| f.kind == DataKind::Attack(AttackDomain::Mobile))
        .unwrap();
    assert!(mobile.problem.is_none());
    assert_eq!(status.passed_over.len(), 1, "{:?}", status.passed_over);
    assert!(
        status.passed_over[0].contains("ics-attack-99.0.json")
            && status.passed_over[0].contains("no ATT&CK ICS collection"),
        "{:?}",
        status.passed_over
    );
}

#[test]
fn verify_rejects_json_that_is_not_an_attack_bundle() {
    let engage = rampart_testkit::data_path("mitre-engage/Data/json/goals.json");
    let message = verify(DataKind::Attack(AttackDomain::Enterprise), &engage)
        .unwrap_err()
        .to_string();
    assert!(message.contains("goals.json"), "{message}");
    let sample =
        rampart_testkit::data_path("mitre-attack/sample_3.3.0_stix-detection-strategy.json");
    let message = verify(DataKind::Attack(AttackDomain::Enterprise), &sample)
        .unwrap_err()
        .to_string();
    assert!(message.contains("not a STIX bundle"), "{message}");
    let dir = tempfile::tempdir().unwrap();
    let empty_bundle = dir.path().join("enterprise-attack.json");
    std::fs::write(
        &empty_bundle,
        br#"{"type": "bundle", "id": "bundle--1", "objects": []}"#,
    )
    .unwrap();
    let message = verify(DataKind::Attack(AttackDomain::Enterprise), &empty_bundle)
        .unwrap_err()
        .to_string();
    assert!(message.contains("no attack-pattern"), "{message}");
}
