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

/// The single event of `text` read as a file, and the time the read took.
fn timed_read(dir: &Path, text: &str) -> (Duration, rampart_event::Event) {
    let path = dir.join("wide.jsonl");
    std::fs::write(&path, text).unwrap();
    let input = Input::file(&path).unwrap();
    let started = Instant::now();
    let (mut events, diagnostics, _) = read_input(&input, &ReadOptions::default());
    let elapsed = started.elapsed();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(events.len(), 1);
    (elapsed, events.pop().unwrap())
}

/// Reading an object of many keys costs time linear in its keys: eight times the keys
/// take about eight times as long (sixty-four if each key were compared with all the
/// keys before it; the bound sits between the two, far enough from both that a
/// machine busy with other work does not fail it), on the streaming path and on the reference path that a repeated
/// key sends a record to.
#[test]
fn many_keys_cost_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    for tail in ["\"last\":1", "\"field0\":\"again\""] {
        let (small_text, large_text) = (wide_object(10_000, tail), wide_object(80_000, tail));
        // The quickest of seven reads of each, taken in turns: a busy machine slows
        // both alike.
        let (mut small, mut large) = (Duration::MAX, Duration::MAX);
        let mut event = None;
        for _ in 0..7 {
            small = small.min(timed_read(dir.path(), &small_text).0);
            let (time, read) = timed_read(dir.path(), &large_text);
            (large, event) = (large.min(time), Some(read));
        }
        let event = event.unwrap();
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
        assert!(
            ratio < 24.0,
            "{tail}: 10k keys {small:?}, 80k keys {large:?} (ratio {ratio:.1})"
        );
        assert_eq!(
            event.get("field79999"),
            Some(&Value::Str("value79999".into()))
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

/// Options with a small line cap, so that tests prove the cap with small inputs.
fn capped(max_line_bytes: usize) -> ReadOptions {
    ReadOptions {
        max_line_bytes,
        ..ReadOptions::default()
    }
}

fn read_text(dir: &Path, name: &str, text: &[u8], options: &ReadOptions) -> Outcome {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let (events, diagnostics, stats) = read_input(&Input::file(&path).unwrap(), options);
    Outcome {
        events,
        diagnostics: diagnostics.iter().map(ToString::to_string).collect(),
        stats,
    }
}

struct Outcome {
    events: Vec<rampart_event::Event>,
    diagnostics: Vec<String>,
    stats: rampart_ingest::ReadStats,
}

const EVENT: &str = r#"{"EventID":1,"Image":"C:\\evil.exe"}"#;

/// A line longer than the cap is skipped with a diagnostic naming its line, wherever
/// it is (first, in the middle, last without a newline), and the lines around it are
/// read as usual.
#[test]
fn over_long_lines_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{{\"pad\":\"{}\"}}", "x".repeat(5000));
    for (lines, bad_line) in [
        (vec![EVENT, &long, EVENT], 2),
        (vec![&long, EVENT, EVENT], 1),
        (vec![EVENT, EVENT, &long], 3),
    ] {
        let text = lines.join("\n");
        let outcome = read_text(dir.path(), "long.jsonl", text.as_bytes(), &capped(1024));
        assert_eq!(outcome.events.len(), 2, "{:?}", outcome.diagnostics);
        assert_eq!(outcome.stats.records_skipped, 1);
        assert_eq!(outcome.diagnostics.len(), 1, "{:?}", outcome.diagnostics);
        let expected = format!("long.jsonl:{bad_line}: line skipped: longer than 1024 bytes");
        assert!(
            outcome.diagnostics[0].ends_with(&expected),
            "{:?}",
            outcome.diagnostics
        );
    }
    // At the default cap the same line is read.
    let text = format!("{EVENT}\n{long}\n{EVENT}\n");
    let outcome = read_text(
        dir.path(),
        "long.jsonl",
        text.as_bytes(),
        &ReadOptions::default(),
    );
    assert_eq!(outcome.events.len(), 3);
}

/// Peak resident memory of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .unwrap();
    kib * 1024
}

/// Runs `workload` in a child process (this test binary, running only `test`) and
/// returns the child's peak resident memory: the parent's own allocations and other
/// tests do not count.
fn peak_rss_in_child(test: &str, workload: impl FnOnce()) -> u64 {
    const CHILD: &str = "RAMPART_HOSTILE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        workload();
        println!("\npeak-rss={}", peak_rss());
        return 0;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    stdout
        .lines()
        .find_map(|line| line.split("peak-rss=").nth(1))
        .and_then(|bytes| bytes.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak in {stdout}"))
}

/// Writes `parts` (each repeated its count of times) gzip-compressed to `path`, a
/// piece at a time: hundreds of megabytes of text compress to a few hundred KB.
fn write_gzip(path: &Path, parts: &[(&[u8], usize)]) {
    use std::io::Write;
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for (piece, count) in parts {
        for _ in 0..*count {
            encoder.write_all(piece).unwrap();
        }
    }
    encoder.finish().unwrap();
}

const MIB: usize = 1 << 20;

/// 256 MiB of blank lines, then one event: the event is read, under its own line
/// number, and the blank lines are never held (the whole read peaks far below them).
#[test]
fn blank_lines_are_not_accumulated() {
    let blank_lines = 256 * MIB;
    let peak = peak_rss_in_child("blank_lines_are_not_accumulated", || {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blank.jsonl.gz");
        let newlines = vec![b'\n'; MIB];
        write_gzip(
            &path,
            &[(&newlines, blank_lines / MIB), (EVENT.as_bytes(), 1)],
        );
        let (events, diagnostics, _) =
            read_input(&Input::file(&path).unwrap(), &ReadOptions::default());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].meta.record_id, Some(blank_lines as u64 + 1));
    });
    assert!(peak < 96 * MIB as u64, "peak {peak} bytes");
}

/// One 256 MiB line, then an event: the line is read through to its end in bounded
/// memory, skipped and reported; the event after it is read.
#[test]
fn an_over_long_line_is_never_buffered_whole() {
    let peak = peak_rss_in_child("an_over_long_line_is_never_buffered_whole", || {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.jsonl.gz");
        let padding = vec![b'x'; MIB];
        write_gzip(
            &path,
            &[
                (b"{\"pad\":\"", 1),
                (&padding, 256),
                (b"\"}\n", 1),
                (EVENT.as_bytes(), 1),
            ],
        );
        let (events, diagnostics, stats) = read_input(&Input::file(&path).unwrap(), &capped(MIB));
        assert_eq!(events.len(), 1, "{diagnostics:?}");
        assert_eq!(events[0].meta.record_id, Some(2));
        assert_eq!(stats.records_skipped, 1);
    });
    assert!(peak < 96 * MIB as u64, "peak {peak} bytes");
}

/// NUL bytes do not make a JSON-lines file "binary": a line that is not JSON is a
/// diagnostic and every other line is read.
#[test]
fn nul_bytes_do_not_hide_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("\0\0\0 garbage\n{EVENT}\n{{\"a\":\"nul \\u0000 inside\"}}\n{EVENT}\n");
    let outcome = read_text(
        dir.path(),
        "nul.jsonl",
        text.as_bytes(),
        &ReadOptions::default(),
    );
    assert_eq!(outcome.events.len(), 3, "{:?}", outcome.diagnostics);
    assert_eq!(outcome.stats.records_skipped, 1);
    assert_eq!(outcome.diagnostics.len(), 1);
    assert!(outcome.diagnostics[0].contains("nul.jsonl:1: line skipped"));
}

/// Invalid UTF-8 and lone surrogate escapes are decoded lossily (U+FFFD): the event
/// is kept, with one diagnostic per record.
#[test]
fn bad_text_is_decoded_lossily_and_the_event_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = Vec::new();
    text.extend_from_slice(b"{\"EventID\":1,\"Image\":\"C:\\\\ev\xffil\xfe.exe\"}\n");
    text.extend_from_slice(b"{\"EventID\":2,\"Image\":\"lone \\ud800 and \\udc00 \\\\ud800\"}\n");
    text.extend_from_slice(b"{\"EventID\":3,\"Image\":\"pair \\ud83d\\ude00\"}\n");
    let mut outcome = read_text(dir.path(), "bytes.jsonl", &text, &ReadOptions::default());
    // Blocks are parsed in parallel: diagnostics come in any order.
    outcome.diagnostics.sort();
    assert_eq!(outcome.events.len(), 3, "{:?}", outcome.diagnostics);
    let image = |n: usize| outcome.events[n].get("Image").cloned();
    assert_eq!(
        image(0),
        Some(Value::Str("C:\\ev\u{fffd}il\u{fffd}.exe".into()))
    );
    assert_eq!(
        image(1),
        Some(Value::Str("lone \u{fffd} and \u{fffd} \\ud800".into()))
    );
    assert_eq!(image(2), Some(Value::Str("pair \u{1f600}".into())));
    assert_eq!(outcome.stats.records_skipped, 0);
    assert_eq!(outcome.diagnostics.len(), 2, "{:?}", outcome.diagnostics);
    assert!(
        outcome.diagnostics[0].contains("bytes.jsonl:1: invalid UTF-8"),
        "{:?}",
        outcome.diagnostics
    );
    assert!(outcome.diagnostics[1].contains("bytes.jsonl:2: lone surrogate"));
}

/// Records the largest batch a read delivers.
#[derive(Default)]
struct BatchSizes {
    largest: std::sync::atomic::AtomicUsize,
    events: std::sync::atomic::AtomicUsize,
}

impl rampart_ingest::Sink for BatchSizes {
    fn events(&self, batch: rampart_ingest::EventBatch) {
        use std::sync::atomic::Ordering::Relaxed;
        self.largest.fetch_max(batch.events.len(), Relaxed);
        self.events.fetch_add(batch.events.len(), Relaxed);
    }
    fn diagnostic(&self, diagnostic: rampart_ingest::Diagnostic) {
        panic!("{diagnostic}");
    }
}

/// A JSON array file and pretty-printed concatenated documents stream element by
/// element: batches stay small whatever the number of events, so memory is bounded by
/// a few batches, not by the file.
#[test]
fn json_arrays_and_documents_stream_in_small_batches() {
    let dir = tempfile::tempdir().unwrap();
    let events = 5000;
    let objects: Vec<String> = (0..events)
        .map(|n| format!("{{\"EventID\":{n},\"Image\":\"a.exe\"}}"))
        .collect();
    let array = format!("[\n{}\n]\n", objects.join(",\n"));
    let pretty: String = objects
        .iter()
        .map(|object| format!("{{\n  \"Nested\": {object}\n}}\n"))
        .collect();
    let nested_arrays = format!("[[{}], []] [{}]", objects[..10].join(","), objects[10]);
    for (name, text, expected) in [
        ("array.json", array, events),
        ("pretty.json", pretty, events),
        ("nested.json", nested_arrays, 11),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let sizes = BatchSizes::default();
        Input::file(&path)
            .unwrap()
            .read(&ReadOptions::default(), &sizes)
            .unwrap();
        let largest = sizes.largest.into_inner();
        assert_eq!(sizes.events.into_inner(), expected, "{name}");
        assert!(largest <= 64, "{name}: a batch of {largest} events");
    }
}
