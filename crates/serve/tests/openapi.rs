//! The served OpenAPI document against the real service: every documented operation is
//! called with real data (SigmaHQ rules on EVTX-ATTACK-SAMPLES events, a real store),
//! each answer's body is validated with a JSON Schema 2020-12 validator against the
//! schema the document gives for that operation and status, and the operations called
//! must be exactly those the document lists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{agent, evtx_to_json_lines, TestServer};
use rampart_knowledge::Knowledge;
use rampart_serve::Limits;
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
        let text = response.into_string().unwrap();
        self.called.insert((method.to_owned(), template.to_owned()));
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
    // A service started without the knowledge graph says so.
    let bare_dir = tempfile::tempdir().unwrap();
    let bare = TestServer::start(bare_dir.path(), &[rules], Limits::default());
    let bare_viewer = bare.viewer.clone();
    api.base = bare.url("");
    let (status, missing) = api.call(
        "get",
        attack,
        "/api/v1/attack/T1003",
        Some(&bare_viewer),
        None,
    );
    assert_eq!(status, 503, "{missing}");
    assert!(
        missing["error"].as_str().unwrap().contains("knowledge"),
        "{missing}"
    );
    let (status, missing) = api.call(
        "get",
        "/api/v1/coverage",
        "/api/v1/coverage",
        Some(&bare_viewer),
        None,
    );
    assert_eq!(status, 503, "{missing}");
    bare.stop();

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
