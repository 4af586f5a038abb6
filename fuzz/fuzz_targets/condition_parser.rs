//! Arbitrary bytes into the Sigma condition parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_sigma::fuzz_condition_parser(data);
});
