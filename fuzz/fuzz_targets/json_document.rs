//! Arbitrary bytes as a whole JSON file, newlines kept: JSON lines, a top-level array,
//! pretty-printed and concatenated documents, nested arrays, blank lines before the
//! first content, over-long lines (the cap is lowered to 256 bytes so that inputs the
//! fuzzer can reach cross it), bad UTF-8 and lone surrogate escapes, read the way
//! `rampart hunt` reads a file (`Input::file` then `Input::read`).
#![no_main]

mod scratch_input;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scratch_input::read_as_file_capped(data, "json", 256);
});
