//! OASIS's STIX 2.1 example bundles, and bundles written here for what they lack
//! (ATT&CK ids, revocation, versions, broken objects).

use std::path::Path;

use rampart_intel::stix::{read_bundle, read_bundle_bytes};
use rampart_intel::{DiagnosticKind, EntityKind, Error, Feed, ObservableKind};

const EXAMPLES: &str = "threat-intel/stix2-json-schemas/examples";

fn example(name: &str) -> Feed {
    let path = rampart_testkit::data_path(&format!("{EXAMPLES}/{name}"));
    match read_bundle(&path) {
        Ok(feed) => feed,
        Err(error) => panic!("{}", rampart_event::error_chain(&error)),
    }
}

fn kinds(feed: &Feed) -> Vec<ObservableKind> {
    feed.indicators
        .iter()
        .flat_map(|i| i.all_of.iter().map(|o| o.kind))
        .collect()
}

#[test]
fn c2_ip_indicator() {
    let feed = example("indicator-for-c2-ip-address.json");
    assert_eq!(feed.source, "stix:indicator-for-c2-ip-address.json");
    assert_eq!(feed.indicators.len(), 1);
    let indicator = &feed.indicators[0];
    assert_eq!(
        indicator.id,
        "indicator--33fe3b22-0201-47cf-85d0-97c02164528d"
    );
    assert_eq!(indicator.all_of[0].value, "10.0.0.0");
    assert_eq!(
        indicator.valid_from.map(|t| t.to_rfc3339()),
        Some("2014-05-08T09:00:00+00:00".to_owned())
    );
    assert!(indicator.detect);
    assert!(feed.diagnostics.is_empty());
}

#[test]
fn indicators_fold_in_what_they_indicate() {
    let feed = example("indicator-to-campaign-relationship.json");
    assert_eq!(feed.indicators[0].context.reports, ["Operation Omega"]);
    assert!(feed
        .entities
        .iter()
        .any(|e| e.kind == EntityKind::Campaign && e.name == "Operation Omega"));

    let feed = example("indicators-for-C2-with-COA.json");
    assert_eq!(kinds(&feed), [ObservableKind::Ip, ObservableKind::Sha256]);
    assert!(feed
        .indicators
        .iter()
        .all(|i| i.context.malware == ["Poison Ivy"]));
    assert_eq!(
        feed.indicators[1].all_of[0].value,
        "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"
    );
}

#[test]
fn apt1_report_joins_indicators_to_actors_and_the_report() {
    let feed = example("threat-reports/apt1.json");
    // 12 indicators; the two on x509 certificates are not evaluated.
    assert_eq!(feed.indicators.len(), 10);
    let unsupported: Vec<_> = feed
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::UnsupportedPattern)
        .collect();
    assert_eq!(unsupported.len(), 2, "{:?}", feed.diagnostics);
    assert!(unsupported
        .iter()
        .all(|d| d.message.contains("x509-certificate")));
    assert_eq!(feed.diagnostics.len(), 2);
    // An indicator of a threat actor names it and the intrusion set attributed to it.
    assert!(feed
        .indicators
        .iter()
        .any(|i| i.context.actors.iter().any(|a| a == "APT1") && i.context.actors.len() >= 2));
    // HTRAN is used by no actor in the report (only by an attack pattern), so its
    // indicators name the malware alone.
    let htran: Vec<_> = feed
        .indicators
        .iter()
        .filter(|i| i.name.as_deref() == Some("HTRAN Hop Point Accessor"))
        .collect();
    assert!(!htran.is_empty());
    for indicator in htran {
        assert_eq!(
            indicator.context.malware,
            ["HUC Packet Transmit Tool (HTRAN)"]
        );
        assert!(indicator.context.actors.is_empty());
    }
    assert!(feed
        .indicators
        .iter()
        .all(|i| !i.context.reports.is_empty()));
    assert!(feed
        .entities
        .iter()
        .any(|e| e.kind == EntityKind::IntrusionSet
            && e.name == "APT1"
            && e.aliases.iter().any(|a| a == "Comment Crew")));
    assert_eq!(
        feed.entities
            .iter()
            .filter(|e| e.kind == EntityKind::Tool)
            .count(),
        10
    );
}

#[test]
fn poison_ivy_report() {
    let feed = example("threat-reports/poisonivy.json");
    // 25 STIX indicators, most an OR of a domain and the IPs it resolved to inside one
    // observation: one indicator per alternative.
    let stix_ids: std::collections::BTreeSet<&str> = feed
        .indicators
        .iter()
        .map(|i| i.id.split('#').next().unwrap_or(""))
        .collect();
    // One of them is left out whole: its OR has an invalid domain value
    // ('domain autuo.xicp.net'), and none of its alternatives is applied.
    assert_eq!(stix_ids.len(), 24);
    assert_eq!(feed.diagnostics.len(), 1);
    assert_eq!(feed.diagnostics[0].kind, DiagnosticKind::InvalidValue);
    assert!(feed.diagnostics[0]
        .location
        .ends_with("poisonivy.json: indicator--4e4c4ad7-4909-456a-b6fa-e24a6f682a40"));
    assert!(!stix_ids.contains("indicator--4e4c4ad7-4909-456a-b6fa-e24a6f682a40"));
    assert_eq!(feed.indicators.len(), 65);
    assert!(feed.indicators.iter().all(|i| i.all_of.len() == 1));
    let count = |kind| kinds(&feed).into_iter().filter(|k| *k == kind).count();
    assert_eq!(count(ObservableKind::Domain), 24);
    assert_eq!(count(ObservableKind::Ip), 39);
    // The report lists every indicator (some have no relationship besides).
    assert!(feed.indicators.iter().all(
        |i| i.context.reports[0] == "Poison Ivy: Assessing Damage and Extracting Intelligence"
    ));
    assert!(feed
        .indicators
        .iter()
        .any(|i| i.context.reports.iter().any(|r| r == "admin@338")
            && i.context
                .malware
                .iter()
                .any(|m| m.starts_with("PIVY Variant"))));
}

#[test]
fn unsupported_examples_are_reported() {
    let feed = example("malicious-email-indicator-with-attachment.json");
    assert!(feed.indicators.is_empty());
    assert_eq!(feed.diagnostics.len(), 2);
    assert!(feed
        .diagnostics
        .iter()
        .all(|d| d.kind == DiagnosticKind::UnsupportedPattern && d.message.contains("MATCHES")));
    let feed = example("infrastructure.json");
    assert!(feed.indicators.is_empty());
    assert_eq!(
        feed.entities
            .iter()
            .filter(|e| e.kind == EntityKind::Malware)
            .count(),
        2
    );
    // A single object is not a bundle.
    let path = rampart_testkit::data_path(&format!("{EXAMPLES}/interop-objectmarking-test.json"));
    assert!(matches!(read_bundle(&path), Err(Error::Shape { .. })));
}

const ATTRIBUTED: &str = r#"{
  "type": "bundle", "id": "bundle--1",
  "objects": [
    {"type": "intrusion-set", "id": "intrusion-set--1", "name": "APT29",
     "aliases": ["APT29", "Cozy Bear"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "G0016"}]},
    {"type": "threat-actor", "id": "threat-actor--1", "name": "The Dukes"},
    {"type": "malware", "id": "malware--1", "name": "PolyglotDuke", "is_family": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "S0999"}]},
    {"type": "malware", "id": "malware--2", "name": "Unrelated", "is_family": true},
    {"type": "attack-pattern", "id": "attack-pattern--1", "name": "PowerShell",
     "external_references": [{"source_name": "capec", "external_id": "CAPEC-1"},
                             {"source_name": "mitre-attack", "external_id": "T1059.001"}]},
    {"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
     "source_ref": "indicator--1", "target_ref": "malware--1"},
    {"type": "relationship", "id": "relationship--2", "relationship_type": "uses",
     "source_ref": "intrusion-set--1", "target_ref": "malware--1"},
    {"type": "relationship", "id": "relationship--3", "relationship_type": "uses",
     "source_ref": "intrusion-set--1", "target_ref": "attack-pattern--1"},
    {"type": "relationship", "id": "relationship--4", "relationship_type": "attributed-to",
     "source_ref": "intrusion-set--1", "target_ref": "threat-actor--1"},
    {"type": "relationship", "id": "relationship--5", "relationship_type": "uses",
     "source_ref": "intrusion-set--1", "target_ref": "malware--2"},
    {"type": "indicator", "id": "indicator--1", "spec_version": "2.1",
     "modified": "2020-01-01T00:00:00Z", "name": "old version",
     "pattern": "[file:hashes.MD5 = '00000000000000000000000000000000']", "pattern_type": "stix",
     "valid_from": "2020-01-01T00:00:00Z"},
    {"type": "indicator", "id": "indicator--1", "spec_version": "2.1",
     "modified": "2021-01-01T00:00:00Z", "name": "PolyglotDuke dropper",
     "pattern": "[file:hashes.'SHA-256' = 'AA00000000000000000000000000000000000000000000000000000000000000'] OR [domain-name:value = 'evil[.]example']",
     "pattern_type": "stix", "confidence": 80, "labels": ["malicious-activity"],
     "valid_from": "2021-01-01T00:00:00Z", "valid_until": "2022-01-01T00:00:00Z"},
    {"type": "indicator", "id": "indicator--2", "pattern": "[ipv4-addr:value = '203.0.113.1']",
     "pattern_type": "stix", "valid_from": "2021-01-01T00:00:00Z", "revoked": true},
    {"type": "indicator", "id": "indicator--3", "pattern": "[ipv4-addr:value = '203.0.113.1'",
     "pattern_type": "stix", "valid_from": "2021-01-01T00:00:00Z"},
    {"type": "indicator", "id": "indicator--4", "pattern": "title: x", "pattern_type": "sigma",
     "valid_from": "2021-01-01T00:00:00Z"},
    {"type": "indicator", "id": "indicator--5", "labels": 5, "pattern": "[url:value = 'http://a.example']"},
    {"type": "indicator", "id": "indicator--6", "pattern": "[ipv4-addr:value = '203.0.113.300']",
     "pattern_type": "stix", "valid_from": "2021-01-01T00:00:00Z"}
  ]
}"#;

#[test]
fn relationships_attack_ids_versions_and_broken_objects() {
    let feed = match read_bundle_bytes(ATTRIBUTED.as_bytes(), "test-bundle") {
        Ok(feed) => feed,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(feed.source, "test-bundle");
    // The latest version's OR of two observations: two indicators.
    let ids: Vec<&str> = feed.indicators.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["indicator--1#1", "indicator--1#2"]);
    let first = &feed.indicators[0];
    assert_eq!(first.name.as_deref(), Some("PolyglotDuke dropper"));
    assert_eq!(first.confidence, Some(80));
    assert_eq!(first.labels, ["malicious-activity"]);
    assert!(first.valid_until.is_some());
    assert_eq!(first.all_of[0].kind, ObservableKind::Sha256);
    assert!(first.all_of[0].value.starts_with("aa00"));
    assert_eq!(feed.indicators[1].all_of[0].value, "evil.example");
    let context = &first.context;
    assert_eq!(context.malware, ["PolyglotDuke"]);
    assert_eq!(context.actors, ["APT29", "The Dukes"]);
    assert_eq!(context.attack_ids, ["S0999", "G0016", "T1059.001"]);
    let apt29 = feed.entities.iter().find(|e| e.name == "APT29");
    assert_eq!(
        apt29.map(|e| (e.aliases.clone(), e.attack_ids.clone())),
        Some((vec!["Cozy Bear".to_owned()], vec!["G0016".to_owned()]))
    );

    let kinds: Vec<(DiagnosticKind, bool)> = feed
        .diagnostics
        .iter()
        .map(|d| (d.kind, d.location.starts_with("test-bundle: ")))
        .collect();
    assert_eq!(
        kinds,
        [
            (DiagnosticKind::Malformed, true),
            (DiagnosticKind::PatternSyntax, true),
            (DiagnosticKind::UnsupportedPattern, true),
            (DiagnosticKind::InvalidValue, true),
        ],
        "{:#?}",
        feed.diagnostics
    );
    assert!(feed.diagnostics[2].message.contains("sigma"));
}

#[test]
fn a_bare_list_of_objects_reads_and_garbage_is_an_error_with_its_place() {
    let list = r#"[{"type": "indicator", "id": "indicator--9", "pattern": "[url:value = 'HXXP://Evil.Example/x']"}]"#;
    let feed = read_bundle_bytes(list.as_bytes(), "list").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(feed.indicators[0].all_of[0].value, "http://evil.example/x");
    match read_bundle_bytes(b"{\"type\": \"bundle\",\n \"objects\": [}", "broken") {
        Err(Error::Json {
            line: 2, column, ..
        }) => assert!(column > 1),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        read_bundle_bytes(b"42", "number"),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        read_bundle(Path::new("/nonexistent/bundle.json")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn a_taxii_envelope_reads_as_a_bundle() {
    let envelope = br#"{"more": false, "next": "x", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--e1",
         "pattern": "[domain-name:value = 'c2.example']", "pattern_type": "stix",
         "valid_from": "2024-01-01T00:00:00Z"}]}"#;
    let feed = read_bundle_bytes(envelope, "taxii:collection").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(feed.source, "taxii:collection");
    assert_eq!(feed.indicators.len(), 1);
    assert_eq!(feed.indicators[0].source, "taxii:collection");
    assert_eq!(feed.indicators[0].all_of[0].value, "c2.example");
}
