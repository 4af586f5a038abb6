//! ESET's published MISP events and hash lists, read as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rampart_intel::{read_path, DiagnosticKind, EntityKind, Error, Feed, ObservableKind};

const ESET: &str = "threat-intel/eset-malware-ioc";
const MALFORMED: &str = "pypi_backdoor/malicious_pypi_packages.misp-event.json";

fn misp_event_files() -> Vec<PathBuf> {
    let files: Vec<PathBuf> = rampart_testkit::data_files(ESET, "json");
    assert_eq!(files.len(), 54, "ESET MISP events");
    files
}

fn read(path: &Path) -> Feed {
    match read_path(path) {
        Ok(feed) => feed,
        Err(error) => panic!("{}", rampart_event::error_chain(&error)),
    }
}

#[test]
fn every_misp_event_reads_and_the_malformed_one_is_one_clear_error() {
    let mut per_kind: BTreeMap<ObservableKind, usize> = BTreeMap::new();
    let (mut detect, mut invalid, mut unsupported_types, mut events) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in misp_event_files() {
        let feed = match read_path(&path) {
            Ok(feed) => feed,
            Err(error) => {
                failures.push((path, error));
                continue;
            }
        };
        events += 1;
        assert!(feed.source.starts_with("misp:"), "{}", feed.source);
        for indicator in &feed.indicators {
            assert_eq!(indicator.all_of.len(), 1);
            assert_eq!(indicator.source, feed.source);
            *per_kind.entry(indicator.all_of[0].kind).or_default() += 1;
            detect += usize::from(indicator.detect);
        }
        for diagnostic in &feed.diagnostics {
            match diagnostic.kind {
                DiagnosticKind::InvalidValue => invalid += 1,
                DiagnosticKind::UnsupportedType => unsupported_types += 1,
                other => panic!("unexpected {other:?} in {}: {diagnostic:?}", path.display()),
            }
        }
    }
    assert_eq!(events, 53);
    // One error for the broken file, naming it and the line where it breaks.
    assert_eq!(failures.len(), 1);
    let (path, error) = &failures[0];
    assert!(path.ends_with(MALFORMED), "{}", path.display());
    assert!(
        matches!(error, Error::Json { line: 37374, .. }),
        "{error:?}"
    );
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.kind, DiagnosticKind::Malformed);
    assert!(
        diagnostic.location.contains(MALFORMED) && diagnostic.location.contains(":37374:"),
        "{diagnostic:?}"
    );

    // What the attribute types map to (see the module documentation of `misp`):
    // 3,333 observables of mapped types, each an indicator or an invalid value.
    let total: usize = per_kind.values().sum();
    assert_eq!(total + invalid, 3333, "{per_kind:?}, {invalid} invalid");
    let count = |kind| per_kind.get(&kind).copied().unwrap_or(0);
    assert_eq!(count(ObservableKind::Sha1), 893);
    assert_eq!(count(ObservableKind::Sha256), 333);
    assert_eq!(count(ObservableKind::Md5), 333);
    assert_eq!(count(ObservableKind::Imphash), 31);
    // Four `filename` attributes are folder paths (`%WINDIR%\…\Microsoft\`).
    assert_eq!(invalid, 4);
    assert_eq!(count(ObservableKind::FileName), 366);
    assert_eq!(count(ObservableKind::Url), 188);
    assert_eq!(count(ObservableKind::Email), 11);
    assert_eq!(count(ObservableKind::RegistryKey), 136);
    assert_eq!(count(ObservableKind::Ip), 287);
    assert_eq!(count(ObservableKind::Domain), 751);
    assert!(
        detect > 1000 && detect < total,
        "to_ids kept: {detect} of {total}"
    );
    // One diagnostic per unsupported type and event (584 `text` attributes do not give
    // 584 lines).
    assert_eq!(unsupported_types, 73);
}

#[test]
fn operation_ghost_names_apt_29_and_its_techniques_of_the_day() {
    let feed = read(&rampart_testkit::data_path(&format!(
        "{ESET}/dukes/misp-dukes-operation-ghost-event.json"
    )));
    assert_eq!(feed.source, "misp:5d9b516c-e5f0-4e7c-a958-5d8c0a019371");
    assert!(!feed.indicators.is_empty());
    for indicator in &feed.indicators {
        let context = &indicator.context;
        assert_eq!(context.actors, ["APT 29"]);
        for id in ["T1086", "T1193", "T1106"] {
            assert!(
                context.attack_ids.iter().any(|a| a == id),
                "{id} in {:?}",
                context.attack_ids
            );
        }
        assert!(context
            .reports
            .iter()
            .any(|r| r == "Operation Ghost - White Paper"));
        // Threat level High.
        assert_eq!(indicator.confidence, Some(85));
    }
    let first = feed
        .indicators
        .iter()
        .find(|i| i.id == "5d9b51aa-15c8-4405-af09-68700a019371")
        .unwrap_or_else(|| panic!("first attribute missing"));
    assert_eq!(
        first.all_of[0].value,
        "4ba559c403ff3f5cc2571ae0961eaff6cf0a50f6"
    );
    assert_eq!(first.description.as_deref(), Some("PolyglotDuke"));
    assert!(!first.detect, "to_ids false is kept for context only");
    assert!(feed
        .entities
        .iter()
        .any(|e| e.kind == EntityKind::ThreatActor && e.name == "APT 29"));
    assert!(feed
        .entities
        .iter()
        .any(|e| e.kind == EntityKind::AttackPattern
            && e.name == "PowerShell"
            && e.attack_ids == ["T1086"]));
}

#[test]
fn a_feed_folder_reads_listed_events_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ghost = "5d9b516c-e5f0-4e7c-a958-5d8c0a019371";
    let missing = "00000000-0000-0000-0000-000000000000";
    let broken = "11111111-1111-1111-1111-111111111111";
    let copy = |from: &str, uuid: &str| {
        std::fs::copy(
            rampart_testkit::data_path(&format!("{ESET}/{from}")),
            dir.path().join(format!("{uuid}.json")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    };
    copy("dukes/misp-dukes-operation-ghost-event.json", ghost);
    copy(MALFORMED, broken);
    let manifest = format!(
        r#"{{"{ghost}": {{"info": "Operation Ghost"}}, "{missing}": {{}}, "{broken}": {{}}, "../../etc/passwd": {{}}}}"#
    );
    std::fs::write(dir.path().join("manifest.json"), manifest).unwrap_or_else(|e| panic!("{e}"));
    let feed = read(dir.path());
    assert!(feed.source.starts_with("misp-feed:"));
    let single = read(&dir.path().join(format!("{ghost}.json")));
    assert_eq!(feed.indicators.len(), single.indicators.len());
    assert!(feed.indicators.iter().all(|i| i.source == feed.source));
    let malformed: Vec<_> = feed
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::Malformed)
        .collect();
    assert_eq!(malformed.len(), 3, "{malformed:#?}");
    assert!(malformed
        .iter()
        .any(|d| d.location.contains(missing) && d.message.contains("cannot read")));
    assert!(malformed
        .iter()
        .any(|d| d.location.contains(broken) && d.location.contains(":37374:")));
    assert!(malformed
        .iter()
        .any(|d| d.message.contains("not an event UUID")));
}

#[test]
fn every_eset_hash_list_reads_as_sha256() {
    let lists: Vec<PathBuf> =
        rampart_testkit::files_under(&rampart_testkit::data_path(ESET), "sha256");
    assert_eq!(lists.len(), 118);
    let mut total = 0;
    for path in &lists {
        let feed = read(path);
        assert_eq!(feed.source, "list:samples.sha256");
        assert!(
            feed.diagnostics.is_empty(),
            "{}: {:?}",
            path.display(),
            feed.diagnostics
        );
        assert!(feed
            .indicators
            .iter()
            .all(|i| i.all_of[0].kind == ObservableKind::Sha256
                && i.all_of[0].value.len() == 64
                && !i.all_of[0].value.bytes().any(|b| b.is_ascii_uppercase())));
        total += feed.indicators.len();
    }
    // Distinct values per list (a few lists repeat a hash).
    assert_eq!(total, 5379);
}
