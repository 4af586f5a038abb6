//! The query, triage and suppression API over real sockets, a real store and SigmaHQ
//! rules on EVTX-ATTACK-SAMPLES events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{agent, call, evtx_to_json_lines, TestServer};
use rampart_serve::Limits;
use rampart_store::Role;
use serde_json::{json, Value};
use std::io::{Read, Write};

fn send(server: &TestServer, lines: &[String]) -> Value {
    let body = lines.join("\n");
    let (status, answer) = call(
        agent()
            .post(&server.url("/api/v1/events"))
            .set("Authorization", &format!("Bearer {}", server.ingest)),
        Some(body.as_bytes()),
    );
    assert_eq!(status, 200, "{answer}");
    answer
}

fn get(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    call(
        agent()
            .get(&server.url(path))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    )
}

fn post(server: &TestServer, token: &str, path: &str, body: &Value) -> (u16, Value) {
    call(
        agent()
            .post(&server.url(path))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json"),
        Some(body.to_string().as_bytes()),
    )
}

fn delete(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    call(
        agent()
            .delete(&server.url(path))
            .set("Authorization", &format!("Bearer {token}")),
        None,
    )
}

fn analyst(server: &TestServer) -> String {
    let mut store = rampart_store::open(&server.db).unwrap();
    store.create_token(Role::Analyst, "alice").unwrap().1
}

fn setup(dir: &std::path::Path) -> (TestServer, Vec<String>) {
    let rules = rampart_testkit::data_path("sigma/rules/windows/process_creation");
    let server = TestServer::start(dir, &[rules], Limits::default());
    let files = rampart_testkit::files_under(
        &rampart_testkit::data_path("evtx-attack-samples/Execution"),
        "evtx",
    );
    let lines = evtx_to_json_lines(&files);
    (server, lines)
}

#[test]
fn triage_an_alert_and_an_incident_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let (server, lines) = setup(dir.path());
    let answer = send(&server, &lines);
    assert!(answer["alerts"].as_u64().unwrap() > 1, "{answer}");
    let alice = analyst(&server);

    // Listing: pages, filters, caps.
    let (status, all) = get(&server, &server.viewer, "/api/v1/alerts?limit=1000");
    assert_eq!(status, 200, "{all}");
    let alerts = all["alerts"].as_array().unwrap().clone();
    assert!(alerts.len() > 1);
    let (_, second) = get(&server, &server.viewer, "/api/v1/alerts?offset=1&limit=1");
    assert_eq!(second["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(second["alerts"][0]["id"], alerts[1]["id"]);
    assert_eq!(
        get(&server, &server.viewer, "/api/v1/alerts?limit=100000").0,
        400
    );
    assert_eq!(
        get(&server, &server.viewer, "/api/v1/alerts?bogus=1").0,
        400
    );
    let rule = alerts[0]["alert"]["rule_id"].as_str().unwrap();
    let (_, by_rule) = get(
        &server,
        &server.viewer,
        &format!("/api/v1/alerts?rule={rule}"),
    );
    let by_rule = by_rule["alerts"].as_array().unwrap();
    assert!(!by_rule.is_empty());
    assert!(by_rule.iter().all(|a| a["alert"]["rule_id"] == rule));

    // One alert: no token 401, viewer cannot triage (403), unknown id 404.
    let id = alerts[0]["id"].as_str().unwrap().to_owned();
    let (status, shown) = get(&server, &server.viewer, &format!("/api/v1/alerts/{id}"));
    assert_eq!(status, 200);
    assert_eq!(shown["alert"]["id"], id.as_str());
    assert_eq!(shown["triage"]["state"], "new");
    assert_eq!(
        call(
            agent().get(&server.url(&format!("/api/v1/alerts/{id}"))),
            None
        )
        .0,
        401
    );
    assert_eq!(get(&server, &server.viewer, "/api/v1/alerts/nope").0, 404);
    let ack = json!({ "state": "acknowledged" });
    let path = format!("/api/v1/alerts/{id}/triage");
    assert_eq!(post(&server, &server.viewer, &path, &ack).0, 403);
    assert_eq!(post(&server, &server.ingest, &path, &ack).0, 403);
    assert_eq!(
        post(&server, &alice, "/api/v1/alerts/nope/triage", &ack).0,
        404
    );

    // The alert: acknowledged, in progress, closed as a false positive.
    for change in [
        json!({ "state": "acknowledged", "assignee": "alice", "comment": "looking" }),
        json!({ "state": "in-progress", "add_tags": ["lab"] }),
    ] {
        let (status, record) = post(&server, &alice, &path, &change);
        assert_eq!(status, 200, "{record}");
    }
    // Closing without a verdict is refused.
    assert_eq!(
        post(&server, &alice, &path, &json!({ "state": "closed" })).0,
        422
    );
    let (status, record) = post(
        &server,
        &alice,
        &path,
        &json!({ "state": "closed", "verdict": "false-positive", "reason": "lab admin" }),
    );
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["state"], "closed");
    assert_eq!(record["verdict"], "false-positive");
    let (status, trail) = get(
        &server,
        &server.viewer,
        &format!("/api/v1/alerts/{id}/audit"),
    );
    assert_eq!(status, 200, "{trail}");
    let audit = trail["audit"].as_array().unwrap();
    let states: Vec<(&str, &str)> = audit
        .iter()
        .filter(|row| row["field"] == "state")
        .map(|row| {
            (
                row["from"].as_str().unwrap_or("new"),
                row["to"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("in-progress", "closed"),
            ("acknowledged", "in-progress"),
            ("new", "acknowledged")
        ],
        "{trail}"
    );
    assert!(audit
        .iter()
        .all(|row| row["actor"].as_str().unwrap().contains("alice")));
    assert_eq!(trail["comments"][0]["text"], "looking", "{trail}");

    // An incident, the same way; then the metrics reflect both.
    let (status, incidents) = get(&server, &server.viewer, "/api/v1/incidents");
    assert_eq!(status, 200, "{incidents}");
    if let Some(incident) = incidents["incidents"].as_array().unwrap().first() {
        let incident_id = incident["incident"]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/incidents/{incident_id}/triage");
        assert_eq!(
            post(&server, &alice, &path, &json!({"state": "acknowledged"})).0,
            200
        );
        let (status, record) = post(
            &server,
            &alice,
            &path,
            &json!({"state": "closed", "verdict": "true-positive", "reason": "confirmed"}),
        );
        assert_eq!(status, 200, "{record}");
        let (status, shown) = get(
            &server,
            &server.viewer,
            &format!("/api/v1/incidents/{incident_id}"),
        );
        assert_eq!(status, 200);
        assert_eq!(shown["triage"]["state"], "closed");
        let (_, closed) = get(&server, &server.viewer, "/api/v1/incidents?state=closed");
        assert!(closed["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["incident"]["id"] == incident_id.as_str()));
    }
    let (status, metrics) = get(&server, &server.viewer, "/api/v1/metrics/triage");
    assert_eq!(status, 200, "{metrics}");
    let text = metrics.to_string();
    assert!(text.contains(rule), "{metrics}");
    let (_, closed) = get(&server, &server.viewer, "/api/v1/alerts?state=closed");
    assert_eq!(closed["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(closed["alerts"][0]["id"], id.as_str());
    server.stop();
}

#[test]
fn suppression_round_trip_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let (server, lines) = setup(dir.path());
    let first = send(&server, &lines)["alerts"].as_u64().unwrap();
    assert!(first > 1);
    let alice = analyst(&server);
    let (_, all) = get(&server, &server.viewer, "/api/v1/alerts?limit=1000");
    let alerts = all["alerts"].as_array().unwrap();
    let target = alerts
        .iter()
        .find(|a| {
            alerts.iter().any(|b| {
                b["alert"]["rule_id"] == a["alert"]["rule_id"]
                    && b["alert"]["matched"] != a["alert"]["matched"]
            })
        })
        .expect("a rule with two different alerts");
    let request = json!({ "alert": target["id"], "reason": "benign in the lab" });
    assert_eq!(
        post(&server, &server.viewer, "/api/v1/suppressions", &request).0,
        403
    );
    assert_eq!(
        post(
            &server,
            &alice,
            "/api/v1/suppressions",
            &json!({"alert": "nope"})
        )
        .0,
        404
    );
    let (status, created) = post(&server, &alice, "/api/v1/suppressions", &request);
    assert_eq!(status, 200, "{created}");
    let filter_id = created["id"].as_str().unwrap().to_owned();
    assert!(dir.path().join("tuning").is_dir());

    // The same events again: the target's matches are suppressed, counted, and the
    // rule's other alerts still come.
    let second = send(&server, &lines)["alerts"].as_u64().unwrap();
    assert!(second < first, "{second} < {first}");
    let (_, listed) = get(&server, &server.viewer, "/api/v1/suppressions");
    let rows = listed["suppressions"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(rows[0]["id"], filter_id.as_str());
    assert_eq!(rows[0]["state"], "active");
    assert_eq!(rows[0]["suppressed"].as_u64().unwrap(), first - second);
    let (status, ruleset) = get(&server, &server.viewer, "/api/v1/rules?limit=5");
    assert_eq!(status, 200, "{ruleset}");
    assert_eq!(ruleset["rules"].as_array().unwrap().len(), 5);
    assert!(ruleset["total"].as_u64().unwrap() >= ruleset["report"]["rules"].as_u64().unwrap());
    assert!(
        ruleset["report"]["rules"].as_u64().unwrap() > 100,
        "{}",
        ruleset["report"]
    );
    assert_eq!(ruleset["filters"][0]["id"], filter_id.as_str());
    assert_eq!(ruleset["filters"][0]["active"], true);
    assert_eq!(ruleset["filters"][0]["suppressed"], rows[0]["suppressed"]);

    // Taken back: everything fires again.
    let path = format!("/api/v1/suppressions/{filter_id}");
    assert_eq!(delete(&server, &server.viewer, &path).0, 403);
    let (status, removed) = delete(&server, &alice, &path);
    assert_eq!(status, 200, "{removed}");
    assert_eq!(delete(&server, &alice, &path).0, 404);
    let third = send(&server, &lines)["alerts"].as_u64().unwrap();
    assert_eq!(third, first);
    server.stop();
}

/// (status, content type, body) of a raw request.
fn raw(request: ureq::Request, body: Option<(&str, &[u8])>) -> (u16, String, Value) {
    let result = match body {
        Some((content_type, bytes)) => request.set("Content-Type", content_type).send_bytes(bytes),
        None => request.call(),
    };
    let response = match result {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("request failed: {error}"),
    };
    let status = response.status();
    let content_type = response.content_type().to_owned();
    let text = response.into_string().unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, content_type, value)
}

/// The answer is the documented error shape: JSON, one non-empty `error` string.
fn assert_error(status: u16, content_type: &str, body: &Value, expected: u16, says: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(content_type, "application/json", "{body}");
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    assert_eq!(object.len(), 1, "{body}");
    let message = body["error"].as_str().unwrap_or_else(|| panic!("{body}"));
    assert!(message.contains(says), "`{says}` not in {body}");
}

#[test]
fn every_error_answers_the_documented_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rampart_testkit::data_path("sigma/rules/windows/process_creation");
    let server = TestServer::start_with(dir.path(), &[rules], |config| {
        config.limits.request_timeout = std::time::Duration::from_millis(500);
    });
    let bearer = |request: ureq::Request, token: &str| {
        request.set("Authorization", &format!("Bearer {token}"))
    };
    let viewer = server.viewer.clone();
    let admin = server.admin.clone();

    // Routes and methods the service does not have.
    let (status, content_type, body) = raw(agent().get(&server.url("/api/v1/nope")), None);
    assert_error(
        status,
        &content_type,
        &body,
        404,
        "no route GET /api/v1/nope",
    );
    let (status, content_type, body) = raw(agent().post(&server.url("/healthz")), None);
    assert_error(status, &content_type, &body, 405, "does not take POST");
    let (status, content_type, body) = raw(
        bearer(agent().delete(&server.url("/api/v1/alerts")), &viewer),
        None,
    );
    assert_error(status, &content_type, &body, 405, "GET");

    // Query parameters: unknown (named), of the wrong type, on a route without any.
    let get = |path: &str| raw(bearer(agent().get(&server.url(path)), &viewer), None);
    let (status, content_type, body) = get("/api/v1/alerts?lvel=high");
    assert_error(status, &content_type, &body, 400, "`lvel`");
    let (status, content_type, body) = get("/api/v1/alerts?limit=ten");
    assert_error(status, &content_type, &body, 400, "limit");
    let (status, content_type, body) = get("/api/v1/alerts?level=apocalyptic");
    assert_error(status, &content_type, &body, 400, "apocalyptic");
    let (status, content_type, body) = get("/api/v1/metrics/triage?verbose=1");
    assert_error(status, &content_type, &body, 400, "`verbose`");
    // A path that is not UTF-8 once decoded.
    let (status, content_type, body) = get("/api/v1/alerts/%FF%FE");
    assert_error(status, &content_type, &body, 400, "UTF-8");

    // Bodies: not JSON, a wrong field, JSON sent as text.
    let triage = server.url("/api/v1/alerts/nope/triage");
    let post = |body: (&str, &[u8])| raw(bearer(agent().post(&triage), &admin), Some(body));
    let (status, content_type, body) = post(("application/json", b"{\"state\": "));
    assert_error(status, &content_type, &body, 400, "JSON");
    let (status, content_type, body) = post(("application/json", b"{\"state\": \"sleeping\"}"));
    assert_error(status, &content_type, &body, 422, "sleeping");
    let (status, content_type, body) = post(("application/json", b"{\"mood\": \"calm\"}"));
    assert_error(status, &content_type, &body, 422, "mood");
    let (status, content_type, body) = post(("text/plain", b"{}"));
    assert_error(status, &content_type, &body, 415, "application/json");

    // A request that never finishes sending its body is abandoned (408).
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
         Content-Length: 100\r\n\r\n{{",
        server.ingest
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body: Value = serde_json::from_str(body).unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("too long"),
        "{body}"
    );
    server.stop();
}

#[test]
fn a_revoked_token_fails_its_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rampart_testkit::data_path("sigma/rules/windows/process_creation");
    let server = TestServer::start_with(dir.path(), &[rules], |config| {
        // Trusted for an hour: only the revocation check can end it.
        config.limits.token_cache = std::time::Duration::from_secs(3600);
    });
    assert_eq!(get(&server, &server.viewer, "/api/v1/alerts").0, 200);
    assert_eq!(get(&server, &server.viewer, "/api/v1/alerts").0, 200);
    // Revoked by another process (what `rampart token revoke` does).
    {
        let mut store = rampart_store::open(&server.db).unwrap();
        let viewer = store
            .tokens()
            .unwrap()
            .into_iter()
            .find(|token| token.name == "viewer")
            .unwrap();
        assert!(store.revoke_token(viewer.id).unwrap());
    }
    let (status, answer) = get(&server, &server.viewer, "/api/v1/alerts");
    assert_eq!(status, 401, "{answer}");
    // The other tokens are unaffected.
    assert_eq!(get(&server, &server.admin, "/api/v1/alerts").0, 200);
    server.stop();
}
