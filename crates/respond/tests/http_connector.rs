//! The HTTP connector against a real HTTP(S) server (the `testing` peer): templates,
//! auth from secrets, idempotency keys acted on once, retries, redirects, timeouts,
//! TLS verification, redaction and dry runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use rampart_respond::action::{
    dry_run, Connector, ConnectorConfig, Connectors, HttpConfig, OutcomeStatus, RenderContext,
    RequestDetail, Secrets,
};
use rampart_respond::playbook::ActionSpec;
use rampart_respond::testing::{HttpPeer, TestCa};
use serde_json::Value;

const TOKEN: &str = "s3cr3t-T0ken/+=";
const TIMEOUT: Duration = Duration::from_secs(10);

/// An action as a playbook writes it (YAML, read through its JSON form as the
/// playbook loader does: serde_yaml would want enum tags).
fn action(yaml: &str) -> ActionSpec {
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    serde_json::from_value(value).unwrap()
}

fn secrets() -> Secrets {
    let mut secrets = Secrets::new();
    secrets.insert("hive", TOKEN).unwrap();
    secrets.insert("basic_pair", "admin:pa:ss word").unwrap();
    secrets
}

fn connectors(http: HttpConfig) -> Connectors {
    Connectors::new(
        ConnectorConfig {
            http,
            ..ConnectorConfig::default()
        },
        secrets(),
    )
    .unwrap()
}

/// Values an attacker controls through event fields.
fn hostile() -> Vec<String> {
    vec![
        "\"quoted\", \"x\": 1}".to_owned(),
        "} ] { \"injected\": true".to_owned(),
        "line one\nline two\r\nX-Injected: yes".to_owned(),
        "nul\0byte".to_owned(),
        "{{ secret.hive }}".to_owned(),
        "<!channel> & <http://evil|click>".to_owned(),
        "x".repeat(1 << 20),
    ]
}

fn context() -> RenderContext {
    let mut inputs = BTreeMap::new();
    inputs.insert("host".to_owned(), vec!["WS-01".to_owned()]);
    inputs.insert("evil".to_owned(), hostile());
    RenderContext {
        run_id: "run-42".to_owned(),
        subject_id: "inc-7".to_owned(),
        inputs,
    }
}

#[test]
fn thehive_alert_reaches_the_peer_once_per_key_with_auth_from_a_secret() {
    let peer = HttpPeer::start();
    let connectors = connectors(HttpConfig::default());
    let spec = action(&format!(
        "http: {{ template: thehive_alert, url: '{}', auth: {{ scheme: bearer, secret: hive }} }}",
        peer.url()
    ));
    let request = connectors
        .prepare("cred-dump", "open-alert", &spec, &context())
        .unwrap();

    // The prepared request (stored, audited) names the secret, never holds it.
    let stored = serde_json::to_string(&request).unwrap();
    assert!(!stored.contains(TOKEN) && stored.contains("{{ secret.hive }}"));
    assert!(!format!("{request:?} {connectors:?}").contains(TOKEN));
    assert_eq!(request.target, format!("http://{}", peer.addr()));

    let first = connectors.send(&request, TIMEOUT);
    assert_eq!(first.status, OutcomeStatus::Done, "{first:?}");
    assert_eq!(first.summary, "HTTP 201");
    // A resend (a crash before the outcome was stored) gets the first answer back.
    let again = connectors.send(&request, TIMEOUT);
    assert_eq!(again.status, OutcomeStatus::Done);

    let key = &request.idempotency_key;
    assert_eq!(peer.acted(), BTreeMap::from([(key.clone(), 1)]));
    peer.check_acted_once([key.as_str()]).unwrap();
    let other = peer.check_acted_once(["rampart-0000"]).unwrap_err();
    assert!(other.starts_with("1 key(s) never acted on"), "{other}");
    assert_eq!(peer.delivered(), BTreeMap::from([(key.clone(), 2)]));
    let received = &peer.requests()[0];
    assert_eq!(received.method, "POST");
    assert_eq!(received.path, "/api/v1/alert");
    assert_eq!(
        received.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(received.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(body["sourceRef"], Value::String(key.clone()));
    assert_eq!(body["source"], "rampart");
    assert_eq!(body["severity"], 2);
    // Every hostile value arrived as one observable, exactly as it was.
    let observables: Vec<&str> = body["observables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["data"].as_str().unwrap())
        .collect();
    let mut expected: Vec<String> = hostile();
    expected.push("WS-01".to_owned());
    assert_eq!(observables.len(), expected.len());
    for value in &expected {
        assert!(observables.contains(&value.as_str()));
    }
    assert!(body["observables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["dataType"] == "hostname" && o["data"] == "WS-01"));
}

#[test]
fn a_json_body_keeps_its_shape_whatever_the_values() {
    let peer = HttpPeer::start();
    let connectors = connectors(HttpConfig::default());
    let spec = action(&format!(
        r#"
http:
  url: '{}/hooks/{{{{ inputs.host }}}}'
  method: put
  headers: {{ X-Run: 'run {{{{ run.id }}}}', X-Token: 'Token {{{{ secret.hive }}}}' }}
  body:
    title: 'Alert on {{{{ inputs.host }}}}: {{{{ inputs.evil[0] }}}}'
    all: '{{{{ inputs.evil }}}}'
    each: ['{{{{ inputs.evil[1] }}}}', '{{{{ inputs.evil[2] }}}}', '{{{{ inputs.evil[3] }}}}', '{{{{ inputs.evil[4] }}}}', '{{{{ inputs.evil[6] }}}}']
    count: 3
    nested: {{ ok: true, none: null }}
"#,
        peer.url()
    ));
    let request = connectors
        .prepare("pb", "notify", &spec, &context())
        .unwrap();
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Done, "{outcome:?}");

    let received = &peer.requests()[0];
    assert_eq!(received.method, "PUT");
    assert_eq!(received.path, "/hooks/WS-01");
    assert_eq!(received.header("x-run"), Some("run run-42"));
    assert_eq!(
        received.header("x-token"),
        Some(format!("Token {TOKEN}").as_str())
    );
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["all", "count", "each", "nested", "title"]);
    let evil = hostile();
    assert_eq!(body["title"], format!("Alert on WS-01: {}", evil[0]));
    assert_eq!(body["all"], evil.join(", "));
    let each: Vec<&str> = body["each"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(each, [&evil[1], &evil[2], &evil[3], &evil[4], &evil[6]]);
    // A value reading like a secret reference stays that text: no secret in the body,
    // and the dry run shows the text as it is sent.
    assert!(!received.body_text().contains(TOKEN));
    assert!(received.body_text().contains("{{ secret.hive }}"));
    let shown = connectors.dry_run(&request);
    assert!(
        shown.contains(r#""{{ secret.hive }}""#),
        "{}",
        &shown[..400]
    );
    assert!(shown.contains("X-Token: Token [secret:hive]\n"));
    assert_eq!(body["count"], 3);
    assert_eq!(
        body["nested"],
        serde_json::json!({"ok": true, "none": null})
    );
}

#[test]
fn values_cannot_reshape_a_url_or_inject_a_header() {
    let peer = HttpPeer::start();
    let connectors = connectors(HttpConfig::default());
    let mut context = context();
    context.inputs.insert(
        "path".to_owned(),
        vec![
            "../admin?user=root#x".to_owned(),
            "http://evil.example/".to_owned(),
        ],
    );
    let spec = action(&format!(
        "http: {{ method: get, url: '{}/hosts/{{{{ inputs.path[0] }}}}?q={{{{ inputs.path[1] }}}}' }}",
        peer.url()
    ));
    let request = connectors.prepare("pb", "look", &spec, &context).unwrap();
    assert_eq!(
        connectors.send(&request, TIMEOUT).status,
        OutcomeStatus::Done
    );
    assert_eq!(
        peer.requests()[0].path,
        "/hosts/..%2Fadmin%3Fuser%3Droot%23x?q=http%3A%2F%2Fevil.example%2F"
    );

    // The whole URL from an event: it never parses as a place to send to.
    let spec = action("http: { url: '{{ inputs.path[1] }}' }");
    assert!(connectors.prepare("pb", "s", &spec, &context).is_err());
    // A header value with a line break is refused, not sent.
    let spec = action(&format!(
        "http: {{ url: '{}', headers: {{ X-Host: '{{{{ inputs.evil[2] }}}}' }} }}",
        peer.url()
    ));
    assert!(connectors.prepare("pb", "s", &spec, &context).is_err());
    // Other schemes, unknown names, secrets in a body, reserved headers: refused.
    for bad in [
        "http: { url: 'file:///etc/passwd' }",
        "http: { url: 'ftp://peer.example/x' }",
        "http: { url: 'http://user:pw@peer.example/' }",
        "http: { url: 'http://peer.example/{{ inputs.nope }}' }",
        "http: { url: 'http://peer.example/', body: { t: '{{ secret.hive }}' } }",
        "http: { url: 'http://peer.example/', headers: { Idempotency-Key: x } }",
        "http: { url: 'http://peer.example/', template: jira }",
        "http: { url: 'http://peer.example/', method: TRACE }",
    ] {
        let result = connectors.prepare("pb", "s", &action(bad), &context);
        assert!(result.is_err(), "{bad} was accepted");
    }
}

#[test]
fn failures_that_may_pass_are_retried_others_fail() {
    let peer = HttpPeer::start();
    let connectors = connectors(HttpConfig::default());
    let spec = action(&format!(
        "http: {{ template: webhook, url: '{}/hook', auth: {{ scheme: basic, secret: basic_pair }} }}",
        peer.url()
    ));
    let request = connectors.prepare("pb", "hook", &spec, &context()).unwrap();

    peer.fail_next(1, 503, Some(3));
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Retry);
    assert_eq!(outcome.summary, "HTTP 503");
    assert_eq!(outcome.retry_after, Some(Duration::from_secs(3)));
    peer.fail_next(1, 429, None);
    assert_eq!(
        connectors.send(&request, TIMEOUT).status,
        OutcomeStatus::Retry
    );
    peer.fail_next(1, 408, None);
    assert_eq!(
        connectors.send(&request, TIMEOUT).status,
        OutcomeStatus::Retry
    );
    assert!(peer.acted().is_empty());
    assert_eq!(
        connectors.send(&request, TIMEOUT).status,
        OutcomeStatus::Done
    );
    assert_eq!(peer.acted().values().sum::<usize>(), 1);
    let basic = peer.requests()[3]
        .header("authorization")
        .unwrap()
        .to_owned();
    assert_eq!(basic, "Basic YWRtaW46cGE6c3Mgd29yZA==");
    let body: Value = serde_json::from_slice(&peer.requests()[3].body).unwrap();
    assert_eq!(body["incident"], "inc-7");
    assert_eq!(body["run"], "run-42");
    assert_eq!(body["step"], "hook");
    assert_eq!(
        body["idempotency_key"],
        Value::String(request.idempotency_key.clone())
    );
    assert_eq!(body["inputs"]["host"], serde_json::json!(["WS-01"]));

    peer.fail_next(1, 403, None);
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert_eq!(outcome.summary, "HTTP 403");

    // A redirect is not followed: one request reached the peer, the step fails.
    let redirecting = HttpPeer::start();
    redirecting.set_answer(302, &[("Location", "http://127.0.0.1:9/elsewhere")], "");
    let spec = action(&format!("http: {{ url: '{}/x' }}", redirecting.url()));
    let request = connectors.prepare("pb", "r", &spec, &context()).unwrap();
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert!(
        outcome.summary.contains("not followed"),
        "{}",
        outcome.summary
    );
    assert_eq!(redirecting.requests().len(), 1);

    // Nobody listening: may pass later.
    let gone = {
        let closed = HttpPeer::start();
        closed.url()
    };
    std::thread::sleep(Duration::from_millis(50));
    let spec = action(&format!("http: {{ url: '{gone}/x' }}"));
    let request = connectors.prepare("pb", "g", &spec, &context()).unwrap();
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Retry, "{outcome:?}");
}

#[test]
fn a_hung_peer_times_out_and_a_slow_answer_is_replayed() {
    let peer = HttpPeer::start();
    let connectors = connectors(HttpConfig::default());
    let spec = action(&format!(
        "http: {{ template: slack, url: '{}/slack' }}",
        peer.url()
    ));
    let request = connectors.prepare("pb", "tell", &spec, &context()).unwrap();

    peer.set_hang(true);
    let started = std::time::Instant::now();
    let outcome = connectors.send(&request, Duration::from_millis(300));
    assert_eq!(outcome.status, OutcomeStatus::Retry, "{outcome:?}");
    assert!(outcome.summary.contains("timed out"), "{}", outcome.summary);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(peer.acted().is_empty());
    peer.set_hang(false);

    // Acted on, but the answer comes after the client gave up; the resend is told
    // what happened instead of acting again.
    peer.set_delay(Duration::from_millis(2000));
    let outcome = connectors.send(&request, Duration::from_millis(700));
    assert_eq!(outcome.status, OutcomeStatus::Retry);
    peer.set_delay(Duration::ZERO);
    assert!(peer.wait_for_acted(1, Duration::from_secs(5)));
    assert_eq!(
        connectors.send(&request, TIMEOUT).status,
        OutcomeStatus::Done
    );
    assert_eq!(peer.acted().values().copied().collect::<Vec<_>>(), [1]);

    // The Slack text escapes what Slack would act on.
    let last = peer.requests().last().unwrap().clone();
    let body: Value = serde_json::from_slice(&last.body).unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("&lt;!channel&gt; &amp; &lt;http://evil|click&gt;"));
    assert!(!text.contains("<!channel>"));
}

#[test]
fn answers_are_capped_and_redacted() {
    let peer = HttpPeer::start();
    let connectors = connectors(HttpConfig::default());
    let spec = action(&format!(
        "http: {{ template: teams, url: '{}', auth: {{ scheme: bearer, secret: hive }} }}",
        peer.url()
    ));
    let request = connectors.prepare("pb", "card", &spec, &context()).unwrap();
    peer.set_answer(
        200,
        &[],
        &format!(
            r#"{{"echo":"Bearer {TOKEN}","pad":"{}"}}"#,
            "y".repeat(10_000)
        ),
    );
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Done);
    let response = outcome.response.unwrap();
    assert!(
        response.starts_with(r#"{"echo":"Bearer [secret:hive]","pad":"yyy"#),
        "{response}"
    );
    assert!(response.len() <= 4096 + "[…]".len() && response.ends_with("[…]"));
    assert!(!response.contains(TOKEN));

    let card: Value = serde_json::from_slice(&peer.requests()[0].body).unwrap();
    assert_eq!(card["@type"], "MessageCard");
    assert_eq!(card["sections"][0]["facts"][1]["name"], "host");
    assert_eq!(card["sections"][0]["facts"][1]["value"], "WS-01");
}

#[test]
fn dry_run_shows_the_request_as_sent_with_secrets_redacted() {
    let peer = HttpPeer::start();
    let connectors = connectors(HttpConfig::default());
    let spec = action(&format!(
        "http: {{ template: thehive_case, url: '{}/', auth: {{ scheme: basic, secret: basic_pair }}, headers: {{ X-Api: 'k={{{{ secret.hive }}}}' }}, body: {{ severity: 3 }} }}",
        peer.url()
    ));
    let request = connectors.prepare("pb", "case", &spec, &context()).unwrap();
    let shown = connectors.dry_run(&request);
    assert!(
        shown.starts_with(&format!("POST {}/api/v1/case HTTP/1.1\n", peer.url())),
        "{shown}"
    );
    assert!(
        shown.contains("Authorization: Basic [secret:basic_pair]\n"),
        "{shown}"
    );
    assert!(shown.contains("X-Api: k=[secret:hive]\n"));
    assert!(shown.contains(&format!("Idempotency-Key: {}\n", request.idempotency_key)));
    assert!(shown.contains(r#""severity":3"#));
    assert!(!shown.contains(TOKEN) && !shown.contains("pa:ss"));
    // Without the secrets, the dry run says which are missing; nothing was sent.
    let bare = dry_run(&request, &Secrets::new());
    assert!(bare.contains("[secret:hive is not defined]"));
    assert!(peer.requests().is_empty());

    // Sending with a secret nobody defined fails without a request.
    let none = Connectors::new(ConnectorConfig::default(), Secrets::new()).unwrap();
    let outcome = none.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert_eq!(outcome.summary, r#"secret "hive" is not defined"#);
    assert!(peer.requests().is_empty());
    let RequestDetail::Http { body, .. } = &request.detail else {
        panic!("not HTTP")
    };
    let body: Value = serde_json::from_str(body.as_deref().unwrap()).unwrap();
    assert_eq!(body["severity"], 3);
    assert!(body["description"]
        .as_str()
        .unwrap()
        .contains("host: WS-01"));
}

#[test]
fn tls_is_verified_unless_told_otherwise() {
    let ca = TestCa::new();
    let peer = HttpPeer::start_tls(&ca);
    let dir = tempfile::tempdir().unwrap();
    let spec = action(&format!(
        "http: {{ template: webhook, url: '{}/tls' }}",
        peer.url()
    ));

    // Web PKI roots only: the private CA is not trusted, nothing is acted on.
    let default = connectors(HttpConfig::default());
    let request = default.prepare("pb", "tls", &spec, &context()).unwrap();
    let outcome = default.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Failed, "{outcome:?}");
    assert!(outcome.summary.starts_with("TLS"), "{}", outcome.summary);
    assert!(peer.acted().is_empty());

    let trusted = connectors(HttpConfig {
        ca_file: Some(ca.write_ca_file(dir.path())),
        insecure: false,
    });
    let outcome = trusted.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Done, "{outcome:?}");

    let insecure = connectors(HttpConfig {
        ca_file: None,
        insecure: true,
    });
    assert_eq!(insecure.send(&request, TIMEOUT).status, OutcomeStatus::Done);
    assert_eq!(peer.acted().values().copied().collect::<Vec<_>>(), [1]);

    // A CA file that holds no certificate is a configuration error.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "nothing here\n").unwrap();
    let error = Connectors::new(
        ConnectorConfig {
            http: HttpConfig {
                ca_file: Some(empty),
                insecure: false,
            },
            ..ConnectorConfig::default()
        },
        Secrets::new(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("no PEM certificate"), "{error}");
}

#[test]
fn the_secrets_file_must_be_private_and_never_shows_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.yml");
    std::fs::write(&path, format!("hive: '{TOKEN}'\nsmtp: 'mailer:pw'\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = Secrets::load(Some(&path), Vec::new()).unwrap_err();
        assert!(error.to_string().contains("chmod 600"), "{error}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let secrets = Secrets::load(
        Some(&path),
        [("RAMPART_SECRET_SMTP".to_owned(), "mailer:other".to_owned())],
    )
    .unwrap();
    assert_eq!(secrets.get("hive"), Some(TOKEN));
    assert_eq!(secrets.get("smtp"), Some("mailer:other"));
    assert!(!format!("{secrets:?}").contains(TOKEN));

    // A broken file is reported by place, never by quoting it.
    std::fs::write(&path, format!("hive: [{TOKEN}\n")).unwrap();
    let error = Secrets::load(Some(&path), Vec::new()).unwrap_err();
    let shown = rampart_event::error_chain(&error);
    assert!(shown.contains("line") && !shown.contains(TOKEN), "{shown}");
}

#[test]
fn a_webhook_url_kept_whole_as_a_secret_is_sent_and_never_shown() {
    let peer = HttpPeer::start();
    let hook = format!("{}/services/T000/B000/XyZsEcReT", peer.url());
    let mut secrets = secrets();
    secrets.insert("slack_hook", &hook).unwrap();
    let connectors = Connectors::new(ConnectorConfig::default(), secrets.clone()).unwrap();
    let spec = action("http: { template: slack, url: '{{ secret.slack_hook }}' }");
    let request = connectors.prepare("pb", "tell", &spec, &context()).unwrap();
    // Its host is a secret too: limits count it by the secret's name.
    assert_eq!(request.target, "secret:slack_hook");
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Done, "{outcome:?}");
    assert_eq!(peer.requests()[0].path, "/services/T000/B000/XyZsEcReT");
    assert!(connectors
        .dry_run(&request)
        .starts_with("POST [secret:slack_hook] HTTP/1.1\n"));

    // When the hook is unreachable, the error names no part of it.
    let gone = {
        let closed = HttpPeer::start();
        format!("{}/services/T000/B000/XyZsEcReT", closed.url())
    };
    std::thread::sleep(Duration::from_millis(50));
    secrets.insert("slack_hook", &gone).unwrap();
    let connectors = Connectors::new(ConnectorConfig::default(), secrets).unwrap();
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Retry, "{outcome:?}");
    assert!(
        !outcome.summary.contains("XyZsEcReT"),
        "{}",
        outcome.summary
    );
    // A secret URL of another scheme is refused when it is filled in.
    let mut secrets = Secrets::new();
    secrets.insert("slack_hook", "file:///etc/passwd").unwrap();
    let connectors = Connectors::new(ConnectorConfig::default(), secrets).unwrap();
    let outcome = connectors.send(&request, TIMEOUT);
    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert!(
        !outcome.summary.contains("/etc/passwd"),
        "{}",
        outcome.summary
    );
}

#[test]
fn concurrent_resends_of_the_same_keys_are_acted_on_once() {
    let peer = HttpPeer::start();
    peer.set_delay(Duration::from_millis(5));
    let connectors = connectors(HttpConfig::default());
    let requests: Vec<_> = (0..5)
        .map(|n| {
            let spec = action(&format!(
                "http: {{ template: webhook, url: '{}/n' }}",
                peer.url()
            ));
            connectors
                .prepare("pb", &format!("step-{n}"), &spec, &context())
                .unwrap()
        })
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..10 {
                    for request in &requests {
                        let outcome = connectors.send(request, TIMEOUT);
                        assert_eq!(outcome.status, OutcomeStatus::Done, "{outcome:?}");
                    }
                }
            });
        }
    });
    peer.check_acted_once(requests.iter().map(|r| r.idempotency_key.as_str()))
        .unwrap();
    assert_eq!(peer.delivered().values().sum::<usize>(), 8 * 10 * 5);
}
