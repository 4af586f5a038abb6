//! Crash safety of the responder: 200 concurrent runs of a three-step HTTP playbook
//! against a real peer in this process, while `rampart respond worker` is killed with
//! SIGKILL at random points 100 times. Afterwards every run is done, every
//! idempotency key was acted on exactly once at the peer, no step was sent again after
//! its outcome was committed, and the audit chain verifies. The seed is printed;
//! `RAMPART_CRASH_SEED` replays one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rampart_respond::action::{ConnectorConfig, Connectors};
use rampart_respond::engine::{self, RunRequest};
use rampart_respond::playbook::Playbook;
use rampart_respond::testing::HttpPeer;
use rampart_store::{ResponseRunQuery, ResponseRunState, RunMode, SqliteStore};

const RUNS: usize = 200;
const STEPS: usize = 3;
const KILLS: usize = 100;

/// xorshift64*: a seeded sequence, so a failing schedule of kills can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

fn playbook(url: &str) -> Playbook {
    let mut yaml = String::from(
        "rampart_playbook: 1\nid: crash\ntitle: Crash test\ntrigger: { on: incident }\nsteps:\n",
    );
    for n in 0..STEPS {
        yaml.push_str(&format!(
            "  - id: s{n}\n    d3fend: D3-PT\n    stage: containment\n    retry: {{ attempts: 10, backoff: 10ms, max_backoff: 100ms }}\n    timeout: 5s\n    action: {{ http: {{ url: \"{url}/step/{n}\", body: {{ incident: \"{{{{ incident.id }}}}\" }} }} }}\n"
        ));
    }
    // Through JSON, as the loader reads playbooks: YAML maps name the action's kind.
    let value: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    serde_json::from_value(value).unwrap()
}

fn worker(db: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
    command
        .args([
            "respond",
            "worker",
            "--workers",
            "8",
            "--per-target",
            "8",
            "--poll-ms",
            "10",
        ])
        .arg("--store")
        .arg(db)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn unfinished(store: &SqliteStore) -> usize {
    store
        .response_runs(&ResponseRunQuery {
            unfinished: true,
            ..ResponseRunQuery::default()
        })
        .unwrap()
        .len()
}

#[test]
fn killing_the_worker_100_times_loses_and_repeats_nothing() {
    let seed = std::env::var("RAMPART_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash schedule seed {seed} (RAMPART_CRASH_SEED={seed} replays it)");
    let mut rng = Rng(seed);

    let peer = HttpPeer::start();
    // Slow enough that the runs outlast many of the worker's lives.
    peer.set_delay(Duration::from_millis(15));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("respond.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let actions = Connectors::from_config(ConnectorConfig::default()).unwrap();
    let book = playbook(&peer.url());
    let inputs = BTreeMap::new();
    for n in 0..RUNS {
        let subject = format!("INC-{n:03}");
        let request = RunRequest {
            playbook: &book,
            subject_kind: "incident",
            subject_id: &subject,
            inputs: &inputs,
            mode: RunMode::Live,
            started_by: "crash-test",
        };
        engine::start_run(&mut store, &request, &actions).unwrap();
    }

    let started = Instant::now();
    let mut kills_mid_work = 0;
    for _ in 0..KILLS {
        let mut child = worker(&db).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.between(5, 60)));
        child.kill().unwrap();
        child.wait().unwrap();
        if unfinished(&store) > 0 {
            kills_mid_work += 1;
        }
    }
    eprintln!(
        "{KILLS} kills in {:?}, {kills_mid_work} of them with runs unfinished; {} of {} keys acted on",
        started.elapsed(),
        peer.acted().len(),
        RUNS * STEPS
    );
    assert!(
        kills_mid_work >= 20,
        "the runs finished too early to test much"
    );

    let status = worker(&db).arg("--until-idle").status().unwrap();
    assert!(status.success());
    eprintln!("all done after {:?}", started.elapsed());

    // Every run done.
    let runs = store.response_runs(&ResponseRunQuery::default()).unwrap();
    assert_eq!(runs.len(), RUNS);
    let states: HashMap<ResponseRunState, usize> = runs.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(r.state).or_default() += 1;
        m
    });
    assert_eq!(
        states.get(&ResponseRunState::Succeeded),
        Some(&RUNS),
        "{states:?}"
    );

    // Every key acted on exactly once at the peer.
    let acted = peer.acted();
    assert_eq!(acted.len(), RUNS * STEPS);
    let twice: Vec<_> = acted.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "acted on more than once: {twice:?}");
    assert_eq!(peer.acted_without_key(), 0);
    let delivered: usize = peer.delivered().values().sum();
    eprintln!("{delivered} requests delivered for {} keys", RUNS * STEPS);

    // No step claimed again after its outcome was committed.
    let mut finished: HashMap<String, u64> = HashMap::new();
    let mut repeated = Vec::new();
    store
        .for_each_audit_chain_entry(0, |entry| {
            match entry.action.as_str() {
                "step.outcome" => {
                    finished.insert(entry.subject.clone(), entry.seq);
                }
                "step.intent" | "step.resend" => {
                    if let Some(seq) = finished.get(&entry.subject) {
                        repeated.push(format!(
                            "{} at {} after outcome {seq}",
                            entry.subject, entry.seq
                        ));
                    }
                }
                _ => {}
            }
            true
        })
        .unwrap();
    assert!(repeated.is_empty(), "{repeated:?}");
    assert_eq!(finished.len(), RUNS * STEPS);

    // The audit chain verifies, through the command line.
    let verify = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["audit", "verify", "--json", "--store"])
        .arg(&db)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert!(verify.status.success(), "{report}");
    assert_eq!(report["ok"], true);
}
