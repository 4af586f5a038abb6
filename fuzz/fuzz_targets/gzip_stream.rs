//! Arbitrary bytes as a gzip-compressed JSON input: the first byte chooses between the
//! rest compressed as a valid gzip stream (so the fuzzer explores what the decoder
//! hands the JSON reader: lines, arrays, documents, over-long lines) and the rest
//! behind the gzip magic as they are (corrupt headers, truncated or concatenated
//! members, bad checksums).
#![no_main]

mod scratch_input;

use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let stream = if mode & 1 == 0 {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if encoder.write_all(rest).is_err() {
            return;
        }
        match encoder.finish() {
            Ok(stream) => stream,
            Err(_) => return,
        }
    } else {
        let mut stream = vec![0x1f, 0x8b];
        stream.extend_from_slice(rest);
        stream
    };
    scratch_input::read_as_file_capped(&stream, "jsonl.gz", 256);
});
