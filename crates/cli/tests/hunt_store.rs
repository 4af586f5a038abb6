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

/// The real rule for a cleared Security log (event 1102), which the tests below fire
/// on JSON-lines events of their own making.
fn log_cleared_rule() -> std::path::PathBuf {
    data_path("sigma/rules/windows/builtin/security/win_security_audit_log_cleared.yml")
}

/// A Security 1102 event as a JSON line: who cleared the log, on which host, when.
fn log_cleared(host: &str, record: Option<u64>, time: &str, user: &str) -> String {
    let mut event = serde_json::json!({
        "EventID": 1102,
        "Provider_Name": "Microsoft-Windows-Eventlog",
        "Channel": "Security",
        "Computer": host,
        "@timestamp": time,
        "SubjectUserName": user,
        "SubjectLogonId": "0x3e7",
    });
    if let Some(record) = record {
        event["EventRecordID"] = record.into();
    }
    format!("{event}\n")
}

/// Runs a hunt with the log-cleared rule over `inputs`, stdin fed `stdin`, storing
/// into `db`; returns the JSON lines it wrote.
fn hunt_into(db: &Path, inputs: &[&Path], stdin: &str) -> Vec<Value> {
    use std::io::Write;
    let rule = log_cleared_rule();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
    command
        .arg("hunt")
        .args(inputs)
        .args(["--rules", text(&rule), "--format", "jsonl", "--quiet"])
        .args(["--store", text(db)])
        .env("RAMPART_DATA", rampart_testkit::data_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "hunt failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    lines(&output)
}

fn stored(db: &Path) -> Vec<Value> {
    lines(&rampart(&["alerts", "list", "--store", text(db), "--json"]))
}

#[test]
fn two_hosts_events_with_one_record_id_in_one_file_are_two_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hosts.db");
    let file = dir.path().join("forwarded.jsonl");
    let t = "2024-05-01T10:00:00Z";
    std::fs::write(
        &file,
        log_cleared("HOST-A", Some(7), t, "alice") + &log_cleared("HOST-B", Some(7), t, "bob"),
    )
    .unwrap();
    assert_eq!(hunt_into(&db, &[&file], "").len(), 2);
    assert_eq!(stored(&db).len(), 2, "one alert per host");
    // Hunting the same file again stays idempotent.
    hunt_into(&db, &[&file], "");
    assert_eq!(stored(&db).len(), 2);
}

#[test]
fn two_days_piped_through_stdin_keep_both_days() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("stdin.db");
    let stdin = Path::new("-");
    let day_one = log_cleared("HOST-A", None, "2024-05-01T10:00:00Z", "alice");
    let day_two = log_cleared("HOST-A", None, "2024-05-02T10:00:00Z", "mallory");
    hunt_into(&db, &[stdin], &day_one);
    hunt_into(&db, &[stdin], &day_two);
    let alerts = stored(&db);
    assert_eq!(alerts.len(), 2, "the second day is not 'already stored'");
    hunt_into(&db, &[stdin], &day_two);
    assert_eq!(stored(&db).len(), 2, "the same day again adds nothing");
}

#[test]
fn a_rotated_file_at_the_same_path_keeps_its_new_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rotated.db");
    let file = dir.path().join("security.jsonl");
    std::fs::write(
        &file,
        log_cleared("DC1", Some(1), "2024-05-01T10:00:00Z", "alice"),
    )
    .unwrap();
    hunt_into(&db, &[&file], "");
    // The log rotates: a new file at the same path, its record ids starting again.
    std::fs::write(
        &file,
        log_cleared("DC1", Some(1), "2024-05-08T09:00:00Z", "mallory"),
    )
    .unwrap();
    hunt_into(&db, &[&file], "");
    let users: Vec<String> = stored(&db)
        .iter()
        .map(|a| a["alert"]["context"].to_string())
        .collect();
    assert_eq!(users.len(), 2, "{users:?}");
    assert!(users[1].contains("mallory"), "{users:?}");
}

#[test]
fn the_alert_id_is_the_stored_id_and_the_ocsf_uid() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ids.db");
    let sample = data_path("evtx-attack-samples/Defense Evasion/DE_1102_security_log_cleared.evtx");
    let written = hunt_into(&db, &[&sample], "");
    assert_eq!(written.len(), 1);
    let id = written[0]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    let stored = stored(&db);
    assert_eq!(stored[0]["id"], id.as_str());
    assert_eq!(stored[0]["alert"]["id"], id.as_str());
    let ocsf = lines(&rampart(&[
        "alerts",
        "list",
        "--store",
        text(&db),
        "--enrich",
        "ocsf",
    ]));
    assert_eq!(ocsf[0]["finding_info"]["uid"], id.as_str());
    let native = lines(&rampart(&[
        "alerts",
        "list",
        "--store",
        text(&db),
        "--enrich",
        "native",
    ]));
    assert_eq!(native[0]["id"], id.as_str());
    let rule = log_cleared_rule();
    let hunt_ocsf = lines(&rampart(&[
        "hunt",
        text(&sample),
        "--rules",
        text(&rule),
        "--format",
        "ocsf",
        "--quiet",
    ]));
    assert_eq!(hunt_ocsf[0]["finding_info"]["uid"], id.as_str());
    assert_eq!(
        hunt_ocsf[0]["unmapped"]["context"]["SubjectUserName"],
        stored[0]["alert"]["context"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == "SubjectUserName")
            .unwrap()["value"]
    );
}

/// `hunt --store db | head -1`: the reader of stdout goes away before the first
/// alert is written; every alert is still stored and the run marked finished.
#[test]
fn a_closed_stdout_does_not_stop_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pipe.db");
    let file = dir.path().join("many.jsonl");
    let events: String = (0..200)
        .map(|n| log_cleared("DC1", Some(n), "2024-05-01T10:00:00Z", "mallory"))
        .collect();
    std::fs::write(&file, events).unwrap();
    let rule = log_cleared_rule();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "hunt",
            text(&file),
            "--rules",
            text(&rule),
            "--format",
            "jsonl",
        ])
        .args(["--quiet", "--store", text(&db)])
        .env("RAMPART_DATA", rampart_testkit::data_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end at once, as `head` does once it has its line.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(141),
        "exit status 128 + SIGPIPE, after storing: {:?} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stored(&db).len(), 200, "every alert is stored");
    let runs = lines(&rampart(&[
        "alerts",
        "runs",
        "--store",
        text(&db),
        "--json",
    ]));
    assert!(!runs[0]["finished_at"].is_null(), "the run is finished");
}

#[test]
fn alerts_show_prints_context_escaped_and_full_event_keeps_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("show.db");
    let file = dir.path().join("evil.jsonl");
    // A user name that would clear the screen if printed raw.
    std::fs::write(
        &file,
        log_cleared("DC1", Some(9), "2024-05-01T10:00:00Z", "eve\u{1b}[2J"),
    )
    .unwrap();
    let written = hunt_into(&db, &[&file], "");
    let id = written[0]["id"].as_str().unwrap();
    let context = written[0]["context"].to_string();
    assert!(context.contains("SubjectLogonId"), "{context}");
    assert!(!context.contains("\"Channel\""), "{context}");
    let shown = rampart(&["alerts", "show", id, "--store", text(&db)]);
    let shown_text = String::from_utf8(shown.stdout).unwrap();
    assert!(!shown_text.contains('\u{1b}'), "{shown_text}");
    assert!(
        shown_text.contains("SubjectUserName: eve\\x1b[2J"),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("Security Eventlog Cleared"),
        "{shown_text}"
    );
    assert!(shown_text.contains("T1685.005"), "{shown_text}");
    let json = lines(&rampart(&[
        "alerts",
        "show",
        id,
        "--store",
        text(&db),
        "--json",
    ]));
    assert_eq!(json[0]["id"], id);

    // The whole event on request.
    let rule = log_cleared_rule();
    let full = lines(&rampart(&[
        "hunt",
        text(&file),
        "--rules",
        text(&rule),
        "--format",
        "jsonl",
        "--quiet",
        "--full-event",
    ]));
    assert!(full[0]["context"].to_string().contains("\"Channel\""));
    // An unknown id is an error naming it.
    let missing = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["alerts", "show", "0000", "--store", text(&db)])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no alert 0000"));
}

/// On a real EVTX record, the alert names who cleared the log.
#[test]
fn a_real_log_cleared_alert_names_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("real.db");
    let sample = data_path("evtx-attack-samples/Defense Evasion/DE_1102_security_log_cleared.evtx");
    let written = hunt_into(&db, &[&sample], "");
    let context = written[0]["context"].to_string();
    assert!(context.contains("SubjectUserName"), "{context}");
}

/// An imported alert file is attacker-controlled: its context is held to the bounds a
/// hunt keeps (512 fields, 4 KiB a value), and an id that is not one is replaced.
#[test]
fn imported_alerts_have_bounded_context_and_a_real_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("import.db");
    let file = dir.path().join("alerts.jsonl");
    let context: Vec<Value> = (0..2000)
        .map(|n| serde_json::json!({"field": format!("F{n}"), "value": "x".repeat(100_000)}))
        .collect();
    let alert = serde_json::json!({
        "id": "not an id\u{1b}[2J",
        "rule_id": "r1", "rule_title": "imported", "level": "high", "status": null,
        "techniques": [], "tactics": [], "tags": [],
        "event": {"source": "x", "timestamp": null, "computer": "H", "channel": null,
                  "provider": null, "event_id": null, "record_id": 1},
        "matched": [], "context": context,
    });
    std::fs::write(&file, format!("{alert}\n")).unwrap();
    rampart(&["alerts", "import", text(&file), "--store", text(&db)]);
    let stored = stored(&db);
    let kept = stored[0]["alert"]["context"].as_array().unwrap();
    assert_eq!(kept.len(), 512);
    assert!(kept
        .iter()
        .all(|c| c["value"].as_str().unwrap().len() <= 4096 + "…[cut]".len()));
    let id = stored[0]["id"].as_str().unwrap();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
}
