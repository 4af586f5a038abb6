//! Arbitrary text into the STIX pattern parser, and what parses into `to_observables`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_intel::stix::pattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = pattern::parse(text) {
        if let Ok(alternatives) = pattern::to_observables(&parsed) {
            assert!(alternatives.len() <= pattern::MAX_ALTERNATIVES);
            assert!(alternatives.iter().all(|all_of| !all_of.is_empty()));
        }
    }
});
