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

    // Active counts of 19.1 (the version discovered) published in the data's README:
    // 697 / 124 / 97.
    assert_eq!(
        json(&["attack", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        697
    );
    assert_eq!(
        json(&["attack", "list", "--domain", "mobile", "--json"])
            .as_array()
            .unwrap()
            .len(),
        124
    );
    let ics = json(&["attack", "list", "--domain", "ics", "--json"]);
    assert_eq!(ics.as_array().unwrap().len(), 97);
    // ICS ids are T0xxx, except the 16 (sub-)techniques 19.1 added as T1691–T1695.
    let ics_ids = ids(&ics);
    assert_eq!(ics_ids.iter().filter(|id| id.starts_with("T0")).count(), 81);
    assert!(ics_ids
        .iter()
        .all(|id| id.starts_with("T0") || id.starts_with("T169")));
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

#[test]
fn withdrawn_subtechniques_are_not_listed() {
    let scheduled = json(&["attack", "show", "T1053", "--json"]);
    let subtechniques = ids(&scheduled["subtechniques"]);
    assert!(subtechniques.contains(&"T1053.005"));
    assert!(!subtechniques.contains(&"T1053.004"), "deprecated");
    let hijack = json(&["attack", "show", "T1574", "--json"]);
    assert!(
        !ids(&hijack["subtechniques"]).contains(&"T1574.002"),
        "revoked"
    );
    let text = ok(&["attack", "show", "T1574"]);
    assert!(!String::from_utf8_lossy(&text.stdout).contains("T1574.002"));
    // Asked for directly, a revoked id says what replaced it.
    let revoked = json(&["attack", "show", "T1574.002", "--json"]);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked_by"]["id"], "T1574.001");
}

#[test]
fn d3fend_show_has_definition_url_tactic_and_countered_techniques() {
    let psa = json(&["attack", "show", "D3-PSA", "--json"]);
    assert_eq!(psa["kind"], "d3fend-technique");
    assert_eq!(
        psa["url"],
        "https://d3fend.mitre.org/technique/d3f:ProcessSpawnAnalysis/"
    );
    assert_eq!(psa["tactic"], "Detect");
    assert!(psa["definition"].as_str().unwrap().len() > 20);
    let counters = ids(&psa["counters"]);
    assert!(counters.len() > 10, "{counters:?}");
    assert!(counters.iter().all(|id| id.starts_with('T')));
    // The inverse of `attack show T…`: each countered technique lists D3-PSA.
    for id in counters.iter().take(3) {
        let technique = json(&["attack", "show", id, "--json"]);
        assert!(
            ids(&technique["countermeasures"]).contains(&"D3-PSA"),
            "{id}"
        );
    }
    let text = ok(&["attack", "show", "d3-psa"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("URL:        https://d3fend.mitre.org/technique/d3f:ProcessSpawnAnalysis/")
    );
    assert!(text.contains("Counters ATT&CK techniques ("), "{text}");
    assert!(text.contains(counters[0]), "{text}");
}

#[test]
fn search_finds_d3fend_techniques_and_engage_activities() {
    let hits = json(&["attack", "search", "process spawn analysis", "--json"]);
    let psa = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "D3-PSA")
        .expect("D3-PSA found by name");
    assert_eq!(psa["kind"], "d3fend-technique");
    assert_eq!(psa["domain"], "d3fend");

    let hits = json(&["attack", "search", "API Monitoring", "--json"]);
    let activity = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "engage-activity")
        .expect("an ENGAGE activity found by name");
    let id = activity["id"].as_str().unwrap();
    assert!(id.starts_with("EAC"), "{id}");
    let shown = json(&["attack", "show", id, "--json"]);
    assert_eq!(shown["kind"], "engage-activity");
    assert!(ids(&shown["techniques"]).iter().all(|t| t.starts_with('T')));
    let text = ok(&["attack", "search", "API Monitoring"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("engage-activity"));
}

/// `attack show`, the enriched alert and the incident view count T1003.001's D3FEND
/// countermeasures the same way (they used to say 93, 66 and 66).
#[test]
fn countermeasure_counts_agree_across_views() {
    let shown = json(&["attack", "show", "T1003.001", "--json"]);
    let in_show = shown["countermeasures"].as_array().unwrap().len();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let db = db.to_str().unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let samples = rampart_testkit::data_path("evtx-attack-samples").join("Credential Access");
    ok(&[
        "hunt",
        samples.to_str().unwrap(),
        "--store",
        db,
        "--quiet",
        "--format",
        "jsonl",
        "--output",
        alerts.to_str().unwrap(),
    ]);
    let d3fend_count = |context: &Value| -> usize {
        context["d3fend"]
            .as_object()
            .unwrap()
            .values()
            .map(|list| list.as_array().unwrap().len())
            .sum()
    };
    let listed = ok(&[
        "alerts",
        "list",
        "--technique",
        "T1003.001",
        "--enrich",
        "native",
        "--store",
        db,
    ]);
    let record: Value = serde_json::from_str(
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let context = record["enrichment"]["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["technique"]["id"] == "T1003.001")
        .unwrap();
    assert_eq!(d3fend_count(context), in_show);

    let incidents = ok(&["incidents", "list", "--json", "--store", db]);
    let incident: Value = String::from_utf8_lossy(&incidents.stdout)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|i| {
            i["techniques"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "T1003.001")
        })
        .expect("an incident with T1003.001");
    let id = incident["id"].as_str().unwrap();
    let detail = json(&["incidents", "show", id, "--json", "--store", db]);
    let context = detail["technique_context"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["technique"]["id"] == "T1003.001")
        .unwrap();
    assert_eq!(d3fend_count(context), in_show);
    let text = ok(&["incidents", "show", id, "--store", db]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("{in_show} D3FEND countermeasure(s)")),
        "{text}"
    );
}

/// A bundle's names and descriptions are attacker-controlled: terminal control
/// sequences in them come out escaped in `show`, `list` and `search`, never raw.
#[test]
fn control_characters_from_a_bundle_are_escaped_in_text_output() {
    let data = tempfile::tempdir().unwrap();
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": "bundle--1",
        "objects": [
            {
                "type": "x-mitre-tactic",
                "id": "x-mitre-tactic--1",
                "name": "Execution",
                "x_mitre_domains": ["enterprise-attack"],
                "x_mitre_shortname": "execution",
                "external_references": [{"source_name": "mitre-attack", "external_id": "TA0002"}]
            },
            {
                "type": "attack-pattern",
                "id": "attack-pattern--1",
                "name": "Evil\u{1b}[2J\u{7} task",
                "description": "é\u{1b}]0;owned\u{7} (Citation: x) [link](https://x) ’",
                "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
                "x_mitre_platforms": ["Windows"],
                "external_references": [{"source_name": "mitre-attack", "external_id": "T9001"}]
            }
        ]
    });
    std::fs::write(
        data.path().join("enterprise-attack.json"),
        serde_json::to_vec(&bundle).unwrap(),
    )
    .unwrap();
    for args in [
        &["attack", "show", "T9001"][..],
        &["attack", "list"][..],
        &["attack", "search", "evil"][..],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .env("XDG_CACHE_HOME", data.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{args:?}: {stdout}");
        assert!(
            stdout.contains("Evil\\x1b[2J\\x07 task"),
            "{args:?}: {stdout}"
        );
        assert!(
            !stdout.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?}: {stdout:?}"
        );
    }
}
