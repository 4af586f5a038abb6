//! Entry points for the fuzz targets in `fuzz/`: arbitrary bytes must never panic.
//!
//! The logic lives here, not in the targets, so that ordinary unit tests exercise it on
//! stable Rust and the targets stay one-liners.

use crate::LoadOptions;
use std::path::Path;

/// Feeds arbitrary bytes to the rule loader (YAML, documents, detection, modifiers,
/// conditions). Returns how many items loaded, so the work cannot be optimised away.
pub fn fuzz_rule_parser(data: &[u8]) -> usize {
    let Ok(source) = std::str::from_utf8(data) else {
        return 0;
    };
    let (set, diagnostics) =
        crate::load_str(source, Path::new("fuzz.yml"), &LoadOptions::default());
    let loaded = set.rules.len() + set.correlations.len() + set.filters.len();
    loaded + diagnostics.len()
}

/// Feeds arbitrary bytes to the condition parser.
pub fn fuzz_condition_parser(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    crate::parse_condition(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_inputs_do_not_panic() {
        let rules: [&[u8]; 8] = [
            b"",
            b"\xff\xfe",
            b"title: x\ndetection: {condition: a}\nlogsource: {}",
            b"title: x\nlogsource: {}\ndetection:\n  a: {F|base64offset|contains|wide: [x]}\n  condition: a",
            b"---\n---\naction: repeat\n",
            b"a: &x [*x]",
            b"title: [\n",
            b"title: t\nlogsource: {}\ndetection:\n  s: {F|windash|contains: '-a -b -c -d -e -f -g -h'}\n  condition: s",
        ];
        for input in rules {
            fuzz_rule_parser(input);
        }
        let conditions: [&[u8]; 6] = [
            b"",
            b"((((",
            b"not not not",
            b"1 of",
            b"a and (b or not c)",
            b"\x00|",
        ];
        let parsed: Vec<bool> = conditions
            .iter()
            .map(|c| fuzz_condition_parser(c))
            .collect();
        assert_eq!(parsed, [false, false, false, false, true, false]);
        assert_eq!(
            fuzz_rule_parser(b"title: x\nlogsource: {}\ndetection: {s: {A: 1}, condition: s}\n"),
            1
        );
    }
}
