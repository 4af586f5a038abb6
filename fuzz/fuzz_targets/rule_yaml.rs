//! Rules whose YAML is anchors, aliases and nesting built from the input bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rampart_sigma::fuzz_rule_yaml(data);
});
