//! `rampart serve` as a user runs it: the EVTX-ATTACK-SAMPLES corpus sent as JSON
//! lines over HTTP gives the same stored alerts as `rampart hunt --store` on the same
//! lines; SIGTERM drains and exits 0; `kill -9` mid-stream loses no answered batch's
//! alerts, and sending everything again after a restart duplicates none. A real
//! rsyslogd forwarding to `--syslog` gives alerts the API answers with.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Lines per HTTP request.
const CHUNK: usize = 500;

fn windows_rules() -> PathBuf {
    rampart_testkit::data_path("sigma/rules/windows")
}

/// Every record of the corpus as evtx_dump-style JSON lines, in file order.
fn corpus_lines() -> Vec<String> {
    let settings = evtx::ParserSettings::new()
        .separate_json_attributes(false)
        .indent(false);
    let mut lines = Vec::new();
    for file in rampart_testkit::data_files("evtx-attack-samples", "evtx") {
        let mut parser = evtx::EvtxParser::from_path(&file)
            .unwrap()
            .with_configuration(settings.clone());
        lines.extend(parser.records_json().filter_map(Result::ok).map(|r| r.data));
    }
    lines
}

fn hunt_ids(dir: &Path, name: &str, lines: &[String]) -> BTreeSet<String> {
    let input = dir.join(format!("{name}.jsonl"));
    std::fs::write(&input, lines.join("\n")).unwrap();
    let db = dir.join(format!("{name}.db"));
    let output = common::rampart(&[
        "hunt",
        input.to_str().unwrap(),
        "--rules",
        windows_rules().to_str().unwrap(),
        "--store",
        db.to_str().unwrap(),
        "--format",
        "jsonl",
        "--quiet",
    ]);
    assert!(
        output.status.code() == Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stored(&db).0
}

/// The alert ids in a store, and how many rows hold them.
fn stored(db: &Path) -> (BTreeSet<String>, usize) {
    let store = rampart_store::open(db).unwrap();
    let alerts = store.alerts(&rampart_store::AlertQuery::default()).unwrap();
    let rows = alerts.len();
    (alerts.into_iter().map(|alert| alert.id).collect(), rows)
}

fn token(db: &Path, role: rampart_store::Role) -> String {
    let mut store = rampart_store::open(db).unwrap();
    store.create_token(role, "test").unwrap().1
}

struct Service {
    child: Child,
    url: String,
}

fn start(db: &Path) -> Service {
    start_with(db, &[])
}

fn start_with(db: &Path, extra: &[&std::ffi::OsStr]) -> Service {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(rampart_testkit::data_dir())
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(db)
        .arg("--rules")
        .arg(windows_rules())
        .args(extra)
        .env("XDG_CACHE_HOME", common::cache_home())
        .env_remove("RAMPART_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("serve ended before listening").unwrap();
        if let Some(url) = line.strip_prefix("rampart serve listening on ") {
            break url.trim().to_string();
        }
    };
    // Keep draining stderr so the service never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Service { child, url }
}

fn post(
    agent: &ureq::Agent,
    service: &Service,
    token: &str,
    lines: &[String],
) -> Result<u64, String> {
    let body = lines.join("\n");
    match agent
        .post(&format!("{}/api/v1/events", service.url))
        .set("Authorization", &format!("Bearer {token}"))
        .send_bytes(body.as_bytes())
    {
        Ok(response) => {
            let answer: serde_json::Value =
                serde_json::from_reader(response.into_reader()).unwrap();
            assert_eq!(answer["accepted"], lines.len() as u64, "{answer}");
            Ok(answer["alerts"].as_u64().unwrap())
        }
        Err(error) => Err(error.to_string()),
    }
}

fn terminate(mut service: Service) {
    let status = Command::new("kill")
        .args(["-TERM", &service.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = service.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "serve must exit 0 after SIGTERM");
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(300))
        .build()
}

#[test]
fn the_corpus_over_http_gives_the_alerts_of_hunt_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let lines = corpus_lines();
    assert!(lines.len() > 8000, "the whole corpus: {}", lines.len());
    let chunks: Vec<&[String]> = lines.chunks(CHUNK).collect();
    let expected = hunt_ids(dir.path(), "all", &lines);
    assert!(expected.len() > 100, "the corpus fires rules");

    // 1. Stream everything, stop with SIGTERM: the same alerts as hunt.
    let db = dir.path().join("serve.db");
    let secret = token(&db, rampart_store::Role::IngestOnly);
    let service = start(&db);
    let agent = agent();
    let mut alerts = 0;
    for chunk in &chunks {
        alerts += post(&agent, &service, &secret, chunk).unwrap();
    }
    terminate(service);
    let (ids, rows) = stored(&db);
    assert_eq!(ids, expected);
    assert_eq!(rows, ids.len());
    // The corpus holds a few events twice (one alert id, answered in two batches).
    assert!(alerts as usize >= expected.len());
    let store = rampart_store::open(&db).unwrap();
    assert!(
        !store.incidents().unwrap().is_empty(),
        "incidents are grouped"
    );

    // 2. kill -9 in the middle of a stream, then restart and resend everything.
    let db = dir.path().join("killed.db");
    let secret = token(&db, rampart_store::Role::IngestOnly);
    let service = start(&db);
    let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sender = {
        let (agent, url, secret, answered) = (
            agent.clone(),
            service.url.clone(),
            secret.clone(),
            answered.clone(),
        );
        let chunks: Vec<Vec<String>> = chunks.iter().map(|c| c.to_vec()).collect();
        std::thread::spawn(move || {
            let service = Service {
                child: Command::new("true").spawn().unwrap(),
                url,
            };
            for (index, chunk) in chunks.iter().enumerate() {
                match post(&agent, &service, &secret, chunk) {
                    Ok(_) => answered.lock().unwrap().push(index),
                    Err(_) => break,
                }
            }
        })
    };
    // Kill once a few batches are answered, while the next ones are in flight.
    while answered.lock().unwrap().len() < 4 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut service = service;
    service.child.kill().unwrap();
    service.child.wait().unwrap();
    sender.join().unwrap();
    let answered: Vec<usize> = answered.lock().unwrap().clone();
    assert!(answered.len() < chunks.len(), "killed mid-stream");
    let answered_lines: Vec<String> = answered
        .iter()
        .flat_map(|&index| chunks[index].iter().cloned())
        .collect();
    let must_have = hunt_ids(dir.path(), "answered", &answered_lines);
    let (after_kill, _) = stored(&db);
    let lost: Vec<&String> = must_have.difference(&after_kill).collect();
    assert!(lost.is_empty(), "alerts of answered batches lost: {lost:?}");

    let service = start(&db);
    for chunk in &chunks {
        post(&agent, &service, &secret, chunk).unwrap();
    }
    terminate(service);
    let (ids, rows) = stored(&db);
    assert_eq!(ids, expected);
    assert_eq!(rows, ids.len(), "no alert stored twice");
}

/// The metric `name`'s value in `/metrics`.
fn metric(agent: &ureq::Agent, service: &Service, name: &str) -> u64 {
    let text = agent
        .get(&format!("{}/metrics", service.url))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap()
}

#[test]
fn a_watched_folder_gives_the_alerts_of_hunt_and_is_not_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    let samples = rampart_testkit::data_path("evtx-attack-samples/Credential Access");
    let hunt_db = dir.path().join("hunt.db");
    let output = common::rampart(&[
        "hunt",
        samples.to_str().unwrap(),
        "--rules",
        windows_rules().to_str().unwrap(),
        "--store",
        hunt_db.to_str().unwrap(),
        "--format",
        "jsonl",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let (expected, _) = stored(&hunt_db);
    assert!(!expected.is_empty());

    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let db = dir.path().join("serve.db");
    let watch = [std::ffi::OsStr::new("--watch"), inbox.as_os_str()];
    let service = start_with(&db, &watch);
    // Files dropped in after the start, as an exporter would.
    for file in rampart_testkit::files_under(&samples, "evtx") {
        std::fs::copy(&file, inbox.join(file.file_name().unwrap())).unwrap();
    }
    let agent = agent();
    let mut ids = BTreeSet::new();
    for _ in 0..600 {
        ids = stored(&db).0;
        if ids == expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(ids, expected);
    let read = metric(&agent, &service, "rampart_events_processed_total");
    assert!(read > 0);
    terminate(service);

    // After a restart every file is known done: nothing is read again.
    let service = start_with(&db, &watch);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(metric(&agent, &service, "rampart_events_received_total"), 0);
    terminate(service);
    let (ids, rows) = stored(&db);
    assert_eq!(ids, expected);
    assert_eq!(rows, ids.len());
}

/// A free local port (TCP and UDP both free on it), for `--syslog`.
fn free_syslog_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Debian's rsyslog as the sender: a private rsyslogd (its own config, socket and work
/// folder) takes an sshd line from `logger` and forwards it to `rampart serve
/// --syslog` over TCP with octet counting and the RFC 5424 template, as a Linux host
/// forwards to a SIEM; the SigmaHQ sshd rule's alert is then queryable over the API.
#[test]
fn rsyslog_forwards_to_serve_and_the_alert_is_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("syslog.db");
    let port = free_syslog_port();
    let address = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(rampart_testkit::data_dir())
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(&db)
        .arg("--rules")
        .arg(rampart_testkit::data_path("sigma/rules/linux"))
        .args(["--syslog", &address])
        .env("XDG_CACHE_HOME", common::cache_home())
        .env_remove("RAMPART_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve ended before listening").unwrap();
        if let Some(url) = line.strip_prefix("rampart serve listening on ") {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let service = Service { child, url };

    let socket = dir.path().join("log.sock");
    let config = format!(
        "global(workDirectory=\"{work}\")\n\
         module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
         input(type=\"imuxsock\" Socket=\"{socket}\" CreatePath=\"on\")\n\
         action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" \
         TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\")\n",
        work = dir.path().display(),
        socket = socket.display(),
    );
    let config_path = dir.path().join("rsyslog.conf");
    std::fs::write(&config_path, config).unwrap();
    let rsyslogd = std::env::var_os("RAMPART_RSYSLOGD").unwrap_or("/usr/sbin/rsyslogd".into());
    let mut rsyslog = Command::new(&rsyslogd)
        .arg("-n")
        .arg("-f")
        .arg(&config_path)
        .arg("-i")
        .arg(dir.path().join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {rsyslogd:?}: {error}"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "rsyslogd made no socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let logged = Command::new("logger")
        .arg("--socket")
        .arg(&socket)
        .args(["-t", "sshd", "-p", "auth.err", "--"])
        .arg("error: Corrupted MAC on input. [preauth]")
        .status()
        .unwrap();
    assert!(logged.success());

    let viewer = token(&db, rampart_store::Role::Viewer);
    let agent = agent();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let alerts = loop {
        let response = agent
            .get(&format!("{}/api/v1/alerts", service.url))
            .set("Authorization", &format!("Bearer {viewer}"))
            .call()
            .unwrap();
        let answer: serde_json::Value = serde_json::from_reader(response.into_reader()).unwrap();
        let alerts = answer["alerts"].as_array().cloned().unwrap_or_default();
        if !alerts.is_empty() || std::time::Instant::now() > deadline {
            break alerts;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = rsyslog.kill();
    let _ = rsyslog.wait();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let text = alerts[0].to_string();
    assert!(text.contains("Suspicious OpenSSH Daemon Error"), "{text}");
    assert!(text.contains("Corrupted MAC on input"), "{text}");
    terminate(service);
}
