//! Arbitrary bytes into the Sigma rule loader: YAML, documents, modifiers, conditions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_sigma::fuzz_rule_parser(data);
});
