//! `rampart hunt --respond` end to end: a real hunt stores an incident of credential
//! dumping, its playbook starts and reaches a real HTTP peer once, and hunting the
//! same file again starts nothing new.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ok;
use rampart_respond::testing::HttpPeer;

#[test]
fn a_hunt_starts_its_playbooks_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let db = db.to_str().unwrap();
    let peer = HttpPeer::start();
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir(&playbooks).unwrap();
    std::fs::write(
        playbooks.join("dump.yml"),
        format!(
            "rampart_playbook: 1
id: tell-soc
title: Tell the SOC about credential dumping
trigger: {{ on: incident, techniques: [T1003] }}
inputs:
  host: {{ from: host }}
steps:
  - id: notify
    d3fend: D3-PT
    stage: containment
    action:
      http:
        method: POST
        url: {}/case
        body: {{ host: \"{{{{ inputs.host[0] }}}}\", incident: \"{{{{ incident.id }}}}\" }}
",
            peer.url()
        ),
    )
    .unwrap();
    let sample = rampart_testkit::data_path(
        "evtx-attack-samples/Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx",
    );
    let hunt = |db: &str| {
        let output = ok(&[
            "hunt",
            sample.to_str().unwrap(),
            "--store",
            db,
            "--respond",
            "--playbooks",
            playbooks.to_str().unwrap(),
            "--format",
            "jsonl",
        ]);
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let first = hunt(db);
    assert!(first.contains("respond: 1 run(s) started"), "{first}");
    assert!(first.contains("tell-soc for incident"), "{first}");
    assert!(first.contains(": succeeded"), "{first}");
    assert_eq!(peer.acted().len(), 1, "{:?}", peer.acted());
    assert!(peer.requests()[0].body_text().contains("\"incident\""));
    let again = hunt(db);
    assert!(again.contains("respond: 0 run(s) started"), "{again}");
    assert_eq!(peer.delivered().values().sum::<usize>(), 1);
}
