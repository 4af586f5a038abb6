//! `rampart respond lint` and `rampart respond plan` end to end: the starter playbooks,
//! broken ones, and the plan of an incident stored by a real hunt.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{json, ok, rampart};
use serde_json::Value;
use std::path::PathBuf;

fn starter() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../playbooks")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_starter_library_lints_clean() {
    let output = ok(&["respond", "lint", &starter()]);
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("5 playbook(s) in 5 file(s): 0 error(s), 0 warning(s)"),
        "{stderr}"
    );
    let report = json(&["respond", "lint", &starter(), "--json"]);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["playbooks"].as_array().unwrap().len(), 5);
}

#[test]
fn errors_name_file_line_and_column_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "rampart_playbook: 1\nid: bad\ntitle: Bad\ntrigger: { on: incident, techniques: [T1003] }\nsteps:\n  - id: s\n    d3fend: D3-NOPE\n    stage: containment\n    approval: { role: analyst }\n    action: { http: { url: \"https://x.example/?t={{ \\e[31m }}\", body: { k: \"{{ secret.K }}\" } } }\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("future.yml"), "rampart_playbook: 2\n").unwrap();
    let output = rampart(&["respond", "lint", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].contains("bad.yml:7:13: error [d3fend]: D3-NOPE"),
        "{stdout}"
    );
    // The attacker-style escape sequence in the template is shown escaped.
    assert!(
        lines[1].contains("bad.yml:10:") && lines[1].contains("\\x1b[31m"),
        "{stdout}"
    );
    // A secret in a body is refused (in a URL, a header or auth it may stand).
    assert!(
        lines[2].contains("bad.yml:10:") && lines[2].contains("[secret]"),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    assert!(
        lines[3].contains("future.yml:1:19: error [version]") && lines[3].contains("version 2"),
        "{stdout}"
    );
    let report: Value = serde_json::from_slice(
        &rampart(&["respond", "lint", dir.path().to_str().unwrap(), "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(report["errors"], 4);
    assert_eq!(report["diagnostics"][0]["line"], 7);
    assert_eq!(report["diagnostics"][0]["check"], "d3fend");
}

#[test]
fn the_plan_of_a_stored_incident() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let db = db.to_str().unwrap();
    let sample = rampart_testkit::data_path(
        "evtx-attack-samples/Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx",
    );
    ok(&["hunt", sample.to_str().unwrap(), "--store", db, "--quiet"]);
    let listed = ok(&["incidents", "list", "--store", db, "--json"]);
    let incidents: Vec<Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(incidents.len(), 1);
    let id = incidents[0]["id"].as_str().unwrap().to_owned();

    let plan = json(&[
        "respond",
        "plan",
        &id,
        "--store",
        db,
        "--playbooks",
        &starter(),
        "--json",
    ]);
    assert_eq!(plan["incident"], id.as_str());
    assert_eq!(plan["host"], "MSEDGEWIN10");
    // Response order: Isolate, Evict, Restore, then Deceive, Detect, Harden.
    let groups = plan["groups"].as_array().unwrap();
    let tactics: Vec<&str> = groups
        .iter()
        .map(|g| g["tactic"].as_str().unwrap())
        .collect();
    assert_eq!(&tactics[..3], ["Isolate", "Evict", "Restore"]);
    let evict = groups[1]["countermeasures"].as_array().unwrap();
    let kill = evict.iter().find(|c| c["id"] == "D3-PT").unwrap();
    assert_eq!(kill["runnable"], true);

    let text = ok(&[
        "respond",
        "plan",
        &id,
        "--store",
        db,
        "--playbooks",
        &starter(),
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.starts_with(&format!("Plan for incident {id} on MSEDGEWIN10")),
        "{text}"
    );
    assert!(text.contains("[runnable] D3-PT"), "{text}");
    assert!(text.contains("[advice  ]"), "{text}");

    // Without playbooks everything is advice, and the output says why.
    let text = ok(&["respond", "plan", &id, "--store", db]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(!text.contains("[runnable]"), "{text}");
    assert!(text.contains("no playbooks given"), "{text}");

    let missing = rampart(&["respond", "plan", "INC-nothing", "--store", db]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no incident `INC-nothing`"));
}
