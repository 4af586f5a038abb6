//! Arbitrary bytes as one JSON line, read the way `rampart hunt` reads a JSON-lines file:
//! `Input::file` then `Input::read`, so the gzip sniffing, the JSON-lines/document split,
//! the streaming flattener (`{` lines) and the `Value` path (everything else) all run.
#![no_main]

mod scratch_input;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One line: newlines would make this a JSON-lines file of several events, which
    // the reader handles line by line anyway; keeping one line keeps inputs focused.
    let line: Vec<u8> = data
        .iter()
        .map(|&byte| if byte == b'\n' { b' ' } else { byte })
        .collect();
    scratch_input::read_as_file(&line, "jsonl");
});
