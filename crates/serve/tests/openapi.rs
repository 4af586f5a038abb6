//! The served OpenAPI document against the real service: every documented operation is
//! called with real data (SigmaHQ rules on EVTX-ATTACK-SAMPLES events, a real store),
//! each answer's body is validated with a JSON Schema 2020-12 validator against the
//! schema the document gives for that operation and status, and the operations called
//! must be exactly those the document lists. Every status the document gives an
//! operation is provoked for real at least once (a full queue, an oversized body, a
//! store that cannot read a token, a service without a tuning folder…), and every
//! error answer, axum's own rejections included, is the documented `{"error": …}`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{agent, evtx_to_json_lines, TestServer};
use rampart_knowledge::Knowledge;

use rampart_store::Role;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The document, what was called, and how to check an answer.
struct Checker {
    /// `http://host:port` of the service called.
    base: String,
    doc: Value,
    called: BTreeSet<(String, String)>,
    /// (method, documented path, status) of every answer seen.
    statuses: BTreeSet<(String, String, u16)>,
}

impl Checker {
    /// Resolves a local `$ref` (`#/components/...`) of the document.
    fn resolve<'v>(&'v self, value: &'v Value) -> &'v Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').expect("a local reference");
                self.doc
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("{reference} is not in the document"))
            }
            None => value,
        }
    }

    /// Sends `method path` (`template` is its documented path) and validates the
    /// answer; returns (status, body).
    fn call(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> (u16, Value) {
        let mut request = agent().request(&method.to_uppercase(), &format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let result = match body {
            Some((content_type, bytes)) => {
                request.set("Content-Type", content_type).send_bytes(bytes)
            }
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {path}: {error}"),
        };
        let status = response.status();
        let content_type = response.content_type().to_owned();
        let retry_after = response.header("Retry-After").map(str::to_owned);
        let text = response.into_string().unwrap();
        self.called.insert((method.to_owned(), template.to_owned()));
        self.statuses
            .insert((method.to_owned(), template.to_owned(), status));
        let operation = self
            .doc
            .pointer(&format!(
                "/paths/{}/{method}",
                template.replace('~', "~0").replace('/', "~1")
            ))
            .unwrap_or_else(|| panic!("{method} {template} is not documented"));
        let documented = operation
            .pointer(&format!("/responses/{status}"))
            .unwrap_or_else(|| {
                panic!("{method} {path}: status {status} is not documented: {text}")
            });
        let documented = self.resolve(documented).clone();
        if status == 429 {
            assert!(
                retry_after.is_some_and(|after| after.parse::<u64>().is_ok()),
                "{method} {path}: 429 without Retry-After"
            );
        }
        let Some(content) = documented.get("content").and_then(Value::as_object) else {
            assert!(
                text.is_empty(),
                "{method} {path}: {status} documents no body: {text}"
            );
            return (status, Value::Null);
        };
        let media = content.get(content_type.as_str()).unwrap_or_else(|| {
            panic!("{method} {path}: {status} as {content_type} is not documented")
        });
        let value = if content_type == "application/json" {
            serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("{method} {path}: not JSON ({error}): {text}"))
        } else {
            Value::String(text)
        };
        let errors = self.errors(&media["schema"], &value);
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match its schema:\n{}\n{value}",
            errors.join("\n")
        );
        (status, value)
    }

    /// Why `value` does not match `schema` (empty: it does), with the document's
    /// components to resolve `$ref`s against.
    fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.doc["components"],
        });
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|error| panic!("bad schema {schema}: {error}"));
        validator
            .iter_errors(value)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect()
    }

    /// Every (method, path, status) the document lists.
    fn documented_statuses(&self) -> BTreeSet<(String, String, u16)> {
        let mut all = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for status in operation["responses"].as_object().unwrap().keys() {
                    all.insert((method.clone(), path.clone(), status.parse().unwrap()));
                }
            }
        }
        all
    }

    /// The documented operations that list `status`, as (method, template, a path
    /// to call).
    fn listing(&self, status: u16) -> Vec<(String, String, String)> {
        self.documented_statuses()
            .into_iter()
            .filter(|(_, _, listed)| *listed == status)
            .map(|(method, template, _)| {
                let path = template.replace("{id}", "nope").replace("{index}", "logs");
                (method, template, path)
            })
            .collect()
    }

    /// Sends the body `body` makes for each ingest operation (from its documented
    /// path) to every one of them; each must answer `expected`.
    fn ingest_everywhere(
        &mut self,
        token: Option<&str>,
        body: &dyn Fn(&str) -> Vec<u8>,
        expected: u16,
    ) {
        for (method, template, path) in INGEST_OPERATIONS {
            let body = body(template);
            let (status, answer) = self.call(
                method,
                template,
                path,
                token,
                Some(("application/x-ndjson", &body)),
            );
            assert_eq!(status, expected, "{method} {path}: {answer}");
        }
    }

    /// Every (method, path) the document lists.
    fn documented(&self) -> BTreeSet<(String, String)> {
        let mut all = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                all.insert((method.clone(), path.clone()));
            }
        }
        all
    }
}

/// The operations that take events: (method, documented path, a path to call).
const INGEST_OPERATIONS: [(&str, &str, &str); 5] = [
    ("post", "/api/v1/events", "/api/v1/events"),
    ("post", "/_bulk", "/_bulk"),
    ("put", "/_bulk", "/_bulk"),
    ("post", "/{index}/_bulk", "/logs/_bulk"),
    ("put", "/{index}/_bulk", "/logs/_bulk"),
];

/// `events` as the body of the ingest operation `template`: JSON lines, or `_bulk`
/// index actions each followed by its event.
fn ingest_body(template: &str, events: &[String]) -> Vec<u8> {
    if template.ends_with("_bulk") {
        events
            .iter()
            .map(|event| format!("{{\"index\":{{}}}}\n{event}\n"))
            .collect::<String>()
            .into_bytes()
    } else {
        events.join("\n").into_bytes()
    }
}

/// A rule of the second service: any process creation whose command line names the
/// marker.
const MARKER_RULE: &str = "title: OpenAPI test marker
id: 5d0c3d55-4bd2-4a8a-9f3e-2b1f0f3c9a11
status: test
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        CommandLine|contains: rampart-openapi-marker
    condition: selection
level: high
";

/// `count` Sysmon process creations the marker rule matches, numbered from `first`
/// (so that each is its own event and alert).
fn marker_events(first: usize, count: usize) -> Vec<String> {
    (first..first + count)
        .map(|n| {
            json!({
                "EventID": 1,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Computer": "ws1",
                "EventRecordID": n,
                "Image": "C:\\Windows\\System32\\cmd.exe",
                "CommandLine": format!("cmd /c rampart-openapi-marker {n}"),
            })
            .to_string()
        })
        .collect()
}

#[test]
fn every_documented_operation_answers_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rampart_testkit::data_path("sigma/rules/windows/process_creation");
    let knowledge = {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Arc::new(Knowledge::from_files(&files).unwrap())
    };
    let server = TestServer::start_with(dir.path(), std::slice::from_ref(&rules), |config| {
        config.knowledge = Some(knowledge)
    });
    let files = rampart_testkit::files_under(
        &rampart_testkit::data_path("evtx-attack-samples/Execution"),
        "evtx",
    );
    let lines = evtx_to_json_lines(&files);
    let alice = {
        let mut store = rampart_store::open(&server.db).unwrap();
        store.create_token(Role::Analyst, "alice").unwrap().1
    };
    let (admin, ingest, viewer) = (
        server.admin.clone(),
        server.ingest.clone(),
        server.viewer.clone(),
    );
    let (admin, ingest, viewer, alice) = (
        Some(admin.as_str()),
        Some(ingest.as_str()),
        Some(viewer.as_str()),
        Some(alice.as_str()),
    );

    // The document itself: public, OpenAPI 3.1, a bearer scheme.
    let (status, doc) = common::call(agent().get(&server.url("/api/v1/openapi.json")), None);
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut api = Checker {
        base: server.url(""),
        doc,
        called: BTreeSet::new(),
        statuses: BTreeSet::new(),
    };
    // The validator resolves the document's references and rejects what they exclude.
    let error = json!({"$ref": "#/components/schemas/Error"});
    assert!(api.errors(&error, &json!({"error": "no"})).is_empty());
    assert!(!api.errors(&error, &json!({"error": 1})).is_empty());
    assert!(!api
        .errors(&error, &json!({"error": "no", "more": 1}))
        .is_empty());
    let audit = json!({"$ref": "#/components/schemas/AuditEntry"});
    let entry = json!({"id": 1, "at": "yesterday", "actor": "a", "subject": {"kind": "alert", "id": "x"},
        "field": "state", "from": null, "to": "closed"});
    assert!(
        !api.errors(&audit, &entry).is_empty(),
        "formats are checked"
    );
    api.call(
        "get",
        "/api/v1/openapi.json",
        "/api/v1/openapi.json",
        None,
        None,
    );

    // Probes.
    assert_eq!(api.call("get", "/healthz", "/healthz", None, None).0, 200);
    let (status, ready) = api.call("get", "/readyz", "/readyz", None, None);
    assert_eq!(status, 200, "{ready}");
    let (status, metrics) = api.call("get", "/metrics", "/metrics", None, None);
    assert_eq!(status, 200);
    assert!(metrics.as_str().unwrap().contains("# TYPE"), "{metrics}");

    // Events in: the corpus, then the refusals.
    let body = lines.join("\n");
    let jsonl = |body: &str| Some(("application/x-ndjson", body.as_bytes().to_vec()));
    let events = jsonl(&body);
    let events = events.as_ref().map(|(t, b)| (*t, b.as_slice()));
    // Refusals come before the body is read: a small one, so that the service does not
    // close the connection while a large one is still being sent.
    let first = lines[..2].join("\n");
    let small = Some(("application/x-ndjson", first.as_bytes()));
    let (status, answer) = api.call("post", "/api/v1/events", "/api/v1/events", ingest, events);
    assert_eq!(status, 200, "{answer}");
    assert!(answer["alerts"].as_u64().unwrap() > 1, "{answer}");
    assert_eq!(
        api.call("post", "/api/v1/events", "/api/v1/events", None, small)
            .0,
        401
    );
    assert_eq!(
        api.call("post", "/api/v1/events", "/api/v1/events", viewer, small)
            .0,
        403
    );
    let gzip = Some(("application/x-ndjson", &b"\x1f\x8b\x08\x00broken"[..]));
    assert_eq!(
        api.call("post", "/api/v1/events", "/api/v1/events", ingest, gzip)
            .0,
        400
    );

    // The Elasticsearch subset.
    let (status, info) = api.call("get", "/", "/", ingest, None);
    assert_eq!(status, 200, "{info}");
    assert_eq!(api.call("get", "/", "/", None, None).0, 401);
    assert_eq!(api.call("head", "/", "/", ingest, None).0, 200);
    assert_eq!(api.call("head", "/", "/", None, None).0, 401);
    assert_eq!(
        api.call("get", "/_license", "/_license", ingest, None).0,
        200
    );
    assert_eq!(api.call("get", "/_xpack", "/_xpack", ingest, None).0, 200);
    let bulk = format!(
        "{{\"index\":{{}}}}\n{}\n{{\"create\":{{\"_index\":\"logs\"}}}}\n{}\n{{\"delete\":{{\"_id\":\"1\"}}}}\n",
        lines[0], lines[1]
    );
    let bulk = Some(("application/x-ndjson", bulk.as_bytes()));
    for (method, template, path) in [
        ("post", "/_bulk", "/_bulk"),
        ("put", "/_bulk", "/_bulk"),
        ("post", "/{index}/_bulk", "/winlogbeat/_bulk"),
        ("put", "/{index}/_bulk", "/winlogbeat/_bulk"),
    ] {
        let (status, answer) = api.call(method, template, path, ingest, bulk);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["items"].as_array().unwrap().len(), 3, "{answer}");
        assert_eq!(answer["errors"], true, "the delete is refused: {answer}");
    }
    assert_eq!(api.call("post", "/_bulk", "/_bulk", viewer, bulk).0, 403);

    // Alerts.
    let (status, listed) = api.call(
        "get",
        "/api/v1/alerts",
        "/api/v1/alerts?limit=1000",
        viewer,
        None,
    );
    assert_eq!(status, 200);
    let alerts = listed["alerts"].as_array().unwrap().clone();
    assert!(alerts.len() > 1);
    assert_eq!(
        api.call(
            "get",
            "/api/v1/alerts",
            "/api/v1/alerts?limit=0",
            viewer,
            None
        )
        .0,
        400
    );
    assert_eq!(
        api.call("get", "/api/v1/alerts", "/api/v1/alerts", None, None)
            .0,
        401
    );
    let id = alerts[0]["id"].as_str().unwrap().to_owned();
    let one = format!("/api/v1/alerts/{id}");
    assert_eq!(
        api.call("get", "/api/v1/alerts/{id}", &one, viewer, None).0,
        200
    );
    assert_eq!(
        api.call(
            "get",
            "/api/v1/alerts/{id}",
            "/api/v1/alerts/nope",
            viewer,
            None
        )
        .0,
        404
    );
    let triage = format!("/api/v1/alerts/{id}/triage");
    let ack =
        json!({"state": "acknowledged", "assignee": "alice", "comment": "looking"}).to_string();
    let ack = Some(("application/json", ack.as_bytes()));
    let close = json!({"state": "closed"}).to_string();
    let close = Some(("application/json", close.as_bytes()));
    assert_eq!(
        api.call("post", "/api/v1/alerts/{id}/triage", &triage, viewer, ack)
            .0,
        403
    );
    assert_eq!(
        api.call(
            "post",
            "/api/v1/alerts/{id}/triage",
            "/api/v1/alerts/nope/triage",
            alice,
            ack
        )
        .0,
        404
    );
    assert_eq!(
        api.call("post", "/api/v1/alerts/{id}/triage", &triage, alice, ack)
            .0,
        200
    );
    assert_eq!(
        api.call("post", "/api/v1/alerts/{id}/triage", &triage, alice, close)
            .0,
        422
    );
    let (status, trail) = api.call(
        "get",
        "/api/v1/alerts/{id}/audit",
        &format!("{one}/audit"),
        viewer,
        None,
    );
    assert_eq!(status, 200);
    assert!(!trail["audit"].as_array().unwrap().is_empty(), "{trail}");
    assert_eq!(
        api.call(
            "get",
            "/api/v1/alerts/{id}/audit",
            "/api/v1/alerts/nope/audit",
            viewer,
            None
        )
        .0,
        404
    );

    // Incidents.
    let (status, incidents) = api.call(
        "get",
        "/api/v1/incidents",
        "/api/v1/incidents",
        viewer,
        None,
    );
    assert_eq!(status, 200);
    let incident = incidents["incidents"][0]["incident"]["id"]
        .as_str()
        .expect("the corpus makes an incident")
        .to_owned();
    assert_eq!(
        api.call(
            "get",
            "/api/v1/incidents",
            "/api/v1/incidents?limit=1001",
            viewer,
            None
        )
        .0,
        400
    );
    let one = format!("/api/v1/incidents/{incident}");
    assert_eq!(
        api.call("get", "/api/v1/incidents/{id}", &one, viewer, None)
            .0,
        200
    );
    assert_eq!(
        api.call(
            "get",
            "/api/v1/incidents/{id}",
            "/api/v1/incidents/nope",
            viewer,
            None
        )
        .0,
        404
    );
    let triage = format!("{one}/triage");
    assert_eq!(
        api.call("post", "/api/v1/incidents/{id}/triage", &triage, alice, ack)
            .0,
        200
    );
    assert_eq!(
        api.call(
            "post",
            "/api/v1/incidents/{id}/triage",
            &triage,
            ingest,
            ack
        )
        .0,
        403
    );
    let closed =
        json!({"state": "closed", "verdict": "true-positive", "reason": "confirmed"}).to_string();
    let closed = Some(("application/json", closed.as_bytes()));
    assert_eq!(
        api.call(
            "post",
            "/api/v1/incidents/{id}/triage",
            &triage,
            alice,
            closed
        )
        .0,
        200
    );
    assert_eq!(
        api.call(
            "get",
            "/api/v1/incidents/{id}/audit",
            &format!("{one}/audit"),
            viewer,
            None
        )
        .0,
        200
    );
    // A closed incident goes back only to in-progress; unknown incidents are 404.
    assert_eq!(
        api.call("post", "/api/v1/incidents/{id}/triage", &triage, alice, ack)
            .0,
        422
    );
    assert_eq!(
        api.call(
            "post",
            "/api/v1/incidents/{id}/triage",
            "/api/v1/incidents/nope/triage",
            alice,
            ack
        )
        .0,
        404
    );
    assert_eq!(
        api.call(
            "get",
            "/api/v1/incidents/{id}/audit",
            "/api/v1/incidents/nope/audit",
            viewer,
            None
        )
        .0,
        404
    );
    let (_, shown) = api.call("get", "/api/v1/incidents/{id}", &one, viewer, None);
    assert!(
        !shown["incident"]["likely_next"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the knowledge graph ranks likely next techniques: {shown}"
    );
    let (status, metrics) = api.call(
        "get",
        "/api/v1/metrics/triage",
        "/api/v1/metrics/triage",
        viewer,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(metrics["incident_time_to_close"]["count"], 1, "{metrics}");

    // Rules and reloads.
    let (status, ruleset) = api.call(
        "get",
        "/api/v1/rules",
        "/api/v1/rules?limit=5",
        viewer,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(ruleset["rules"].as_array().unwrap().len(), 5);
    assert_eq!(
        api.call(
            "post",
            "/api/v1/rules/reload",
            "/api/v1/rules/reload",
            admin,
            None
        )
        .0,
        200
    );
    assert_eq!(
        api.call(
            "post",
            "/api/v1/rules/reload",
            "/api/v1/rules/reload",
            alice,
            None
        )
        .0,
        403
    );
    let tuning = dir.path().join("tuning");
    std::fs::create_dir_all(&tuning).unwrap();
    let broken = tuning.join("broken.yml");
    std::fs::write(&broken, "title: broken\ndetection: [unclosed\n").unwrap();
    // A new file that does not load is reported, and the rules that load run: the
    // reload answers 200 with the failure named (422 is for a set that cannot run).
    let (status, reloaded) = api.call(
        "post",
        "/api/v1/rules/reload",
        "/api/v1/rules/reload",
        admin,
        None,
    );
    assert_eq!(status, 200, "{reloaded}");
    assert!(
        reloaded["report"]["failures"]
            .to_string()
            .contains("broken.yml:3"),
        "{reloaded}"
    );
    std::fs::remove_file(&broken).unwrap();

    // Suppressions.
    let request = json!({"alert": id, "reason": "benign in the lab"}).to_string();
    let request = Some(("application/json", request.as_bytes()));
    let nope = json!({"alert": "nope"}).to_string();
    let nope = Some(("application/json", nope.as_bytes()));
    assert_eq!(
        api.call(
            "post",
            "/api/v1/suppressions",
            "/api/v1/suppressions",
            viewer,
            request
        )
        .0,
        403
    );
    assert_eq!(
        api.call(
            "post",
            "/api/v1/suppressions",
            "/api/v1/suppressions",
            alice,
            nope
        )
        .0,
        404
    );
    let (status, created) = api.call(
        "post",
        "/api/v1/suppressions",
        "/api/v1/suppressions",
        alice,
        request,
    );
    assert_eq!(status, 200, "{created}");
    let filter = created["id"].as_str().unwrap().to_owned();
    let (status, listed) = api.call(
        "get",
        "/api/v1/suppressions",
        "/api/v1/suppressions",
        viewer,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(listed["suppressions"][0]["id"], filter.as_str());
    let path = format!("/api/v1/suppressions/{filter}");
    assert_eq!(
        api.call("delete", "/api/v1/suppressions/{id}", &path, viewer, None)
            .0,
        403
    );
    assert_eq!(
        api.call("delete", "/api/v1/suppressions/{id}", &path, alice, None)
            .0,
        200
    );
    assert_eq!(
        api.call("delete", "/api/v1/suppressions/{id}", &path, alice, None)
            .0,
        404
    );

    // Knowledge: `attack show --json` over HTTP.
    let attack = "/api/v1/attack/{id}";
    let (status, technique) = api.call("get", attack, "/api/v1/attack/T1003.001", viewer, None);
    assert_eq!(status, 200, "{technique}");
    assert_eq!(technique["id"], "T1003.001");
    assert_eq!(technique["kind"], "technique", "{technique}");
    let (status, group) = api.call("get", attack, "/api/v1/attack/APT29", viewer, None);
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["id"], "G0016");
    let (status, d3fend) = api.call("get", attack, "/api/v1/attack/D3-PSA", viewer, None);
    assert_eq!(status, 200, "{d3fend}");
    assert_eq!(
        api.call("get", attack, "/api/v1/attack/T9999.999", viewer, None)
            .0,
        404
    );
    assert_eq!(
        api.call("get", attack, "/api/v1/attack/%20", viewer, None)
            .0,
        400
    );
    assert_eq!(
        api.call("get", attack, "/api/v1/attack/T1003", None, None)
            .0,
        401
    );
    let (status, coverage) = api.call("get", "/api/v1/coverage", "/api/v1/coverage", viewer, None);
    assert_eq!(status, 200, "{coverage}");
    assert_eq!(
        coverage["domain"], "enterprise-attack",
        "{}",
        coverage["summary"]
    );
    let summary = &coverage["summary"];
    assert_eq!(summary["rules"], ruleset["report"]["rules"], "{summary}");
    assert!(
        summary["parent_techniques_claimed"].as_u64().unwrap() > 10,
        "{summary}"
    );
    assert_eq!(
        api.call("get", "/api/v1/coverage", "/api/v1/coverage", None, None)
            .0,
        401
    );
    // What every operation can answer, provoked on each: a query parameter it does
    // not take (400, naming it), no token (401), a role that may not (403), a token
    // the store cannot read (500).
    for (method, template, path) in api.listing(400) {
        let (status, answer) = if template.starts_with("/api/v1/") {
            api.call(&method, &template, &format!("{path}?bogus=1"), admin, None)
        } else {
            // The Elasticsearch subset ignores shippers' parameters; a broken body is
            // its 400.
            api.call(&method, &template, &path, ingest, gzip)
        };
        assert_eq!(status, 400, "{method} {path}: {answer}");
        if template.starts_with("/api/v1/") {
            assert!(
                answer["error"].as_str().unwrap().contains("`bogus`"),
                "{method} {path}: the parameter is named: {answer}"
            );
        }
    }
    for (method, template, path) in api.listing(401) {
        let (status, answer) = api.call(&method, &template, &path, None, None);
        assert_eq!(status, 401, "{method} {path}: {answer}");
    }
    let ack_body = Some(("application/json", &br#"{"state":"acknowledged"}"#[..]));
    let alert_body = Some(("application/json", &br#"{"alert":"nope"}"#[..]));
    for (method, template, path) in api.listing(403) {
        // Readers may read: a reading route refuses the ingest-only token.
        let token = if method == "get" { ingest } else { viewer };
        let body = if template.ends_with("/triage") {
            ack_body
        } else if method == "post" && template == "/api/v1/suppressions" {
            alert_body
        } else {
            None
        };
        let (status, answer) = api.call(&method, &template, &path, token, body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }
    let unreadable = {
        let mut store = rampart_store::open(&server.db).unwrap();
        let (token, secret) = store.create_token(Role::Admin, "unreadable").unwrap();
        let db = rusqlite::Connection::open(&server.db).unwrap();
        db.execute(
            "UPDATE tokens SET role = 'overlord' WHERE id = ?1",
            [token.id],
        )
        .unwrap();
        secret
    };
    for (method, template, path) in api.listing(500) {
        let (status, answer) = api.call(&method, &template, &path, Some(&unreadable), None);
        assert_eq!(status, 500, "{method} {path}: {answer}");
    }

    // A second service: no knowledge graph, no tuning folder, an 8 KiB body limit, a
    // queue of 20 events, one rule of its own.
    let small_dir = tempfile::tempdir().unwrap();
    let small_rules = small_dir.path().join("rules");
    std::fs::create_dir_all(&small_rules).unwrap();
    std::fs::write(small_rules.join("marker.yml"), MARKER_RULE).unwrap();
    let small = TestServer::start_with(
        small_dir.path(),
        std::slice::from_ref(&small_rules),
        |config| {
            config.rules.tuning = None;
            config.limits.max_body_bytes = 8192;
            config.limits.queue_events = 20;
        },
    );
    let (small_admin, small_ingest, small_viewer) = (
        small.admin.clone(),
        small.ingest.clone(),
        small.viewer.clone(),
    );
    let (small_admin, small_ingest, small_viewer) = (
        Some(small_admin.as_str()),
        Some(small_ingest.as_str()),
        Some(small_viewer.as_str()),
    );
    api.base = small.url("");
    // A full queue: the store is locked by another process, so the first batch (19
    // events) waits for its commit in the queue; readiness says so (503) and every
    // ingest route refuses more (429 with Retry-After). Tokens are used once before, so
    // that checking them writes nothing while the store is locked.
    let (status, warm) = api.call(
        "post",
        "/api/v1/events",
        "/api/v1/events",
        small_ingest,
        Some(("application/x-ndjson", b"")),
    );
    assert_eq!(status, 200, "{warm}");
    let lock = rusqlite::Connection::open(&small.db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let first = {
        let url = small.url("/api/v1/events");
        let token = small.ingest.clone();
        let body = ingest_body("/api/v1/events", &marker_events(0, 19));
        std::thread::spawn(move || {
            common::call(
                agent()
                    .post(&url)
                    .set("Authorization", &format!("Bearer {token}")),
                Some(&body),
            )
        })
    };
    let waited = std::time::Instant::now();
    loop {
        let (_, ready) = common::call(agent().get(&small.url("/readyz")), None);
        if ready["queue_events"] == 19 {
            break;
        }
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(60),
            "the first batch never queued: {ready}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (status, ready) = api.call("get", "/readyz", "/readyz", None, None);
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["ready"], false, "{ready}");
    api.ingest_everywhere(
        small_ingest,
        &|op| ingest_body(op, &marker_events(100, 2)),
        429,
    );
    lock.execute_batch("ROLLBACK").unwrap();
    let (status, answer) = first.join().unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 19, "{answer}");
    assert_eq!(answer["alerts"], 19, "the marker rule fires: {answer}");

    // Bodies: over the limit (413), more events than the queue holds (422), JSON sent
    // as something else (415).
    let oversized = format!("{{\"comment\":\"{}\"}}", "a".repeat(10_000));
    api.ingest_everywhere(small_ingest, &|_| oversized.clone().into_bytes(), 413);
    let too_many = |op: &str| {
        let body = ingest_body(op, &marker_events(200, 21));
        assert!(body.len() < 8192, "{}", body.len());
        body
    };
    api.ingest_everywhere(small_ingest, &too_many, 422);
    for (template, path) in [
        ("/api/v1/alerts/{id}/triage", "/api/v1/alerts/nope/triage"),
        (
            "/api/v1/incidents/{id}/triage",
            "/api/v1/incidents/nope/triage",
        ),
        ("/api/v1/suppressions", "/api/v1/suppressions"),
    ] {
        let (status, answer) = api.call(
            "post",
            template,
            path,
            small_admin,
            Some(("application/json", oversized.as_bytes())),
        );
        assert_eq!(status, 413, "{path}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("8192"),
            "{answer}"
        );
        let (status, answer) = api.call(
            "post",
            template,
            path,
            small_admin,
            Some(("text/plain", br#"{"state":"acknowledged"}"#)),
        );
        assert_eq!(status, 415, "{path}: {answer}");
    }

    // No tuning folder: suppressions cannot be kept (422).
    assert_eq!(
        api.call(
            "get",
            "/api/v1/suppressions",
            "/api/v1/suppressions",
            small_viewer,
            None
        )
        .0,
        422
    );
    assert_eq!(
        api.call(
            "post",
            "/api/v1/suppressions",
            "/api/v1/suppressions",
            small_admin,
            alert_body
        )
        .0,
        422
    );
    assert_eq!(
        api.call(
            "delete",
            "/api/v1/suppressions/{id}",
            "/api/v1/suppressions/nope",
            small_admin,
            None
        )
        .0,
        422
    );
    // A reload that finds no rule at all is refused; the running rule stays.
    std::fs::remove_file(small_rules.join("marker.yml")).unwrap();
    let (status, refused) = api.call(
        "post",
        "/api/v1/rules/reload",
        "/api/v1/rules/reload",
        small_admin,
        None,
    );
    assert_eq!(status, 422, "{refused}");

    // No knowledge graph: the knowledge routes say so (503).
    let (status, missing) = api.call("get", attack, "/api/v1/attack/T1003", small_viewer, None);
    assert_eq!(status, 503, "{missing}");
    assert!(
        missing["error"].as_str().unwrap().contains("knowledge"),
        "{missing}"
    );
    let (status, missing) = api.call(
        "get",
        "/api/v1/coverage",
        "/api/v1/coverage",
        small_viewer,
        None,
    );
    assert_eq!(status, 503, "{missing}");

    // Stopping: once the queue is closed (as shutdown closes it), ingest is 503.
    small.state.detection.close();
    api.ingest_everywhere(
        small_ingest,
        &|op| ingest_body(op, &marker_events(300, 1)),
        503,
    );
    small.stop();

    // Every status the document lists was answered for real.
    let documented = api.documented_statuses();
    let missing: Vec<_> = documented.difference(&api.statuses).collect();
    assert!(
        missing.is_empty(),
        "documented, never answered: {missing:?}"
    );
    let undocumented: Vec<_> = api.statuses.difference(&documented).collect();
    assert!(undocumented.is_empty(), "{undocumented:?}");

    // Exactly the documented operations were called.
    let documented = api.documented();
    let called = api.called.clone();
    assert_eq!(
        called,
        documented,
        "called but not documented: {:?}; documented but not called: {:?}",
        called.difference(&documented).collect::<Vec<_>>(),
        documented.difference(&called).collect::<Vec<_>>()
    );
    server.stop();
}
