//! Arbitrary bytes as an HTTP ingest body: `/api/v1/events`'s JSON-lines reading and
//! `_bulk`'s action/document pairing, plain and gzip-declared.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_serve::fuzz::fuzz_ingest_body(data);
});
