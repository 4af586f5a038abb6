//! The path both ingest targets take: the input written to a scratch file, then read
//! the way `rampart hunt` reads a file (`Input::file`, which sniffs the format, then
//! `Input::read`). The ingest crate reads paths and stdin only, and a fresh temp file
//! per input would dominate the time, so each fuzzing process rewrites one file.

use rampart_ingest::{Collector, Input, ReadOptions};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Reads `data` as a file named `rampart-fuzz-<pid>.<extension>`.
#[allow(dead_code)]
pub fn read_as_file(data: &[u8], extension: &str) {
    read_as_file_capped(data, extension, rampart_ingest::DEFAULT_MAX_LINE_BYTES);
}

/// [`read_as_file`] with lines capped at `max_line_bytes`.
pub fn read_as_file_capped(data: &[u8], extension: &str, max_line_bytes: usize) {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    let path = PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("rampart-fuzz-{}.{extension}", std::process::id()))
    });
    if std::fs::write(path, data).is_err() {
        return;
    }
    let Ok(input) = Input::file(path) else {
        return;
    };
    let options = ReadOptions {
        parallel: false,
        max_line_bytes,
        ..ReadOptions::default()
    };
    let collector = Collector::new();
    let _ = input.read(&options, &collector);
    let (events, diagnostics) = collector.into_parts();
    std::hint::black_box((events, diagnostics));
}
