//! Arbitrary bytes into the respond template renderer: a template, a NUL, an input
//! value; the renderer's promises are asserted inside.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_respond::action::template::fuzz_template(data);
});
