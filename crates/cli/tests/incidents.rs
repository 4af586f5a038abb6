//! `rampart alerts` and `rampart incidents` end to end: hunt real EVTX samples, store
//! the alerts, group them into incidents and query them, as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cache_home, ok, rampart};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Alerts of the lateral-movement and credential-access EVTX samples, hunted once with
/// the SigmaHQ rules and shared by the tests (JSON lines).
fn hunted() -> &'static Path {
    static ALERTS: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &ALERTS
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("alerts.jsonl");
            let samples = rampart_testkit::data_path("evtx-attack-samples");
            ok(&[
                "hunt",
                samples.join("Lateral Movement").to_str().unwrap(),
                samples.join("Credential Access").to_str().unwrap(),
                samples.join("Privilege Escalation").to_str().unwrap(),
                "--format",
                "jsonl",
                "--quiet",
                "--output",
                file.to_str().unwrap(),
            ]);
            (dir, file)
        })
        .1
}

/// A fresh store holding the hunted alerts.
fn store() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").to_str().unwrap().to_string();
    ok(&[
        "alerts",
        "import",
        hunted().to_str().unwrap(),
        "--store",
        &db,
    ]);
    (dir, db)
}

#[test]
fn reimporting_the_same_alerts_adds_none() {
    let lines = std::fs::read_to_string(hunted()).unwrap().lines().count();
    assert!(lines > 100, "{lines} alerts");
    let (_dir, db) = store();
    let again = ok(&[
        "alerts",
        "import",
        hunted().to_str().unwrap(),
        "--store",
        &db,
    ]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("added 0 alert(s)"), "{stderr}");
    let stored = json_lines(&ok(&["alerts", "list", "--json", "--store", &db]));
    assert_eq!(stored.len(), lines);
}

#[test]
fn incidents_show_lateral_movement_and_credential_access() {
    let (_dir, db) = store();
    let incidents = json_lines(&ok(&["incidents", "list", "--json", "--store", &db]));
    assert!(!incidents.is_empty());
    let tactics_of = |i: &Value| -> Vec<String> {
        i["tactics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    let lateral = incidents
        .iter()
        .find(|i| tactics_of(i).contains(&"lateral-movement".to_string()))
        .expect("an incident with lateral movement");
    assert!(incidents
        .iter()
        .any(|i| tactics_of(i).contains(&"credential-access".to_string())));
    // Listed highest score first.
    let scores: Vec<f64> = incidents
        .iter()
        .map(|i| i["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]));

    let id = lateral["id"].as_str().unwrap().to_lowercase();
    let detail: Value =
        serde_json::from_slice(&ok(&["incidents", "show", &id, "--json", "--store", &db]).stdout)
            .unwrap();
    let times: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["time"].as_str())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "timeline out of order"
    );
    assert_eq!(
        detail["timeline"].as_array().unwrap().len(),
        lateral["alerts"].as_u64().unwrap() as usize
    );
    assert!(detail["tactic_names"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "Lateral Movement"));
    let context = detail["technique_context"].as_array().unwrap();
    assert!(context.iter().all(|c| c["technique"]["name"].is_string()));
    assert!(!context.is_empty());
    let next = detail["likely_next"].as_array().unwrap();
    assert!(!next.is_empty());
    assert!(next
        .iter()
        .all(|n| ["covered", "parent_only", "not_covered"]
            .contains(&n["coverage"].as_str().unwrap())));

    let text = String::from_utf8_lossy(&ok(&["incidents", "show", &id, "--store", &db]).stdout)
        .to_string();
    assert!(
        text.contains("kill chain: ") && text.contains("likely next: "),
        "{text}"
    );
}

#[test]
fn alerts_list_filters_by_technique_level_host_and_time() {
    let (_dir, db) = store();
    let all = json_lines(&ok(&["alerts", "list", "--json", "--store", &db]));
    let credential = json_lines(&ok(&[
        "alerts",
        "list",
        "--json",
        "--technique",
        "T1003",
        "--store",
        &db,
    ]));
    assert!(!credential.is_empty() && credential.len() < all.len());
    assert!(credential.iter().all(|a| a["alert"]["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t.as_str().unwrap().starts_with("T1003"))));
    let high = json_lines(&ok(&[
        "alerts", "list", "--json", "--level", "high", "--store", &db,
    ]));
    assert!(high
        .iter()
        .all(|a| ["high", "critical"].contains(&a["alert"]["level"].as_str().unwrap())));
    assert!(high.len() < all.len());
    let host = all[0]["alert"]["event"]["computer"]
        .as_str()
        .unwrap()
        .to_string();
    let on_host = json_lines(&ok(&[
        "alerts",
        "list",
        "--json",
        "--host",
        &host.to_uppercase(),
        "--store",
        &db,
    ]));
    assert!(!on_host.is_empty());
    assert!(on_host.iter().all(|a| a["alert"]["event"]["computer"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(&host)));
    let later = json_lines(&ok(&[
        "alerts",
        "list",
        "--json",
        "--since",
        "2020-01-01",
        "--store",
        &db,
    ]));
    assert!(later.len() < all.len());
    assert!(later
        .iter()
        .all(|a| a["alert"]["event"]["timestamp"].as_str().unwrap() >= "2020-01-01"));
}

#[test]
fn a_corrupt_store_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("broken.db");
    std::fs::write(
        &db,
        b"this is not a database, just some text long enough to be a header",
    )
    .unwrap();
    let output = rampart(&["incidents", "list", "--store", db.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(db.to_str().unwrap()) && stderr.contains("corrupt"),
        "{stderr}"
    );
}

#[test]
fn a_read_only_store_refuses_imports_but_still_lists() {
    let (_dir, db) = store();
    let mut permissions = std::fs::metadata(&db).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&db, permissions).unwrap();
    let output = rampart(&[
        "alerts",
        "import",
        hunted().to_str().unwrap(),
        "--store",
        &db,
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&db) && stderr.contains("read-only"),
        "{stderr}"
    );
    ok(&["incidents", "list", "--store", &db]);
}

#[test]
fn a_missing_store_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let output = rampart(&["alerts", "list", "--store", db.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--store"));
}

#[test]
fn enriched_listings_carry_attack_context_and_ocsf() {
    let (_dir, db) = store();
    let native = json_lines(&ok(&[
        "alerts",
        "list",
        "--technique",
        "T1003.001",
        "--enrich",
        "native",
        "--store",
        &db,
    ]));
    assert!(!native.is_empty());
    for record in &native {
        assert_eq!(record["threat"]["framework"], "MITRE ATT&CK");
        assert!(record["threat"]["technique"]["subtechnique"]["id"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == "T1003.001"));
        assert!(record["enrichment"]["pyramid"]["level"].is_string());
    }
    let ocsf = json_lines(&ok(&[
        "alerts",
        "list",
        "--technique",
        "T1003.001",
        "--enrich",
        "ocsf",
        "--store",
        &db,
    ]));
    assert_eq!(ocsf.len(), native.len());
    assert!(ocsf.iter().all(|f| f["class_uid"] == 2004
        && f["finding_info"]["attacks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["tactic"]["uid"] == "TA0006")));
}

/// `BATCH` alerts in `hunt_store.rs`: one full batch is committed before the end.
const BATCH: usize = 500;

#[test]
fn a_killed_import_keeps_every_committed_batch() {
    use std::io::Write;
    let lines: Vec<String> = std::fs::read_to_string(hunted())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(lines.len() > BATCH);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("killed.db").to_str().unwrap().to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(rampart_testkit::data_dir())
        .args(["alerts", "import", "-", "--store", &db])
        .env("XDG_CACHE_HOME", cache_home())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // One full batch and a few more that stay buffered; stdin stays open.
    for line in &lines[..BATCH + 10] {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    let count = || {
        let output = rampart(&["alerts", "list", "--json", "--store", &db]);
        if output.status.success() {
            json_lines(&output).len()
        } else {
            0
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while count() < BATCH {
        assert!(
            std::time::Instant::now() < deadline,
            "batch never committed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    // The committed batch survived the kill; the buffered tail was never reported.
    assert_eq!(count(), BATCH);
    let runs = json_lines(&ok(&["alerts", "runs", "--json", "--store", &db]));
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["alerts_added"], BATCH as u64);
    assert!(
        runs[0]["finished_at"].is_null(),
        "the killed run never finished"
    );
    // The store is healthy: a complete import adds exactly the rest.
    let output = ok(&[
        "alerts",
        "import",
        hunted().to_str().unwrap(),
        "--store",
        &db,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let expected = format!(
        "added {} alert(s) ({BATCH} already stored)",
        lines.len() - BATCH
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn rebuilding_with_a_shorter_window_splits_incidents() {
    let (_dir, db) = store();
    let count = |db: &str| json_lines(&ok(&["incidents", "list", "--json", "--store", db])).len();
    let hourly = count(&db);
    ok(&["incidents", "rebuild", "--window", "1m", "--store", &db]);
    let minutely = count(&db);
    assert!(minutely > hourly, "{minutely} <= {hourly}");
    ok(&["incidents", "rebuild", "--window", "1h", "--store", &db]);
    assert_eq!(count(&db), hourly);
    let bad = rampart(&["incidents", "rebuild", "--window", "soon", "--store", &db]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("soon"));
}

/// The service stores the likely next techniques it ranked with each incident:
/// `incidents show --json` names them once, ranked afresh with the knowledge graph,
/// and as stored without one.
#[test]
fn stored_likely_next_is_shown_once() {
    let (dir, db) = store();
    let mut store = rampart_store::open(Path::new(&db)).unwrap();
    let mut incidents = store.incidents().unwrap();
    let stored_next: rampart_correlate::NextTechnique = serde_json::from_value(serde_json::json!({
        "technique": "T1003.001",
        "name": "LSASS Memory",
        "likelihood": 0.5,
        "tactic": "credential-access",
        "coverage": "not_covered",
        "supporters": 1,
        "supported_by": [],
    }))
    .unwrap();
    incidents[0].likely_next = vec![stored_next];
    store.replace_incidents(&incidents).unwrap();
    drop(store);
    let id = incidents[0].id.clone();

    let with_knowledge = ok(&["incidents", "show", &id, "--json", "--store", &db]);
    let text = String::from_utf8_lossy(&with_knowledge.stdout);
    assert_eq!(text.matches("\"likely_next\"").count(), 1, "{text}");

    let empty = dir.path().join("no-data");
    std::fs::create_dir(&empty).unwrap();
    let without = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(&empty)
        .args(["incidents", "show", &id, "--json", "--store", &db])
        .env("XDG_CACHE_HOME", cache_home())
        .env_remove("RAMPART_LOG")
        .output()
        .unwrap();
    assert!(
        without.status.success(),
        "{}",
        String::from_utf8_lossy(&without.stderr)
    );
    let text = String::from_utf8_lossy(&without.stdout);
    assert_eq!(text.matches("\"likely_next\"").count(), 1, "{text}");
    let detail: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(detail["likely_next"][0]["technique"], "T1003.001");
}
