#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `discover` on the real reference data and on broken directories.

use rampart_refdata::{discover, open_maybe_gzip, AttackDomain, RefdataError};
use std::io::Read;
use std::path::Path;

fn name(path: &Option<std::path::PathBuf>) -> String {
    path.as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn finds_every_source_in_the_shared_data() {
    let files = discover(&rampart_testkit::data_dir()).unwrap();
    // 19.1 sits beside 18.1; the highest version wins.
    assert_eq!(name(&files.enterprise), "enterprise-attack-19.1.json.gz");
    assert_eq!(name(&files.mobile), "mobile-attack-19.1.json.gz");
    assert_eq!(name(&files.ics), "ics-attack-19.1.json.gz");
    assert_eq!(name(&files.d3fend_ttl), "d3fend-protege.ttl");
    assert!(
        files.d3fend_jsonld.is_none(),
        "the shared data has no d3fend.json"
    );
    let engage = files.engage_dir.unwrap();
    assert!(engage.join("attack_mapping.json").is_file());
    let rule_dirs: Vec<String> = files
        .sigma_rule_dirs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        rule_dirs,
        [
            "rules",
            "rules-dfir",
            "rules-emerging-threats",
            "rules-threat-hunting"
        ]
    );
    assert!(files
        .sigma_rule_dirs
        .iter()
        .all(|p| p.parent().unwrap().ends_with("sigma")));
    assert!(files
        .sigma_regression_dir
        .unwrap()
        .ends_with("sigma/regression_data"));
}

/// Links `name` in `dir` to a file of the reference data (never a copy).
fn link(dir: &Path, name: &str, reference: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(rampart_testkit::data_path(reference), path).unwrap();
}

const ENTERPRISE: &str = "mitre-attack/enterprise-attack-18.1.json.gz";
const MOBILE: &str = "mitre-attack/mobile-attack-18.1.json.gz";

#[test]
fn the_highest_attack_version_wins_and_hidden_files_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    for name in [
        "enterprise-attack-9.0.json",
        "enterprise-attack.json",
        "a/b/enterprise-attack-18.1.json.gz",
        "enterprise-attack-17.0.json",
        ".enterprise-attack-99.0.json",
    ] {
        link(dir.path(), name, ENTERPRISE);
    }
    for name in [".rampart-x.part", "notes.json"] {
        std::fs::write(dir.path().join(name), b"{}").unwrap();
    }
    let files = discover(dir.path()).unwrap();
    assert_eq!(
        files.enterprise.unwrap(),
        nested.join("enterprise-attack-18.1.json.gz")
    );
    assert!(files.mobile.is_none() && files.ics.is_none());
    assert!(files.warnings.is_empty(), "{:?}", files.warnings);
}

#[test]
fn a_newer_file_that_is_not_a_bundle_of_its_domain_is_passed_over_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    link(
        dir.path(),
        "mitre-attack/enterprise-attack-18.1.json.gz",
        ENTERPRISE,
    );
    link(
        dir.path(),
        "mitre-attack/mobile-attack-18.1.json.gz",
        MOBILE,
    );
    // Garbage, a bundle of another domain, a JSON list, a broken gzip stream: each
    // named as a newer release.
    std::fs::write(dir.path().join("enterprise-attack-99.0.json"), b"garbage").unwrap();
    link(dir.path(), "x/enterprise-attack-50.0.json.gz", MOBILE);
    std::fs::write(dir.path().join("enterprise-attack-40.0.json"), b"[1, 2]").unwrap();
    std::fs::write(
        dir.path().join("mobile-attack-99.0.json.gz"),
        [0x1f, 0x8b, 0x08, 0x00, 0x42, 0x42],
    )
    .unwrap();
    let files = discover(dir.path()).unwrap();
    assert_eq!(name(&files.enterprise), "enterprise-attack-18.1.json.gz");
    assert_eq!(name(&files.mobile), "mobile-attack-18.1.json.gz");
    let warnings = files.warnings.join("\n");
    assert_eq!(files.warnings.len(), 4, "{warnings}");
    for (file, why) in [
        ("enterprise-attack-99.0.json", "not a STIX bundle"),
        (
            "enterprise-attack-50.0.json.gz",
            "holds ATT&CK Mobile content",
        ),
        (
            "enterprise-attack-40.0.json",
            "does not start with a JSON object",
        ),
        ("mobile-attack-99.0.json.gz", "cannot be decompressed"),
    ] {
        let warning = files.warnings.iter().find(|w| w.contains(file));
        let warning = warning.unwrap_or_else(|| panic!("no warning for {file}: {warnings}"));
        assert!(warning.contains(why), "{warning}");
        assert!(warning.contains("-18.1.json.gz instead"), "{warning}");
    }

    // With no good candidate left, the domain is simply absent.
    std::fs::remove_file(dir.path().join("mitre-attack/mobile-attack-18.1.json.gz")).unwrap();
    let files = discover(dir.path()).unwrap();
    assert!(files.mobile.is_none());
    assert!(files
        .warnings
        .iter()
        .any(|w| w.contains("mobile-attack-99.0.json.gz") && w.contains("no other candidate")));
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let error = discover(&missing).unwrap_err();
    assert!(matches!(error, RefdataError::MissingDir(_)));
    let message = error.to_string();
    assert!(
        message.contains("nowhere") && message.contains("rampart data update"),
        "{message}"
    );
    assert!(message.contains("rampart data import"), "{message}");
}

#[test]
fn a_file_given_as_data_dir_is_a_clear_error() {
    let file = rampart_testkit::data_path("mitre-attack/ics-attack-18.1.json");
    let message = discover(&file).unwrap_err().to_string();
    assert!(
        message.contains("ics-attack-18.1.json") && message.contains("not a data directory"),
        "{message}"
    );
}

#[test]
fn an_empty_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("readme.txt"), "nothing here").unwrap();
    let error = discover(dir.path()).unwrap_err();
    assert!(matches!(error, RefdataError::EmptyDir(_)));
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("rampart data update"), "{message}");
}

#[test]
fn gzip_is_detected_by_content_not_name() {
    let gz = rampart_testkit::data_path("mitre-attack/mobile-attack-18.1.json.gz");
    let mut head = [0u8; 1];
    open_maybe_gzip(&gz).unwrap().read_exact(&mut head).unwrap();
    assert_eq!(&head, b"{");

    // Plain JSON under a .gz name still reads as JSON.
    let dir = tempfile::tempdir().unwrap();
    let liar = dir.path().join("ics-attack.json.gz");
    std::fs::write(&liar, b"{\"type\": \"bundle\"}").unwrap();
    let mut text = String::new();
    open_maybe_gzip(&liar)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "{\"type\": \"bundle\"}");

    // A gzip header followed by garbage fails with a message naming the file.
    let broken = dir.path().join("enterprise-attack.json");
    std::fs::write(&broken, [0x1f, 0x8b, 0x08, 0x00, 0x42, 0x42]).unwrap();
    let message = rampart_refdata::read_maybe_gzip(&broken)
        .unwrap_err()
        .to_string();
    assert!(message.contains("enterprise-attack.json"), "{message}");
    assert!(AttackDomain::of_file_name("enterprise-attack.json").is_some());
    assert!(open_maybe_gzip(Path::new("no/such/file.json")).is_err());
}
