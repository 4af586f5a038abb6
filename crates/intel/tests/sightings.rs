//! Sightings exported as STIX 2.1 validate against OASIS's JSON schemas (read from the
//! reference data, `$ref`s resolved from the same folder, nothing fetched).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use rampart_intel::sightings::{misp_sightings, stix_bundle, Hit, Sighter};
use rampart_intel::{Observable, ObservableKind};
use serde_json::Value;

const SCHEMA_BASE: &str =
    "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/";

fn schemas_dir() -> PathBuf {
    rampart_testkit::data_dir().join("threat-intel/stix2-json-schemas/schemas")
}

/// Resolves the schemas' `$ref`s to the files beside them.
struct LocalSchemas;

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let relative = uri
            .as_str()
            .strip_prefix(SCHEMA_BASE)
            .ok_or_else(|| format!("not a STIX schema: {}", uri.as_str()))?;
        let text = fs::read_to_string(schemas_dir().join(relative))?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn validator(relative: &str) -> jsonschema::Validator {
    let path = schemas_dir().join(relative);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::options()
        .with_retriever(LocalSchemas)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect()
}

fn hits() -> Vec<Hit> {
    let at = |minute| Utc.with_ymd_and_hms(2024, 5, 1, 10, minute, 0).unwrap();
    let c2 = Hit {
        // From the OASIS example `indicator-for-c2-ip-address.json`.
        indicator_id: "indicator--33fe3b22-0201-47cf-85d0-97c02164528d".into(),
        source: "stix:indicator-for-c2-ip-address.json".into(),
        name: Some("Example C2 IP".into()),
        observables: vec![Observable {
            kind: ObservableKind::Ip,
            value: "10.0.0.0".into(),
        }],
        time: at(0),
    };
    let misp = Hit {
        indicator_id: "5d6f2ac1-6d3c-4b88-9c1e-4b0a0a0a0a0a".into(),
        source: "misp:5d6f2a9b-1234-4cde-8f00-0a0a0a0a0a0a".into(),
        name: None,
        observables: vec![Observable {
            kind: ObservableKind::Domain,
            value: "evil.example".into(),
        }],
        time: at(5),
    };
    let listed = Hit {
        indicator_id: "list-3f2a".into(),
        source: "list:samples.sha256".into(),
        name: None,
        observables: vec![
            Observable {
                kind: ObservableKind::Sha256,
                value: "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c".into(),
            },
            Observable {
                kind: ObservableKind::FileName,
                value: "it's.exe".into(),
            },
        ],
        time: at(7),
    };
    vec![
        c2.clone(),
        misp,
        Hit {
            time: at(9),
            ..c2.clone()
        },
        listed,
        Hit { time: at(3), ..c2 },
    ]
}

fn sighter() -> Sighter {
    Sighter {
        name: "Example SOC".into(),
        now: Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).unwrap(),
    }
}

#[test]
fn stix_sightings_validate_against_the_oasis_schemas() {
    let bundle = stix_bundle(&hits(), &sighter());
    let bundle_errors = errors(&validator("common/bundle.json"), &bundle);
    assert!(bundle_errors.is_empty(), "{bundle_errors:?}\n{bundle:#}");

    let schemas = BTreeMap::from([
        ("identity", validator("sdos/identity.json")),
        ("indicator", validator("sdos/indicator.json")),
        ("sighting", validator("sros/sighting.json")),
    ]);
    let objects = bundle["objects"].as_array().unwrap();
    for object in objects {
        let kind = object["type"].as_str().unwrap();
        let problems = errors(&schemas[kind], object);
        assert!(problems.is_empty(), "{kind}: {problems:?}\n{object:#}");
    }

    let of_type =
        |kind: &str| -> Vec<&Value> { objects.iter().filter(|o| o["type"] == kind).collect() };
    assert_eq!(of_type("identity").len(), 1);
    let sightings = of_type("sighting");
    assert_eq!(sightings.len(), 3, "one per indicator");
    let c2 = sightings
        .iter()
        .find(|s| s["sighting_of_ref"] == "indicator--33fe3b22-0201-47cf-85d0-97c02164528d")
        .expect("the STIX indicator is sighted by its own id");
    assert_eq!(c2["count"], 3);
    assert_eq!(c2["first_seen"], "2024-05-01T10:00:00.000Z");
    assert_eq!(c2["last_seen"], "2024-05-01T10:09:00.000Z");
    assert_eq!(c2["where_sighted_refs"][0], of_type("identity")[0]["id"]);

    // Indicators of other feeds travel with the sightings, as STIX patterns.
    let indicators = of_type("indicator");
    assert_eq!(indicators.len(), 2);
    let patterns: Vec<&str> = indicators
        .iter()
        .map(|i| i["pattern"].as_str().unwrap())
        .collect();
    assert!(patterns.contains(&"[domain-name:value = 'evil.example']"));
    assert!(patterns.contains(
        &"[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c' \
          AND file:name = 'it\\'s.exe']"
    ));
    for indicator in indicators {
        assert!(sightings
            .iter()
            .any(|s| s["sighting_of_ref"] == indicator["id"]));
    }

    // The same hits, sighter and time give the same document.
    assert_eq!(stix_bundle(&hits(), &sighter()), bundle);
}

#[test]
fn misp_sightings_name_attributes_and_values() {
    let document = misp_sightings(&hits(), &sighter());
    let sightings = document["Sighting"].as_array().unwrap();
    assert_eq!(sightings.len(), 5, "one per hit");
    let misp = sightings
        .iter()
        .find(|s| s["values"][0] == "evil.example")
        .unwrap();
    assert_eq!(misp["uuid"], "5d6f2ac1-6d3c-4b88-9c1e-4b0a0a0a0a0a");
    assert_eq!(misp["type"], "0");
    assert_eq!(misp["source"], "Example SOC");
    assert_eq!(
        misp["timestamp"],
        Utc.with_ymd_and_hms(2024, 5, 1, 10, 5, 0)
            .unwrap()
            .timestamp()
    );
    assert!(
        sightings.iter().filter(|s| s.get("uuid").is_some()).count() == 1,
        "only MISP attributes have a uuid to name"
    );
}
