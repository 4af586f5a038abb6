//! Automatic response in the service, over real sockets, a real store and a real HTTP
//! peer: alerts stored by ingest start their playbooks' runs, each step reaches the
//! peer once per idempotency key, an approval step waits for an analyst, a resent
//! batch starts nothing twice, and the audit chain verifies. Also the latency from an
//! alert being stored to its playbook's first request (figures in BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{agent, call, TestServer};
use rampart_respond::action::{ConnectorConfig, Connectors};
use rampart_respond::engine::RunnerConfig;
use rampart_respond::testing::HttpPeer;
use rampart_serve::RespondSetup;
use rampart_store::{Decision, ResponseRunQuery, ResponseRunState, Role, SqliteStore, StepState};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RULE: &str = "title: Test LSASS dump
id: 8a1c0b8e-0000-4000-8000-0000000000d1
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    CommandLine|contains: 'sekurlsa'
  condition: selection
level: high
tags:
  - attack.credential-access
  - attack.t1003.001
";

/// A playbook on alerts of T1003: a notification, then a lock that needs an analyst.
fn playbook(peer: &str, approval: bool) -> String {
    let approval = if approval {
        "    approval: { role: analyst }\n"
    } else {
        ""
    };
    format!(
        "rampart_playbook: 1
id: test-dump
title: Answer a credential dump
trigger:
  on: alert
  techniques: [T1003]
inputs:
  host: {{ from: host }}
steps:
  - id: notify
    title: Tell the SOC
    d3fend: D3-PT
    stage: containment
    action:
      http:
        method: POST
        url: {peer}/notify
        body:
          host: \"{{{{ inputs.host[0] }}}}\"
          alert: \"{{{{ incident.id }}}}\"
  - id: lock
    title: Lock the host's accounts
    d3fend: D3-AL
    stage: containment
{approval}    action:
      http:
        method: POST
        url: {peer}/lock
        body:
          host: \"{{{{ inputs.host[0] }}}}\"
"
    )
}

fn event(record: u64, host: &str) -> String {
    format!(
        r##"{{"Event":{{"System":{{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"{host}","EventRecordID":{record},"TimeCreated":{{"#attributes":{{"SystemTime":"2024-01-01T10:00:00Z"}}}}}},"EventData":{{"Image":"C:\\Tools\\m.exe","CommandLine":"m.exe sekurlsa::logonpasswords {record}"}}}}}}"##
    )
}

fn start(dir: &Path, peer: &HttpPeer, approval: bool) -> TestServer {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("dump.yml"), RULE).unwrap();
    let playbooks = dir.join("playbooks");
    std::fs::create_dir_all(&playbooks).unwrap();
    std::fs::write(playbooks.join("dump.yml"), playbook(&peer.url(), approval)).unwrap();
    let connectors = Connectors::from_config(ConnectorConfig::default()).unwrap();
    TestServer::start_with(dir, &[rules], move |config| {
        config.respond = Some(RespondSetup {
            playbooks: vec![playbooks],
            actions: Arc::new(connectors),
            pyramid: Arc::new(rampart_respond::auto::pyramid_classifier(None)),
            runner: RunnerConfig {
                poll: Duration::from_millis(50),
                ..RunnerConfig::default()
            },
        });
    })
}

fn send(server: &TestServer, body: &str) -> u64 {
    let (status, answer) = call(
        agent()
            .post(&server.url("/api/v1/events"))
            .set("Authorization", &format!("Bearer {}", server.ingest)),
        Some(body.as_bytes()),
    );
    assert_eq!(status, 200, "{answer}");
    answer["alerts"].as_u64().unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn stored_alerts_start_their_playbook_once_and_an_approval_step_waits() {
    let dir = tempfile::tempdir().unwrap();
    let peer = HttpPeer::start();
    let server = start(dir.path(), &peer, true);
    let batch = [event(1, "pc1"), event(2, "pc2"), event(3, "pc3")].join("\n");
    assert_eq!(send(&server, &batch), 3);
    // Each alert's first step is sent without anyone asking.
    assert!(
        peer.wait_for_acted(3, Duration::from_secs(20)),
        "{:?}",
        peer.acted()
    );
    let store = SqliteStore::open(&server.db).unwrap();
    let awaiting = || {
        store
            .response_runs(&ResponseRunQuery::default())
            .unwrap()
            .into_iter()
            .filter(|run| run.state == ResponseRunState::AwaitingApproval)
            .count()
    };
    wait_for("three runs awaiting approval", || awaiting() == 3);
    // The same batch again (a shipper resending), and a grown picture: no new run.
    assert_eq!(send(&server, &batch), 3);
    std::thread::sleep(Duration::from_millis(300));
    let runs = store.response_runs(&ResponseRunQuery::default()).unwrap();
    assert_eq!(runs.len(), 3, "one run per playbook and alert");
    assert!(runs.iter().all(|run| run.started_by == "rampart"));
    let locks = peer
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/lock"))
        .count();
    assert_eq!(locks, 0, "nothing is locked before an analyst approves");

    // A viewer may not decide; an analyst may, and is recorded.
    let mut decider = SqliteStore::open(&server.db).unwrap();
    let first = runs[0].id;
    assert!(decider
        .decide_response_step(
            first,
            "lock",
            Decision::Approve,
            "viewer",
            Role::Viewer,
            None
        )
        .is_err());
    for run in &runs {
        decider
            .decide_response_step(
                run.id,
                "lock",
                Decision::Approve,
                "ana",
                Role::Analyst,
                None,
            )
            .unwrap();
    }
    wait_for("every run to succeed", || {
        store
            .response_runs(&ResponseRunQuery::default())
            .unwrap()
            .iter()
            .all(|run| run.state == ResponseRunState::Succeeded)
    });
    let detail = store.response_run(first).unwrap().unwrap();
    assert!(detail.steps.iter().all(|s| s.state == StepState::Done));
    assert_eq!(detail.approvals.len(), 1);
    assert_eq!(detail.approvals[0].actor, "ana");
    let keys: Vec<String> = store
        .response_runs(&ResponseRunQuery::default())
        .unwrap()
        .iter()
        .flat_map(|run| {
            store
                .response_run(run.id)
                .unwrap()
                .unwrap()
                .steps
                .into_iter()
                .map(|s| s.idempotency_key)
        })
        .collect();
    assert_eq!(keys.len(), 6);
    peer.check_acted_once(keys.iter().map(String::as_str))
        .unwrap();
    let report = store.verify_audit_chain().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.entries > 0);
    drop(store);
    drop(decider);
    server.stop();
}

/// From an alert being stored (its ingest request answered) to its playbook's first
/// request at the peer, over a few hundred runs. The bound asserted is generous (the
/// machine is shared); the figures printed go to BENCHMARKS.md.
#[test]
fn an_alert_reaches_its_first_request_quickly() {
    const RUNS: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let peer = HttpPeer::start();
    let server = start(dir.path(), &peer, false);
    let mut answered = Vec::with_capacity(RUNS as usize);
    for record in 0..RUNS {
        let host = format!("host-{record}");
        assert_eq!(send(&server, &event(1000 + record, &host)), 1);
        answered.push((host, Instant::now()));
    }
    assert!(
        peer.wait_for_acted(2 * RUNS as usize, Duration::from_secs(60)),
        "{} of {} keys acted on",
        peer.acted().len(),
        2 * RUNS
    );
    let requests = peer.requests();
    let mut latencies: Vec<Duration> = answered
        .iter()
        .map(|(host, stored)| {
            let first = requests
                .iter()
                .find(|r| {
                    r.path.ends_with("/notify") && r.body_text().contains(&format!("\"{host}\""))
                })
                .expect("every alert's first request arrived");
            first.received.saturating_duration_since(*stored)
        })
        .collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    eprintln!(
        "respond latency over {RUNS} runs: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    assert!(at(0.99) < Duration::from_secs(5), "p99 {:?}", at(0.99));
    server.stop();
}
