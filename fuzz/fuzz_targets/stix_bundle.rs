//! Arbitrary bytes as a STIX bundle: the object-by-object reader, relationships and
//! patterns of whatever indicators it holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(feed) = rampart_intel::stix::read_bundle_bytes(data, "fuzz") {
        assert!(feed.indicators.iter().all(|indicator| !indicator.all_of.is_empty()));
    }
});
