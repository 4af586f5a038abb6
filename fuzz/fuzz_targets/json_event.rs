//! Arbitrary bytes as one JSON line, read the way `rampart hunt` reads a JSON-lines file:
//! `Input::file` then `Input::read`, so the gzip sniffing, the JSON-lines/document split,
//! the streaming flattener (`{` lines) and the `Value` path (everything else) all run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_ingest::{Collector, Input, ReadOptions};
use std::path::PathBuf;
use std::sync::OnceLock;

/// One scratch file per fuzzing process, rewritten for every input: the ingest crate
/// reads files and stdin only, and a fresh temp file per run would dominate the time.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("rampart-fuzz-json-{}.jsonl", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    // One line: newlines would make this a JSON-lines file of several events, which
    // the reader handles line by line anyway; keeping one line keeps inputs focused.
    let line: Vec<u8> = data
        .iter()
        .map(|&byte| if byte == b'\n' { b' ' } else { byte })
        .collect();
    let path = scratch();
    if std::fs::write(path, &line).is_err() {
        return;
    }
    let Ok(input) = Input::file(path) else {
        return;
    };
    let options = ReadOptions {
        parallel: false,
        ..ReadOptions::default()
    };
    let collector = Collector::new();
    let _ = input.read(&options, &collector);
    let (events, diagnostics) = collector.into_parts();
    std::hint::black_box((events, diagnostics));
});
