//! The runner against a real HTTP peer and a real store file: steps sent once each,
//! retries, approvals, dry runs, compensation, and a slow peer not starving others.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_respond::action::{ConnectorConfig, Connectors};
use rampart_respond::engine::{self, RunRequest, Runner, RunnerConfig};
use rampart_respond::playbook::Playbook;
use rampart_respond::testing::HttpPeer;
use rampart_store::{Decision, ResponseRunState, Role, RunMode, SqliteStore, StepPhase, StepState};

/// A playbook of `steps` HTTP steps to `url`; `extra` is added to every step.
fn playbook(id: &str, url: &str, steps: usize, extra: &str) -> Playbook {
    let mut yaml = format!(
        "rampart_playbook: 1\nid: {id}\ntitle: Test\ntrigger: {{ on: incident }}\ninputs:\n  host: {{ from: host }}\nsteps:\n"
    );
    for n in 0..steps {
        yaml.push_str(&format!(
            "  - id: s{n}\n    d3fend: D3-PT\n    stage: containment\n    retry: {{ attempts: 4, backoff: 10ms, max_backoff: 50ms }}\n    timeout: 5s\n    action: {{ http: {{ url: \"{url}/step/{n}\", body: {{ host: \"{{{{ inputs.host }}}}\", run: \"{{{{ run.id }}}}\" }} }} }}\n    compensate: {{ d3fend: D3-RUAA, action: {{ http: {{ url: \"{url}/undo/{n}\" }} }} }}\n{extra}"
        ));
    }
    // Through JSON, as the loader reads playbooks: YAML maps name the action's kind.
    let value: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    serde_json::from_value(value).unwrap()
}

fn connectors() -> Arc<Connectors> {
    Arc::new(Connectors::from_config(ConnectorConfig::default()).unwrap())
}

fn inputs(host: &str) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([("host".to_owned(), vec![host.to_owned()])])
}

fn start(
    store: &mut SqliteStore,
    playbook: &Playbook,
    subject: &str,
    mode: RunMode,
    actions: &Connectors,
) -> i64 {
    let inputs = inputs("WS1");
    let request = RunRequest {
        playbook,
        subject_kind: "incident",
        subject_id: subject,
        inputs: &inputs,
        mode,
        started_by: "alice",
    };
    engine::start_run(store, &request, actions).unwrap()
}

fn run_until_idle(path: &std::path::Path, actions: Arc<Connectors>, config: RunnerConfig) {
    let store = SqliteStore::open(path).unwrap();
    let config = RunnerConfig {
        exit_when_idle: true,
        poll: Duration::from_millis(20),
        ..config
    };
    Runner::new(store, actions, config)
        .run(&AtomicBool::new(false))
        .unwrap();
}

#[test]
fn a_run_sends_each_step_once_through_retries_and_its_audit_verifies() {
    let peer = HttpPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let actions = connectors();
    let mut store = SqliteStore::open(&path).unwrap();
    let book = playbook("contain", &peer.url(), 3, "");
    let run = start(&mut store, &book, "INC-1", RunMode::Live, &actions);
    peer.fail_next(2, 503, None);
    run_until_idle(&path, Arc::clone(&actions), RunnerConfig::default());

    let detail = store.response_run(run).unwrap().unwrap();
    assert_eq!(detail.run.state, ResponseRunState::Succeeded);
    assert_eq!(detail.steps[0].attempts, 3, "two 503s, then done");
    assert!(detail.steps.iter().all(|s| s.state == StepState::Done));
    let acted = peer.acted();
    assert_eq!(acted.len(), 3);
    assert!(acted.values().all(|n| *n == 1), "{acted:?}");
    for step in &detail.steps {
        assert_eq!(acted.get(&step.idempotency_key), Some(&1));
    }
    // The body was rendered with the run's values.
    let first = &peer.requests()[0];
    assert!(
        first.body_text().contains("\"WS1\""),
        "{}",
        first.body_text()
    );
    assert!(store.verify_audit_chain().unwrap().ok());
}

#[test]
fn approvals_hold_a_step_and_compensation_undoes_the_done_steps_newest_first() {
    let peer = HttpPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let actions = connectors();
    let mut store = SqliteStore::open(&path).unwrap();
    let mut book = playbook("lock", &peer.url(), 2, "");
    book.steps[1].approval = Some(rampart_respond::playbook::Approval {
        role: "analyst".to_owned(),
        timeout: None,
        default: None,
    });
    let run = start(&mut store, &book, "INC-2", RunMode::Live, &actions);
    run_until_idle(&path, Arc::clone(&actions), RunnerConfig::default());
    let detail = store.response_run(run).unwrap().unwrap();
    assert_eq!(detail.run.state, ResponseRunState::AwaitingApproval);
    assert_eq!(peer.acted().len(), 1, "the second step waits");

    store
        .decide_response_step(
            run,
            "s1",
            Decision::Approve,
            "bob",
            Role::Analyst,
            Some("go"),
        )
        .unwrap();
    run_until_idle(&path, Arc::clone(&actions), RunnerConfig::default());
    assert_eq!(
        store.response_run(run).unwrap().unwrap().run.state,
        ResponseRunState::Succeeded
    );

    assert_eq!(
        engine::compensate(&mut store, run, "alice", &*actions).unwrap(),
        2
    );
    run_until_idle(&path, Arc::clone(&actions), RunnerConfig::default());
    let detail = store.response_run(run).unwrap().unwrap();
    assert_eq!(detail.run.state, ResponseRunState::Compensated);
    let undo: Vec<&str> = detail
        .steps
        .iter()
        .filter(|s| s.phase == StepPhase::Compensation)
        .map(|s| s.step_id.as_str())
        .collect();
    assert_eq!(undo, ["s1.compensate", "s0.compensate"]);
    let paths: Vec<String> = peer.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/step/0", "/step/1", "/undo/1", "/undo/0"]);
    assert!(store.verify_audit_chain().unwrap().ok());
}

#[test]
fn a_dry_run_records_every_request_and_sends_nothing() {
    let peer = HttpPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let actions = connectors();
    let mut store = SqliteStore::open(&path).unwrap();
    let book = playbook("look", &peer.url(), 2, "");
    let run = start(&mut store, &book, "INC-3", RunMode::DryRun, &actions);
    run_until_idle(&path, Arc::clone(&actions), RunnerConfig::default());
    let detail = store.response_run(run).unwrap().unwrap();
    assert_eq!(detail.run.state, ResponseRunState::Previewed);
    assert_eq!(detail.steps.len(), 2);
    assert!(detail.steps[1].request.to_string().contains("/step/1"));
    assert!(peer.requests().is_empty());
}

/// Many runs queued for a slow peer, a few for a fast one: the fast ones finish while
/// the slow queue is still long, and the runner's memory does not grow with the
/// queue. `RAMPART_RESPOND_SLOW_RUNS` sets the slow queue (the benchmark used 10,000).
#[test]
fn a_slow_peer_does_not_starve_the_others() {
    let slow_runs: usize = std::env::var("RAMPART_RESPOND_SLOW_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let slow = HttpPeer::start();
    slow.set_delay(Duration::from_millis(200));
    slow.set_record_limit(0);
    let fast = HttpPeer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let actions = connectors();
    let mut store = SqliteStore::open(&path).unwrap();
    let slow_book = playbook("slow", &slow.url(), 1, "");
    let fast_book = playbook("fast", &fast.url(), 3, "");
    let created = Instant::now();
    for n in 0..slow_runs {
        start(
            &mut store,
            &slow_book,
            &format!("INC-S{n}"),
            RunMode::Live,
            &actions,
        );
    }
    eprintln!("{slow_runs} slow runs queued in {:?}", created.elapsed());
    let mut fast_ids = Vec::new();
    for n in 0..20 {
        fast_ids.push(start(
            &mut store,
            &fast_book,
            &format!("INC-F{n}"),
            RunMode::Live,
            &actions,
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let runner = {
        let store = SqliteStore::open(&path).unwrap();
        let actions = Arc::clone(&actions);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let config = RunnerConfig {
                workers: 8,
                per_target: 4,
                poll: Duration::from_millis(20),
                exit_when_idle: false,
            };
            Runner::new(store, actions, config).run(&stop).unwrap()
        })
    };
    let started = Instant::now();
    let mut rss = Vec::new();
    let fast_done = loop {
        rss.push(rss_kib());
        let finished = fast_ids
            .iter()
            .filter(|id| {
                store.response_run(**id).unwrap().unwrap().run.state == ResponseRunState::Succeeded
            })
            .count();
        if finished == fast_ids.len() {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the fast runs are starved: {finished} of 20 done"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let slow_acted = slow.acted().len();
    eprintln!(
        "20 fast runs (60 steps) done in {fast_done:?} while {slow_acted} of {slow_runs} slow steps were done"
    );
    assert!(slow_acted < slow_runs, "the slow queue was not waiting");
    // The slow peer takes 200 ms a request, 4 at a time: a starved fast queue would
    // wait for the whole slow queue.
    assert!(fast_done < Duration::from_secs(5), "{fast_done:?}");
    // Let it work on the slow queue a while and watch the memory.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(2) {
        rss.push(rss_kib());
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let stats = runner.join().unwrap();
    let first = rss[rss.len() / 4];
    let last = *rss.last().unwrap();
    let peak = *rss.iter().max().unwrap();
    eprintln!("RSS KiB: at a quarter {first}, last {last}, peak {peak}; runner {stats:?}");
    assert!(
        last < first + 16 * 1024,
        "memory grew: {first} → {last} KiB"
    );
    assert!(store.verify_audit_chain().unwrap().ok());
}

/// This process's resident set, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
