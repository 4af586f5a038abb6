//! Arbitrary bytes as an EVTX file, read the way `rampart hunt` reads one: `Input::file`
//! (which sniffs the signature; the `.evtx` name makes every input EVTX) then
//! `Input::read`, i.e. the `evtx` crate's header, chunk and record parsing plus our
//! flattening of each rendered record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_ingest::{Collector, Input, ReadOptions};
use std::path::PathBuf;
use std::sync::OnceLock;

/// One scratch file per fuzzing process, rewritten for every input: the EVTX reader
/// takes a path only.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("rampart-fuzz-{}.evtx", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(path, data).is_err() {
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
