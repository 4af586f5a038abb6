#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hostile JSON input: shapes an attacker chooses to make a read slow, unbounded or
//! lossy. Each test names the attack it holds off.

mod common;

use common::read_input;
use rampart_event::Value;
use rampart_ingest::{Input, ReadOptions};
use std::path::Path;
use std::time::{Duration, Instant};

/// One JSON line of an object with `keys` distinct keys (plus `tail`, raw members
/// appended after them).
fn wide_object(keys: usize, tail: &str) -> String {
    let mut line = String::from("{");
    for key in 0..keys {
        line.push_str(&format!("\"field{key}\":\"value{key}\","));
    }
    line.push_str(tail);
    line.push_str("}\n");
    line
}

/// The quickest of five reads of `text` as a file, with the single event it holds.
fn timed_read(dir: &Path, text: &str) -> (Duration, rampart_event::Event) {
    let path = dir.join("wide.jsonl");
    std::fs::write(&path, text).unwrap();
    let input = Input::file(&path).unwrap();
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        let (mut events, diagnostics, _) = read_input(&input, &ReadOptions::default());
        best = best.min(started.elapsed());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(events.len(), 1);
        last = events.pop();
    }
    (best, last.unwrap())
}

/// Reading an object of many keys costs time linear in its keys: four times the keys
/// take about four times as long (sixteen if each key were compared with all the
/// keys before it), on the streaming path and on the reference path that a repeated
/// key sends a record to.
#[test]
fn many_keys_cost_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    for tail in ["\"last\":1", "\"field0\":\"again\""] {
        let (small, _) = timed_read(dir.path(), &wide_object(10_000, tail));
        let (large, event) = timed_read(dir.path(), &wide_object(40_000, tail));
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
        assert!(
            ratio < 10.0,
            "{tail}: 10k keys {small:?}, 40k keys {large:?} (ratio {ratio:.1})"
        );
        assert_eq!(
            event.get("field39999"),
            Some(&Value::Str("value39999".into()))
        );
    }
}

/// A repeated key keeps its last value at its first place, however wide the object.
#[test]
fn repeated_keys_keep_the_last_value_in_wide_objects() {
    let dir = tempfile::tempdir().unwrap();
    let (_, event) = timed_read(dir.path(), &wide_object(100, "\"field7\":\"again\""));
    assert_eq!(event.fields.len(), 100);
    assert_eq!(event.fields[7].0, "field7");
    assert_eq!(event.get("field7"), Some(&Value::Str("again".into())));
    let nested = "{\"a\":{\"x\":1,\"y\":2},\"a\":{\"x\":3},\"b\":4}\n";
    let (_, event) = timed_read(dir.path(), nested);
    assert_eq!(event.get("a.x"), Some(&Value::Int(3)));
    assert_eq!(event.get("a.y"), None);
    assert_eq!(event.get("b"), Some(&Value::Int(4)));
}
