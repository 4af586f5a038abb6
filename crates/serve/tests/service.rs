//! The service over real sockets, a real store and SigmaHQ's Windows rules: ingest
//! answers after commit, tokens and roles, limits, saturation, reload, metrics, TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{agent, call, evtx_to_json_lines, stored_ids, windows_rules, TestServer};
use rampart_serve::Limits;
use rampart_testkit::data_files;
use std::io::Write;

fn credential_access_lines() -> Vec<String> {
    let files = data_files("evtx-attack-samples/Credential Access", "evtx");
    evtx_to_json_lines(&files[..6.min(files.len())])
}

#[test]
fn an_answered_batch_has_its_alerts_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &[windows_rules()], Limits::default());
    let lines = credential_access_lines();
    let body = lines.join("\n");
    let agent = agent();
    let (status, answer) = call(
        agent
            .post(&server.url("/api/v1/events"))
            .set("Authorization", &format!("Bearer {}", server.ingest)),
        Some(body.as_bytes()),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], lines.len() as u64);
    assert_eq!(answer["rejected_count"], 0);
    let alerts = answer["alerts"].as_u64().unwrap();
    assert!(alerts > 0, "the samples fire Windows rules: {answer}");
    // Durable when answered: another connection sees every alert now.
    assert_eq!(stored_ids(&server.db).len() as u64, alerts);

    // The same batch again, gzip-compressed: same alerts, nothing stored twice.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body.as_bytes()).unwrap();
    let packed = gz.finish().unwrap();
    let (status, again) = call(
        agent
            .post(&server.url("/api/v1/events"))
            .set("Authorization", &format!("Bearer {}", server.ingest))
            .set("Content-Encoding", "gzip"),
        Some(&packed),
    );
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["alerts"], alerts);
    assert_eq!(stored_ids(&server.db).len() as u64, alerts);
    server.stop();
}

#[test]
fn tokens_and_roles_guard_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &[windows_rules()], Limits::default());
    let agent = agent();
    let events = server.url("/api/v1/events");
    let line = b"{\"EventID\": 1}\n";
    assert_eq!(call(agent.get(&server.url("/healthz")), None).0, 200);
    assert_eq!(call(agent.post(&events), Some(line)).0, 401);
    let (status, _) = call(
        agent
            .post(&events)
            .set("Authorization", "Bearer rmp_not-a-token"),
        Some(line),
    );
    assert_eq!(status, 401);
    let (status, answer) = call(
        agent
            .post(&events)
            .set("Authorization", &format!("Bearer {}", server.viewer)),
        Some(line),
    );
    assert_eq!(status, 403, "{answer}");
    // Shippers that only speak basic auth send the token as the password.
    let basic = base64_encode(&format!("shipper:{}", server.ingest));
    let (status, answer) = call(
        agent
            .post(&events)
            .set("Authorization", &format!("Basic {basic}")),
        Some(line),
    );
    assert_eq!(status, 200, "{answer}");
    let reload = server.url("/api/v1/rules/reload");
    let (status, _) = call(
        agent
            .post(&reload)
            .set("Authorization", &format!("Bearer {}", server.ingest)),
        Some(b""),
    );
    assert_eq!(status, 403);
    server.stop();
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn bad_lines_are_named_and_limits_hold() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_body_bytes: 4096,
        max_decoded_bytes: 8192,
        ..Limits::default()
    };
    let server = TestServer::start(dir.path(), &[windows_rules()], limits);
    let agent = agent();
    let events = server.url("/api/v1/events");
    let auth = format!("Bearer {}", server.ingest);
    let (status, answer) = call(
        agent.post(&events).set("Authorization", &auth),
        Some(b"{\"EventID\": 1}\n{\"EventID\": \n\n{\"EventID\": 4}\n"),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["rejected_count"], 1);
    assert_eq!(answer["rejected"][0]["line"], 2);
    // Too large as sent, and too large once decoded (a small gzip bomb).
    let big = vec![b' '; 10_000];
    assert_eq!(
        call(agent.post(&events).set("Authorization", &auth), Some(&big)).0,
        413
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b'\n'; 1 << 20]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 4096);
    assert_eq!(
        call(agent.post(&events).set("Authorization", &auth), Some(&bomb)).0,
        413
    );
    server.stop();
}

#[test]
fn a_full_queue_answers_429_and_loses_nothing_admitted() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        queue_events: 50,
        ..Limits::default()
    };
    let server = TestServer::start(dir.path(), &[windows_rules()], limits);
    let lines = credential_access_lines();
    let first: String = lines[..40].join("\n");
    let agent = agent();
    let auth = format!("Bearer {}", server.ingest);
    let url = server.url("/api/v1/events");
    // The token is verified (and cached) before the store is locked: verifying
    // records its use in the store.
    let (status, _) = call(agent.post(&url).set("Authorization", &auth), Some(b""));
    assert_eq!(status, 200);
    // Another connection holds the store's write lock: the first batch waits in its
    // commit, and stays counted in the queue.
    let blocker = rusqlite_lock(&server.db);
    let pending = {
        let (agent, auth, url, first) = (agent.clone(), auth.clone(), url.clone(), first.clone());
        std::thread::spawn(move || {
            call(
                agent.post(&url).set("Authorization", &auth),
                Some(first.as_bytes()),
            )
        })
    };
    wait_for_queue(&agent, &server, 40);
    let second: String = lines[40..60].join("\n");
    let (status, answer) = call(
        agent.post(&url).set("Authorization", &auth),
        Some(second.as_bytes()),
    );
    assert_eq!(status, 429, "{answer}");
    drop(blocker);
    let (status, answer) = pending.join().unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 40);
    let (status, _) = call(
        agent.post(&url).set("Authorization", &auth),
        Some(second.as_bytes()),
    );
    assert_eq!(status, 200);
    let metrics = call(agent.get(&server.url("/metrics")), None).1;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains("rampart_requests_saturated_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rampart_events_processed_total 60\n"),
        "{metrics}"
    );
    server.stop();
}

/// Holds an exclusive write transaction on the store until dropped.
fn rusqlite_lock(db: &std::path::Path) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(db).unwrap();
    connection.execute_batch("BEGIN IMMEDIATE").unwrap();
    connection
}

fn wait_for_queue(agent: &ureq::Agent, server: &TestServer, events: u64) {
    for _ in 0..200 {
        let (_, ready) = call(agent.get(&server.url("/readyz")), None);
        if ready["queue_events"].as_u64() == Some(events) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("the batch never reached the queue");
}

const RULE_A: &str = "title: Test whoami
id: 8a1c0b8e-0000-4000-8000-00000000000a
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
level: high
";

const RULE_B_ID: &str = "8a1c0b8e-0000-4000-8000-00000000000b";

const RULE_B: &str = "title: Test net user
id: 8a1c0b8e-0000-4000-8000-00000000000b
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    CommandLine|contains: 'net user'
  condition: selection
level: high
";

const EVENT_WHOAMI: &str = r##"{"Event":{"System":{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"pc1","EventRecordID":11,"TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T10:00:00Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami"}}}"##;
const EVENT_NET: &str = r##"{"Event":{"System":{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"pc1","EventRecordID":12,"TimeCreated":{"#attributes":{"SystemTime":"2024-01-01T10:00:01Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\net.exe","CommandLine":"net user admin"}}}"##;

#[test]
fn rules_reload_takes_new_versions_and_a_broken_rule_keeps_its_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("a.yml"), RULE_A).unwrap();
    let server = TestServer::start(dir.path(), std::slice::from_ref(&rules), Limits::default());
    let agent = agent();
    let send = |line: &str| {
        let (status, answer) = call(
            agent
                .post(&server.url("/api/v1/events"))
                .set("Authorization", &format!("Bearer {}", server.ingest)),
            Some(line.as_bytes()),
        );
        assert_eq!(status, 200, "{answer}");
        answer["alerts"].as_u64().unwrap()
    };
    let reload = || {
        call(
            agent
                .post(&server.url("/api/v1/rules/reload"))
                .set("Authorization", &format!("Bearer {}", server.admin)),
            Some(b""),
        )
    };
    assert_eq!(send(EVENT_WHOAMI), 1);
    assert_eq!(send(EVENT_NET), 0);
    std::fs::write(rules.join("b.yml"), RULE_B).unwrap();
    let (status, answer) = reload();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["report"]["rules"], 2);
    assert_eq!(send(EVENT_NET), 1);
    // One edit breaks b.yml, another changes a.yml (now it matches net.exe, not
    // whoami.exe): a takes its new version, b keeps the one that runs, and the answer
    // names b's file and line.
    std::fs::write(rules.join("b.yml"), "title: [unclosed\n").unwrap();
    std::fs::write(
        rules.join("a.yml"),
        RULE_A.replace("\\whoami.exe", "\\net.exe"),
    )
    .unwrap();
    let (status, answer) = reload();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["report"]["rules"], 2, "{answer}");
    let kept = answer["report"]["kept"].as_array().unwrap();
    assert_eq!(kept.len(), 1, "{answer}");
    assert_eq!(kept[0]["id"], RULE_B_ID, "{answer}");
    assert_eq!(kept[0]["title"], "Test net user", "{answer}");
    let why = kept[0]["why"][0].as_str().unwrap();
    let after = why
        .split_once("b.yml:")
        .unwrap_or_else(|| panic!("no file in {why}"))
        .1;
    let line: String = after.chars().take_while(char::is_ascii_digit).collect();
    assert!(line.parse::<usize>().unwrap() >= 1, "no line in {why}");
    // The old b fires on net user, and so does the new a; the old a is gone.
    assert_eq!(send(EVENT_NET), 2);
    assert_eq!(send(EVENT_WHOAMI), 0);
    let (status, listing) = call(
        agent
            .get(&server.url("/api/v1/rules"))
            .set("Authorization", &format!("Bearer {}", server.viewer)),
        None,
    );
    assert_eq!(status, 200, "{listing}");
    let listed = listing["rules"].as_array().unwrap();
    let b = listed.iter().find(|rule| rule["id"] == RULE_B_ID).unwrap();
    assert!(
        b["kept_version"][0].as_str().unwrap().contains("b.yml:"),
        "{listing}"
    );
    let a = listed
        .iter()
        .find(|rule| rule["id"] == "8a1c0b8e-0000-4000-8000-00000000000a")
        .unwrap();
    assert!(a["kept_version"].is_null(), "{listing}");
    let (status, answer) = call(
        agent
            .post(&server.url("/api/v1/rules/reload"))
            .set("Authorization", &format!("Bearer {}", server.viewer)),
        Some(b""),
    );
    assert_eq!(status, 403, "{answer}");
    let metrics = call(agent.get(&server.url("/metrics")), None).1;
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains("rampart_rule_reloads_total 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rampart_rule_reloads_failed_total 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "rampart_rule_alerts_total{rule=\"8a1c0b8e-0000-4000-8000-00000000000b\"} 2\n"
        ),
        "{metrics}"
    );
    server.stop();
}

/// The official Elasticsearch Python client's bulk helper, pointed at the service.
#[test]
fn elasticsearch_bulk_helper_sends_events_that_fire_rules() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &[windows_rules()], Limits::default());
    let lines = credential_access_lines();
    let docs = dir.path().join("docs.jsonl");
    std::fs::write(&docs, lines.join("\n")).unwrap();
    let script = r#"
import json, sys
from elasticsearch import Elasticsearch, helpers
url, token, path = sys.argv[1], sys.argv[2], sys.argv[3]
client = Elasticsearch(url, bearer_auth=token, request_timeout=120)
info = client.info()
assert info["version"]["number"], info
def actions():
    with open(path) as lines:
        for line in lines:
            yield {"_index": "winlogbeat-test", "_source": json.loads(line)}
ok, errors = helpers.bulk(client, actions(), chunk_size=200, raise_on_error=False)
mixed = client.bulk(operations=[{"delete": {"_index": "x", "_id": "1"}}, {"index": {"_index": "x"}}, {"EventID": 1}])
print(json.dumps({"ok": ok, "errors": len(errors), "mixed": [list(i.values())[0]["status"] for i in mixed["items"]], "mixed_errors": mixed["errors"]}))
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(server.url(""))
        .arg(&server.ingest)
        .arg(&docs)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["ok"], lines.len() as u64, "{result}");
    assert_eq!(result["errors"], 0);
    assert_eq!(result["mixed"], serde_json::json!([400, 201]));
    assert_eq!(result["mixed_errors"], true);
    // The same alerts as the events route gives for the same lines.
    let bulk_ids = stored_ids(&server.db);
    assert!(!bulk_ids.is_empty());
    server.stop();
    let other = tempfile::tempdir().unwrap();
    let direct = TestServer::start(other.path(), &[windows_rules()], Limits::default());
    let (status, _) = call(
        agent()
            .post(&direct.url("/api/v1/events"))
            .set("Authorization", &format!("Bearer {}", direct.ingest)),
        Some(lines.join("\n").as_bytes()),
    );
    assert_eq!(status, 200);
    assert_eq!(stored_ids(&direct.db), bulk_ids);
    direct.stop();
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let server = TestServer::start_with(dir.path(), &[windows_rules()], |config| {
        config.tls = Some(rampart_serve::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let agent = ureq::AgentBuilder::new()
        .tls_config(std::sync::Arc::new(tls))
        .build();
    let url = format!("https://localhost:{}", server.addr.port());
    let (status, answer) = call(
        agent
            .post(&format!("{url}/api/v1/events"))
            .set("Authorization", &format!("Bearer {}", server.ingest)),
        Some(EVENT_WHOAMI.as_bytes()),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 1);
    // Plain HTTP on the TLS port gets no answer.
    assert!(common::agent()
        .get(&format!("http://127.0.0.1:{}/healthz", server.addr.port()))
        .call()
        .is_err());
    server.stop();
}

const CORRELATION: &str = "title: Whoami twice on one host
id: 8a1c0b8e-0000-4000-8000-0000000000cc
correlation:
  type: event_count
  rules:
    - 8a1c0b8e-0000-4000-8000-00000000000a
  group-by:
    - Computer
  timespan: 10m
  condition:
    gte: 2
level: high
";

/// Correlation rules run over the stream: two matches of the base rule on one host
/// fire the correlation, stored with the base alerts' incident.
#[test]
fn correlations_fire_over_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("a.yml"), RULE_A).unwrap();
    std::fs::write(rules.join("twice.yml"), CORRELATION).unwrap();
    let server = TestServer::start(dir.path(), std::slice::from_ref(&rules), Limits::default());
    let second = EVENT_WHOAMI
        .replace("\"EventRecordID\":11", "\"EventRecordID\":13")
        .replace("10:00:00Z", "10:00:05Z");
    let (status, answer) = call(
        agent()
            .post(&server.url("/api/v1/events"))
            .set("Authorization", &format!("Bearer {}", server.ingest)),
        Some(format!("{EVENT_WHOAMI}\n{second}\n").as_bytes()),
    );
    assert_eq!(status, 200, "{answer}");
    let db = server.db.clone();
    // The window closes at the latest when the stream ends.
    server.stop();
    let store = rampart_store::open(&db).unwrap();
    let alerts = store.alerts(&rampart_store::AlertQuery::default()).unwrap();
    let rules: Vec<&str> = alerts.iter().map(|a| a.alert.rule_id.as_str()).collect();
    assert!(
        rules.contains(&"8a1c0b8e-0000-4000-8000-0000000000cc"),
        "{rules:?}"
    );
    assert!(!store.incidents().unwrap().is_empty());
}

#[test]
fn metrics_show_incidents_and_late_correlation_matches() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("a.yml"), RULE_A).unwrap();
    std::fs::write(rules.join("twice.yml"), CORRELATION).unwrap();
    std::fs::write(rules.join("b.yml"), RULE_B).unwrap();
    let server = TestServer::start_with(dir.path(), std::slice::from_ref(&rules), |config| {
        config.allowed_lateness = std::time::Duration::from_secs(60);
    });
    // An event an hour after the first, then one from before the watermark: late.
    let later = EVENT_WHOAMI
        .replace("\"EventRecordID\":11", "\"EventRecordID\":21")
        .replace("10:00:00Z", "11:00:00Z");
    let agent = agent();
    let post = |line: &str| {
        let (status, answer) = call(
            agent
                .post(&server.url("/api/v1/events"))
                .set("Authorization", &format!("Bearer {}", server.ingest)),
            Some(line.as_bytes()),
        );
        assert_eq!(status, 200, "{answer}");
    };
    post(&later);
    post(EVENT_WHOAMI);
    // A rule no correlation listens to: its alert is stored and opens an incident.
    post(EVENT_NET);
    let metrics = call(agent.get(&server.url("/metrics")), None).1;
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains("rampart_correlation_late_events 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("rampart_incidents_open 1\n"), "{metrics}");
    server.stop();
}

/// Syslog over TCP and UDP reaches the same detection: a sudo line fires a rule of
/// the Linux `sudo` service.
#[test]
fn syslog_over_tcp_and_udp_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("sudo.yml"),
        "title: Sudo to a shell
id: 8a1c0b8e-0000-4000-8000-0000000000dd
logsource:
  product: linux
  service: sudo
detection:
  selection:
    - 'COMMAND=/bin/bash'
  condition: selection
level: medium
",
    )
    .unwrap();
    let syslog: std::net::SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let server = TestServer::start_with(dir.path(), std::slice::from_ref(&rules), |config| {
        config.syslog = Some(syslog);
    });
    let line = |host: &str| {
        format!(
            "<86>1 2024-01-01T10:00:00Z {host} sudo 4242 - - alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash\n"
        )
    };
    let mut tcp = std::net::TcpStream::connect(syslog).unwrap();
    tcp.write_all(line("tcp-host").as_bytes()).unwrap();
    drop(tcp);
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(line("udp-host").as_bytes(), syslog).unwrap();
    let mut hosts = Vec::new();
    for _ in 0..100 {
        let store = rampart_store::open(&server.db).unwrap();
        hosts = store
            .alerts(&rampart_store::AlertQuery::default())
            .unwrap()
            .into_iter()
            .filter_map(|a| a.alert.event.computer.map(|c| c.to_string()))
            .collect();
        hosts.sort();
        if hosts.len() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(hosts, ["tcp-host", "udp-host"]);
    server.stop();
}
