//! Arbitrary bytes as one JSON text: the hand-written fast path, the serde stream and
//! the reference flattener must build the same event (or all refuse the text), so a
//! record the fast path reads differently fails the run.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_ingest::fuzz_json_flatteners_agree(data);
});
