//! Turning JSON lines into events: the EVTX-ATTACK-SAMPLES corpus rendered as
//! evtx_dump-style JSON lines, read whole (line splitting + the fast flattener) on one
//! thread, against the reference flattener (a `serde_json::Value` per record) and
//! against serde_json merely checking the same lines.
//!
//! `cargo bench -p rampart-ingest --bench flatten`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart_ingest::{Diagnostic, EventBatch, FieldAliases, ReadOptions, Sink};
use rampart_testkit::data_files;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Counts fields, so that no event is optimised away.
#[derive(Default)]
struct CountingSink(AtomicUsize);

impl Sink for CountingSink {
    fn events(&self, batch: EventBatch) {
        let fields = batch.events.iter().map(|event| event.fields.len()).sum();
        self.0.fetch_add(fields, Ordering::Relaxed);
    }
    fn diagnostic(&self, _: Diagnostic) {}
}

/// Every corpus record as one JSON line, the way evtx_dump writes them.
fn corpus_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for file in data_files("evtx-attack-samples", "evtx") {
        let Ok(mut parser) = evtx::EvtxParser::from_path(&file) else {
            continue;
        };
        for record in parser.records_json_value().flatten() {
            lines.push(record.data.to_string());
        }
    }
    lines
}

fn benches(c: &mut Criterion) {
    let lines = corpus_lines();
    assert!(lines.len() > 8000, "{} records", lines.len());
    let mut file = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    for line in &lines {
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    let inputs = rampart_ingest::inputs(&[file.path()], Default::default()).inputs;
    let options = ReadOptions {
        parallel: false,
        ..ReadOptions::default()
    };
    let aliases = FieldAliases::builtin();

    let mut group = c.benchmark_group("ingest");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("read_corpus_jsonl", |b| {
        b.iter(|| {
            let sink = CountingSink::default();
            for input in &inputs {
                input.read(&options, &sink).unwrap();
            }
            sink.0.into_inner()
        })
    });
    group.bench_function("reference_flatten_corpus", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter_map(|line| rampart_ingest::flatten_json_str(line, &aliases).ok())
                .map(|event| event.fields.len())
                .sum::<usize>()
        })
    });
    group.bench_function("serde_json_check_only", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|line| serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(flatten, benches);
criterion_main!(flatten);
