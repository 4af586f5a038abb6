//! `rampart respond run|runs|show|approve|worker` and `rampart audit verify|export` end
//! to end, on an incident stored by a real hunt: a dry run of a starter playbook, and a
//! live run against the HTTP test peer waiting for an approval.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{json, ok, rampart};
use rampart_respond::testing::HttpPeer;
use serde_json::Value;
use std::path::PathBuf;

fn starter(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../playbooks")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_dry_run_then_a_live_run_with_an_approval_and_a_verified_audit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let db = db.to_str().unwrap();
    let sample = rampart_testkit::data_path(
        "evtx-attack-samples/Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx",
    );
    ok(&["hunt", sample.to_str().unwrap(), "--store", db, "--quiet"]);
    let listed = ok(&["incidents", "list", "--store", db, "--json"]);
    let incident: Value = serde_json::from_str(
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let id = incident["id"].as_str().unwrap().to_owned();

    // Dry run of the starter playbook: every request recorded, secrets as references.
    let config = dir.path().join("responder.yml");
    std::fs::write(
        &config,
        "commands: { edr-kill: /bin/true, edr-isolate: /bin/true, edr-release: /bin/true }\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let dry = json(&[
        "respond",
        "run",
        &starter("credential-dumping.yml"),
        "--incident",
        &id,
        "--dry-run",
        "--config",
        config,
        "--store",
        db,
        "--by",
        "alice",
        "--json",
    ]);
    assert_eq!(dry["run"]["state"], "previewed");
    let steps = dry["steps"].as_array().unwrap();
    assert!(steps.len() >= 3, "{dry}");
    assert!(steps.iter().all(|s| s["state"] == "previewed"));
    let text = dry.to_string();
    assert!(text.contains("MSEDGEWIN10"), "inputs rendered: {text}");
    assert!(
        text.contains("{{ secret.IDP_TOKEN }}"),
        "a secret stays a reference"
    );
    let shown = ok(&[
        "respond",
        "run",
        &starter("credential-dumping.yml"),
        "--incident",
        &id,
        "--dry-run",
        "--config",
        config,
        "--store",
        db,
        "--by",
        "alice",
    ]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("# step 0 end-process (D3-PT)"), "{shown}");

    // A live run against a real peer: the second step waits for an approval.
    let peer = HttpPeer::start();
    let playbook = dir.path().join("notify.yml");
    std::fs::write(
        &playbook,
        format!(
            "rampart_playbook: 1\nid: notify\ntitle: Notify\ntrigger: {{ on: incident }}\ninputs:\n  host: {{ from: host }}\nsteps:\n  - id: ticket\n    d3fend: D3-PT\n    stage: containment\n    action: {{ http: {{ url: \"{url}/ticket\", body: {{ host: \"{{{{ inputs.host }}}}\" }} }} }}\n  - id: block\n    d3fend: D3-OTF\n    stage: containment\n    approval: {{ role: analyst }}\n    action: {{ http: {{ url: \"{url}/block\" }} }}\n",
            url = peer.url()
        ),
    )
    .unwrap();
    let live = json(&[
        "respond",
        "run",
        playbook.to_str().unwrap(),
        "--incident",
        &id,
        "--store",
        db,
        "--by",
        "alice",
        "--json",
    ]);
    let run = live["run"]["id"].as_i64().unwrap().to_string();
    ok(&[
        "respond",
        "worker",
        "--until-idle",
        "--poll-ms",
        "10",
        "--store",
        db,
    ]);
    let shown = json(&["respond", "show", &run, "--store", db, "--json"]);
    assert_eq!(shown["run"]["state"], "awaiting_approval");
    assert_eq!(peer.acted().len(), 1);
    assert!(peer.requests()[0].body_text().contains("MSEDGEWIN10"));

    let refused = rampart(&["respond", "cancel", "999", "--store", db, "--by", "bob"]);
    assert!(!refused.status.success());
    ok(&[
        "respond", "approve", &run, "block", "--store", db, "--by", "bob", "--reason", "seen",
    ]);
    ok(&[
        "respond",
        "worker",
        "--until-idle",
        "--poll-ms",
        "10",
        "--store",
        db,
    ]);
    let shown = json(&["respond", "show", &run, "--store", db, "--json"]);
    assert_eq!(shown["run"]["state"], "succeeded");
    assert_eq!(shown["approvals"][0]["actor"], "bob");
    assert_eq!(shown["approvals"][0]["reason"], "seen");
    assert_eq!(peer.acted().len(), 2);
    let runs = ok(&["respond", "runs", "--store", db, "--json"]);
    assert_eq!(String::from_utf8_lossy(&runs.stdout).lines().count(), 3);

    // The audit verifies, exports as JSON lines, and holds its printed head.
    let report = json(&["audit", "verify", "--store", db, "--json"]);
    assert_eq!(report["ok"], true);
    let count = report["head"]["count"].as_u64().unwrap();
    let head = format!("{count}:{}", report["head"]["hash"].as_str().unwrap());
    let exported = ok(&["audit", "export", "--store", db]);
    let lines: Vec<Value> = String::from_utf8_lossy(&exported.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, count);
    assert_eq!(lines[0]["action"], "run.created");
    let tail = ok(&[
        "audit",
        "export",
        "--store",
        db,
        "--since",
        &(count - 2).to_string(),
    ]);
    assert_eq!(String::from_utf8_lossy(&tail.stdout).lines().count(), 2);
    ok(&["audit", "verify", "--store", db, "--expect-head", &head]);
    let wrong = rampart(&[
        "audit",
        "verify",
        "--store",
        db,
        "--expect-head",
        &format!("{count}:{}", "0".repeat(64)),
    ]);
    assert_eq!(wrong.status.code(), Some(1));
}
