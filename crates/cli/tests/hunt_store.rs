#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rampart hunt --store`, the enriched output formats and correlation rules, on the
//! real samples: alerts reach the store once however often the hunt runs, incidents
//! follow, every enriched record carries its ATT&CK context, and correlations fire
//! over event time.

use rampart_testkit::data_path;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn rampart(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .env("RAMPART_DATA", rampart_testkit::data_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rampart {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Credential-access samples with the Windows rules: small enough to run quickly,
/// and they fire rules tagged with credential-access techniques.
fn hunt_args<'a>(samples: &'a str, rules: &'a str) -> Vec<&'a str> {
    vec!["hunt", samples, "--rules", rules, "--quiet"]
}

#[test]
fn store_keeps_each_alert_once_and_groups_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hunt.db");
    let samples = data_path("evtx-attack-samples/Credential Access");
    let rules = data_path("sigma/rules/windows");
    let mut args = hunt_args(text(&samples), text(&rules));
    args.extend(["--format", "jsonl", "--store", text(&db)]);

    let first = lines(&rampart(&args));
    assert!(
        !first.is_empty(),
        "the credential-access samples fire rules"
    );
    let stored = lines(&rampart(&[
        "alerts",
        "list",
        "--store",
        text(&db),
        "--json",
    ]));
    assert_eq!(stored.len(), first.len(), "every alert written is stored");

    // The same hunt again adds nothing.
    let second = lines(&rampart(&args));
    assert_eq!(second.len(), first.len());
    let stored_again = lines(&rampart(&[
        "alerts",
        "list",
        "--store",
        text(&db),
        "--json",
    ]));
    assert_eq!(
        stored_again.len(),
        stored.len(),
        "re-running adds no duplicates"
    );

    let incidents = rampart(&["incidents", "list", "--store", text(&db), "--json"]);
    let incidents: Value = serde_json::from_slice(&incidents.stdout)
        .or_else(|_| {
            // JSON lines are accepted too: one incident per line.
            let rows = lines(&incidents);
            Ok::<Value, serde_json::Error>(Value::Array(rows))
        })
        .unwrap();
    let incidents = incidents.as_array().expect("a list of incidents");
    assert!(
        !incidents.is_empty(),
        "stored alerts are grouped into incidents"
    );
    let text = incidents.iter().map(Value::to_string).collect::<String>();
    assert!(
        text.contains("credential-access"),
        "an incident shows the credential-access tactic"
    );
}

#[test]
fn native_and_ocsf_records_carry_attack_context() {
    let samples = data_path("evtx-attack-samples/Credential Access");
    let rules = data_path("sigma/rules/windows");
    let mut native_args = hunt_args(text(&samples), text(&rules));
    native_args.extend(["--format", "native"]);
    let native = lines(&rampart(&native_args));
    let mut plain_args = hunt_args(text(&samples), text(&rules));
    plain_args.extend(["--format", "jsonl"]);
    let plain = lines(&rampart(&plain_args));
    assert_eq!(native.len(), plain.len(), "one enriched record per alert");

    // ECS keeps parallel arrays: threat.technique.id[i] is named threat.technique.name[i].
    let tagged = native
        .iter()
        .find(|record| {
            record["threat"]["technique"]["id"]
                .as_array()
                .is_some_and(|ids| !ids.is_empty())
        })
        .expect("some alert has an ATT&CK technique");
    assert_eq!(tagged["threat"]["framework"], "MITRE ATT&CK");
    let technique = &tagged["threat"]["technique"];
    assert!(technique["id"][0].as_str().unwrap().starts_with('T'));
    assert!(!technique["name"][0].as_str().unwrap().is_empty());
    assert!(
        tagged["threat"]["tactic"]["id"][0]
            .as_str()
            .unwrap()
            .starts_with("TA"),
        "tactics come with their ATT&CK ids"
    );

    let mut ocsf_args = hunt_args(text(&samples), text(&rules));
    ocsf_args.extend(["--format", "ocsf"]);
    let ocsf = lines(&rampart(&ocsf_args));
    assert_eq!(ocsf.len(), plain.len());
    assert!(ocsf.iter().all(|finding| finding["class_uid"] == 2004));
    assert!(ocsf.iter().any(|finding| finding["finding_info"]["attacks"]
        .as_array()
        .is_some_and(|a| !a.is_empty())));
}

const BURST_RULES: &str = r#"title: Any process creation
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
name: any_process_creation
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '.exe'
  condition: selection
level: low
---
title: Burst of process creations on one host
id: 0e95725d-7320-415d-80f7-004da920fc11
status: test
correlation:
  type: event_count
  rules:
    - any_process_creation
  group-by:
    - Computer
  timespan: 1h
  condition:
    gte: 3
level: high
"#;

#[test]
fn correlation_rules_run_inside_the_hunt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("burst.yml"), BURST_RULES).unwrap();
    let samples = data_path("evtx-attack-samples/Execution");
    let mut args = hunt_args(text(&samples), text(dir.path()));
    args.extend(["--format", "jsonl"]);
    let alerts = lines(&rampart(&args));

    let bursts: Vec<_> = alerts
        .iter()
        .filter(|a| a["rule_id"] == "0e95725d-7320-415d-80f7-004da920fc11")
        .collect();
    assert!(
        !bursts.is_empty(),
        "hosts with 3+ process creations in an hour fire"
    );
    for burst in &bursts {
        let count = burst["matched"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["field"] == "event_count")
            .expect("the count that fired is reported");
        assert!(count["value"].as_str().unwrap().parse::<u64>().unwrap() >= 3);
    }
    // Sigma's `generate` defaults to false: the base rule's own alerts are withheld.
    assert!(alerts
        .iter()
        .all(|a| a["rule_id"] != "5638f7c0-ac70-491d-8465-2a65075e0d86"));
}
