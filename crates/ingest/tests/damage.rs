#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Damaged inputs: each problem is a diagnostic naming its place, and nothing else is lost.

mod common;

use common::read_input;
use rampart_ingest::{Diagnostic, EventBatch, Input, Place, ReadOptions, Sink};
use rampart_testkit::data_path;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const CHUNK: u64 = 65536;
const HEADER: u64 = 4096;

/// Keeps the size of each batch by its sequence number: one EVTX batch is one chunk.
#[derive(Default)]
struct BatchSizes(Mutex<Vec<(u64, usize)>>, Mutex<Vec<Diagnostic>>);

impl Sink for BatchSizes {
    fn events(&self, batch: EventBatch) {
        self.0.lock().unwrap().push((batch.seq, batch.events.len()));
    }
    fn diagnostic(&self, diagnostic: Diagnostic) {
        self.1.lock().unwrap().push(diagnostic);
    }
}

/// Events per chunk of a clean file, in chunk order.
fn events_per_chunk(path: &Path) -> Vec<usize> {
    let sink = BatchSizes::default();
    Input::file(path)
        .unwrap()
        .read(&ReadOptions::default(), &sink)
        .unwrap();
    let mut sizes = sink.0.into_inner().unwrap();
    sizes.sort();
    assert!(sink.1.into_inner().unwrap().is_empty());
    sizes.into_iter().map(|(_, n)| n).collect()
}

/// A copy of a real multi-chunk sample in a temporary directory.
fn sample_copy(dir: &Path) -> PathBuf {
    let source = data_path("evtx-attack-samples/Lateral Movement/LM_5145_Remote_FileCopy.evtx");
    let copy = dir.join("sample.evtx");
    std::fs::copy(source, &copy).unwrap();
    copy
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let mut data = std::fs::read(path).unwrap();
    data[offset as usize..offset as usize + bytes.len()].copy_from_slice(bytes);
    std::fs::write(path, data).unwrap();
}

#[test]
fn garbled_chunk_header_loses_only_that_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_copy(dir.path());
    let clean = events_per_chunk(&path);
    assert!(clean.len() >= 3 && clean[1] > 0, "{clean:?}");
    patch(&path, HEADER + CHUNK, b"XXXXXXXX");

    let (events, diagnostics, stats) =
        read_input(&Input::file(&path).unwrap(), &ReadOptions::default());
    assert_eq!(events.len(), clean.iter().sum::<usize>() - clean[1]);
    assert_eq!(stats.events as usize, events.len());
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].place, Place::Chunk(1));
    assert!(
        diagnostics[0]
            .to_string()
            .contains("sample.evtx:chunk 1: chunk skipped"),
        "{}",
        diagnostics[0]
    );
}

#[test]
fn garbled_records_are_reported_and_the_other_chunks_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_copy(dir.path());
    let clean = events_per_chunk(&path);
    // Overwrite a stretch in the middle of chunk 0's records.
    patch(&path, HEADER + 512 + 3000, &[0xff; 400]);

    let (events, diagnostics, _) =
        read_input(&Input::file(&path).unwrap(), &ReadOptions::default());
    assert!(!diagnostics.is_empty());
    assert!(
        diagnostics
            .iter()
            .all(|d| matches!(d.place, Place::Record { chunk: 0, .. } | Place::Chunk(0))),
        "{diagnostics:?}"
    );
    let others: usize = clean[1..].iter().sum();
    assert!(
        events.len() >= others && events.len() < clean.iter().sum::<usize>(),
        "{} vs {clean:?}",
        events.len()
    );
}

#[test]
fn truncated_file_keeps_its_whole_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_copy(dir.path());
    let clean = events_per_chunk(&path);
    let data = std::fs::read(&path).unwrap();
    std::fs::write(&path, &data[..(HEADER + 2 * CHUNK + 1000) as usize]).unwrap();

    let (events, diagnostics, _) =
        read_input(&Input::file(&path).unwrap(), &ReadOptions::default());
    assert_eq!(events.len(), clean[0] + clean[1]);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].place, Place::Chunk(2));
    assert!(diagnostics[0].message.contains("truncated"));
}

#[test]
fn garbled_file_header_is_an_error_for_that_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_copy(dir.path());
    patch(&path, 0, b"NotEvtx!");
    let input = Input::file(&path).unwrap();
    let error = input.read(&ReadOptions::default(), &rampart_ingest::Collector::new());
    assert!(error
        .unwrap_err()
        .to_string()
        .contains("sample.evtx: not a readable EVTX file"));
}

/// Binary bytes are read as lines like any others (NUL bytes never make a file
/// "binary" and skipped: an attacker could hide events behind one); each line that is
/// not JSON is a diagnostic, up to the cap.
#[test]
fn binary_garbage_is_reported_per_line_up_to_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.json");
    let bytes: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let (events, diagnostics, _) =
        read_input(&Input::file(&path).unwrap(), &ReadOptions::default());
    assert!(events.is_empty());
    let options = ReadOptions::default();
    assert!(diagnostics.len() as u64 <= options.max_diagnostics + 1);
    assert!(diagnostics
        .iter()
        .any(|d| matches!(d.place, Place::Line(_))));
}

#[test]
fn text_garbage_is_reported_per_line_up_to_a_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.jsonl");
    let text: String = (0..500).map(|i| format!("not json {i}\n")).collect();
    std::fs::write(&path, text).unwrap();
    let options = ReadOptions {
        max_diagnostics: 10,
        ..ReadOptions::default()
    };
    let (events, diagnostics, stats) = read_input(&Input::file(&path).unwrap(), &options);
    assert!(events.is_empty());
    assert_eq!(stats.diagnostics, 500);
    assert_eq!(diagnostics.len(), 11);
    assert!(diagnostics
        .iter()
        .any(|d| d.message.contains("490 more problems")));
}

/// Consumers release results in input order by counting batches, so a block of
/// garbage lines must still deliver its (empty) batch.
#[test]
fn every_batch_sequence_number_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    let good: String = (0..2048)
        .map(|i| format!("{{\"EventID\": {i}}}\n"))
        .collect();
    let bad: String = (0..3 * 2048).map(|i| format!("garbage {i}\n")).collect();
    std::fs::write(&path, format!("{good}{bad}{good}")).unwrap();
    let sink = BatchSizes::default();
    let options = ReadOptions {
        max_diagnostics: 5,
        ..ReadOptions::default()
    };
    Input::file(&path).unwrap().read(&options, &sink).unwrap();
    let mut sizes = sink.0.into_inner().unwrap();
    sizes.sort();
    let seqs: Vec<u64> = sizes.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        (0..sizes.len() as u64).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );
    assert!(
        sizes.iter().filter(|(_, n)| *n == 0).count() >= 1,
        "{sizes:?}"
    );
    assert_eq!(sizes.iter().map(|(_, n)| n).sum::<usize>(), 4096);
}
