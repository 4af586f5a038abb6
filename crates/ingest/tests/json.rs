#![allow(clippy::unwrap_used, clippy::expect_used)]
//! JSON inputs: lines, gzip, pretty documents, Winlogbeat/ECS shape, user aliases.

mod common;

use common::{read_input, read_path, sorted_fields};
use flate2::write::GzEncoder;
use rampart_event::{Event, Value};
use rampart_ingest::{FieldAliases, Input, Place, ReadOptions};
use rampart_testkit::data_path;
use serde_json::{json, Value as Json};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// A regression sample's evtx_dump documents (several records, pretty-printed).
fn sample_documents() -> (Vec<Json>, std::path::PathBuf) {
    let dir = data_path(
        "sigma/regression_data/rules/windows/process_creation/proc_creation_win_renamed_binary",
    );
    let json = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let text = std::fs::read_to_string(&json).unwrap();
    let docs: Vec<Json> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Json>()
        .map(Result::unwrap)
        .collect();
    assert!(!docs.is_empty());
    (docs, json)
}

fn compact_lines(docs: &[Json]) -> String {
    docs.iter().map(|d| format!("{d}\n")).collect()
}

fn read_file(path: &Path) -> (Vec<Event>, Vec<rampart_ingest::Diagnostic>) {
    let (events, diagnostics, _) = read_input(&Input::file(path).unwrap(), &ReadOptions::default());
    (events, diagnostics)
}

#[test]
fn json_lines_pretty_documents_and_gzip_agree() {
    let (docs, pretty) = sample_documents();
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("events.jsonl");
    std::fs::write(&lines, compact_lines(&docs)).unwrap();
    let gz = dir.path().join("events.jsonl.gz");
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(compact_lines(&docs).as_bytes()).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();

    let (from_pretty, d0) = read_path(&pretty);
    let (from_lines, d1) = read_file(&lines);
    let (from_gz, d2) = read_file(&gz);
    assert!(d0.is_empty() && d1.is_empty() && d2.is_empty());
    assert_eq!(from_lines.len(), docs.len());
    for ((a, b), c) in from_pretty.iter().zip(&from_lines).zip(&from_gz) {
        assert_eq!(sorted_fields(a), sorted_fields(b));
        assert_eq!(sorted_fields(b), sorted_fields(c));
        assert_eq!(a.meta.record_id, b.meta.record_id);
    }
}

#[test]
fn malformed_and_truncated_lines_are_diagnostics_and_the_rest_is_read() {
    let (docs, _) = sample_documents();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.jsonl");
    let good = compact_lines(&docs);
    let last = docs[0].to_string();
    // Line 2 is broken, line 3 blank, and the last line is cut short.
    let text = format!(
        "{}{{\"Event\": oops}}\n\n{}{}",
        compact_lines(&docs[..1]),
        good,
        &last[..last.len() / 2]
    );
    std::fs::write(&path, text).unwrap();
    let (events, diagnostics) = read_file(&path);
    assert_eq!(events.len(), docs.len() + 1);
    let places: Vec<Place> = diagnostics.iter().map(|d| d.place).collect();
    let last_line = 3 + docs.len() as u64 + 1;
    assert_eq!(
        places,
        vec![Place::Line(2), Place::Line(last_line)],
        "{diagnostics:?}"
    );
    assert!(diagnostics[0]
        .to_string()
        .contains("damaged.jsonl:2: line skipped: malformed JSON"));
}

#[test]
fn winlogbeat_events_get_sigma_names() {
    let (docs, _) = sample_documents();
    let evtx_style = rampart_ingest::flatten_json(&docs[0], &FieldAliases::builtin());
    let system = &docs[0]["Event"]["System"];
    let winlogbeat = json!({
        "@timestamp": system["TimeCreated"]["#attributes"]["SystemTime"],
        "event": {"code": system["EventID"].to_string(), "kind": "event"},
        "host": {"name": "ecs-normalised-name"},
        "winlog": {
            "channel": system["Channel"],
            "computer_name": system["Computer"],
            "event_id": system["EventID"],
            "record_id": system["EventRecordID"],
            "provider_name": system["Provider"]["#attributes"]["Name"],
            "event_data": docs[0]["Event"]["EventData"],
        }
    });
    let ecs = rampart_ingest::flatten_json(&winlogbeat, &FieldAliases::builtin());
    for (name, value) in &evtx_style.fields {
        if docs[0]["Event"]["EventData"].get(&**name).is_some() {
            assert_eq!(ecs.get(name), Some(value), "{name}");
        }
    }
    for name in ["EventID", "Channel", "Computer", "Provider_Name"] {
        assert_eq!(ecs.get(name), evtx_style.get(name), "{name}");
    }
    assert_eq!(ecs.meta.event_id, evtx_style.meta.event_id);
    assert_eq!(ecs.meta.record_id, evtx_style.meta.record_id);
    assert_eq!(ecs.meta.timestamp, evtx_style.meta.timestamp);
    assert_eq!(ecs.get("event.kind").and_then(Value::as_str), Some("event"));
}

#[test]
fn user_alias_file_takes_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let aliases = dir.path().join("aliases.yml");
    std::fs::write(
        &aliases,
        "fields:\n  proc.cmd: CommandLine\n  host.name: Hostname\nstrip_prefixes: [data.]\n",
    )
    .unwrap();
    let aliases = FieldAliases::with_user_file(&aliases).unwrap();
    let event = rampart_ingest::flatten_json(
        &json!({"proc": {"cmd": "whoami /all"}, "host": {"name": "h"}, "data": {"Image": "x.exe"}}),
        &aliases,
    );
    assert_eq!(
        event.get("CommandLine").and_then(Value::as_str),
        Some("whoami /all")
    );
    assert_eq!(event.get("Hostname").and_then(Value::as_str), Some("h"));
    assert_eq!(event.get("Computer"), None);
    assert_eq!(event.get("Image").and_then(Value::as_str), Some("x.exe"));

    let broken = dir.path().join("broken.yml");
    std::fs::write(&broken, "fields: [unclosed\n").unwrap();
    let error = FieldAliases::with_user_file(&broken)
        .unwrap_err()
        .to_string();
    assert!(error.contains("broken.yml"), "{error}");
}

#[test]
fn sequential_and_parallel_reads_agree_on_a_large_file() {
    let (docs, _) = sample_documents();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let lines = compact_lines(&docs);
    std::fs::write(&path, lines.repeat(20_000 / docs.len() + 1)).unwrap();
    let input = Input::file(&path).unwrap();
    let sequential = ReadOptions {
        parallel: false,
        ..ReadOptions::default()
    };
    let parallel = ReadOptions {
        aliases: Arc::new(FieldAliases::builtin()),
        ..ReadOptions::default()
    };
    let (a, _, stats) = read_input(&input, &sequential);
    let (b, _, _) = read_input(&input, &parallel);
    assert!(a.len() > 20_000);
    assert_eq!(stats.bytes, std::fs::metadata(&path).unwrap().len());
    assert!(a.iter().zip(&b).all(|(x, y)| x == y));
    assert_eq!(a.len(), b.len());
}
