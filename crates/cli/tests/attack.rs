//! `rampart attack` and `rampart group`, run as a user would, on the real data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{json, ok, rampart};
use serde_json::Value;

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect()
}

#[test]
fn show_technique_json_has_the_documented_shape() {
    let t = json(&["attack", "show", "t1053.005", "--json"]);
    assert_eq!(t["id"], "T1053.005");
    assert_eq!(t["kind"], "technique");
    assert_eq!(
        t["tactics"],
        serde_json::json!(["execution", "persistence", "privilege-escalation"])
    );
    assert_eq!(t["is_subtechnique"], true);
    assert_eq!(t["parent"]["id"], "T1053");
    assert!(t["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "Windows"));
    assert!(t["url"].as_str().unwrap().ends_with("/T1053/005"));
    assert!(t["revoked_by"].is_null());
    let groups = t["groups"].as_array().unwrap();
    assert!(groups
        .iter()
        .any(|g| g["id"] == "G0016" && g["name"] == "APT29"));
    assert!(ids(&t["software"]).iter().all(|id| id.starts_with('S')));
    assert!(ids(&t["mitigations"]).iter().all(|id| id.starts_with('M')));
    let strategy = &t["detection_strategies"][0];
    assert!(strategy["id"].as_str().unwrap().starts_with("DET"));
    assert!(!strategy["log_sources"].as_array().unwrap().is_empty());
    assert!(t["countermeasures"].is_array());
    assert!(t["engage"].is_array());

    let parent = json(&["attack", "show", "T1053", "--json"]);
    assert!(ids(&parent["subtechniques"]).contains(&"T1053.005"));
    assert_eq!(parent["is_subtechnique"], false);
}

#[test]
fn show_joins_d3fend_and_engage() {
    let lsass = json(&["attack", "show", "T1003.001", "--json"]);
    let countermeasures = lsass["countermeasures"].as_array().unwrap();
    assert!(countermeasures
        .iter()
        .any(|c| c["tactic"] == "Detect" && c["id"].as_str().unwrap().starts_with("D3-")));
    assert!(countermeasures.iter().all(|c| c["artifact"].is_string()));
    let obfuscation = json(&["attack", "show", "T1001", "--json"]);
    let engage = obfuscation["engage"].as_array().unwrap();
    assert!(!engage.is_empty());
    assert!(engage[0]["id"].as_str().unwrap().starts_with("EAC"));
    assert!(engage[0]["vulnerability"]["id"]
        .as_str()
        .unwrap()
        .starts_with("EAV"));

    let d3 = json(&["attack", "show", "d3-psa", "--json"]);
    assert_eq!(d3["id"], "D3-PSA");
    assert_eq!(d3["tactic"], "Detect");
}

#[test]
fn show_answers_every_kind_of_id() {
    for (id, kind) in [
        ("G0016", "group"),
        ("S0002", "software"),
        ("M1036", "mitigation"),
        ("TA0003", "tactic"),
        ("DET0001", "detection-strategy"),
        ("C0024", "campaign"),
    ] {
        let v = json(&["attack", "show", id, "--json"]);
        assert_eq!(v["id"], id);
        assert_eq!(v["kind"], kind, "{id}");
    }
    let tactic = json(&["attack", "show", "TA0003", "--json"]);
    assert_eq!(tactic["shortname"], "persistence");
    assert!(ids(&tactic["techniques"]).contains(&"T1053.005"));
}

#[test]
fn revoked_ids_point_to_their_replacement() {
    let v = json(&["attack", "show", "T1086", "--json"]);
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revoked_by"]["id"], "T1059.001");
    let text = rampart(&["attack", "show", "T1086"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("replaced by T1059.001"));
}

#[test]
fn unknown_ids_exit_2_with_nearest_matches() {
    let output = rampart(&["attack", "show", "T1053.055"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("T1053.055") && stderr.contains("T1053.005"),
        "{stderr}"
    );

    let output = rampart(&["group", "show", "Cozy Bearz"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("G0016"));

    let output = rampart(&["group", "show", "T1003"]);
    assert_eq!(output.status.code(), Some(2));

    let output = rampart(&["attack", "list", "--tactic", "no-such-tactic"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn search_ranks_the_named_technique_first() {
    let hits = json(&[
        "attack",
        "search",
        "scheduled task",
        "--json",
        "--limit",
        "3",
    ]);
    let hits = hits.as_array().unwrap();
    assert!(hits.len() <= 3);
    assert_eq!(hits[0]["id"], "T1053.005");
    assert!(hits[0]["score"].as_f64().unwrap() >= hits[1]["score"].as_f64().unwrap());
}

#[test]
fn list_filters_active_techniques() {
    let persistence = json(&[
        "attack",
        "list",
        "--tactic",
        "persistence",
        "--platform",
        "windows",
        "--json",
    ]);
    let rows = persistence.as_array().unwrap();
    assert!(rows.iter().all(|r| r["tactics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "persistence")));
    assert!(rows.iter().all(|r| r["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "Windows")));
    let listed = ids(&persistence);
    assert!(listed.contains(&"T1053.005"));
    assert!(
        !listed.contains(&"T1086"),
        "revoked techniques are not listed"
    );

    // Active counts published in the data's README: 691 / 124 / 83.
    assert_eq!(
        json(&["attack", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        691
    );
    assert_eq!(
        json(&["attack", "list", "--domain", "mobile", "--json"])
            .as_array()
            .unwrap()
            .len(),
        124
    );
    let ics = json(&["attack", "list", "--domain", "ics", "--json"]);
    assert_eq!(ics.as_array().unwrap().len(), 83);
    assert!(ids(&ics).iter().all(|id| id.starts_with("T0")));
}

#[test]
fn group_show_marks_direct_and_software_techniques() {
    let g = json(&["group", "show", "cozy bear", "--json"]);
    assert_eq!(g["id"], "G0016");
    assert_eq!(g["name"], "APT29");
    assert!(g["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "NOBELIUM"));
    let techniques = g["techniques"].as_array().unwrap();
    assert!(techniques.iter().any(|t| t["direct"] == true));
    let indirect = techniques
        .iter()
        .find(|t| t["direct"] == false && !t["via_software"].as_array().unwrap().is_empty())
        .expect("a technique used only through software");
    assert!(indirect["via_software"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with('S'));
    assert!(ids(&g["software"]).contains(&"S0002"));
    assert!(g["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "SolarWinds Compromise"));

    let text = rampart(&["group", "show", "G0016"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("APT29") && text.contains("direct") && text.contains("via "));
}

#[test]
fn an_empty_data_dir_fails_clearly() {
    let empty = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(empty.path())
        .args(["attack", "show", "T1003"])
        .env("XDG_CACHE_HOME", empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&empty.path().display().to_string()),
        "{stderr}"
    );
}

/// Multi-byte text, in a description or in the id asked for, never panics the
/// renderer (T1547.006, S0330 and Mobile S1216 used to, and so did `ééé`).
#[test]
fn show_survives_multibyte_descriptions_and_ids() {
    for id in ["T1547.006", "S0330", "S1216"] {
        let text = ok(&["attack", "show", id]);
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.starts_with(id), "{text}");
        assert!(!text.contains("(Citation:"), "{text}");
        assert_eq!(json(&["attack", "show", id, "--json"])["id"], id);
    }
    for id in ["ééé", "日本語テキスト", "", "   ", "D3-é", "EAC€"] {
        let output = rampart(&["attack", "show", id]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{id:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{id:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{id:?}: {stderr}");
    }
    let output = rampart(&["group", "show", "ééé"]);
    assert_eq!(output.status.code(), Some(2));
}
