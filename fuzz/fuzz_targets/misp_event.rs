//! Arbitrary bytes as MISP event JSON: both envelopes, attributes, objects, galaxies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(feed) = rampart_intel::misp::read_event_bytes(data, "fuzz") {
        assert!(feed.indicators.iter().all(|indicator| indicator.all_of.len() == 1));
    }
});
