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

/// Builds a rule whose extra attribute is a list of anchored flow collections from
/// arbitrary bytes, so that anchors, aliases (of earlier, enclosing or unknown
/// anchors) and nesting are what the fuzzer varies, then loads it. Plain bytes almost
/// never spell a valid alias chain; this target makes every input one. Each input
/// line is one list item; each byte, read modulo 5: open a collection, close one,
/// alias an anchor (chosen by the byte), a scalar, or open an anchored collection.
/// Returns the loaded items plus diagnostics.
pub fn fuzz_rule_yaml(data: &[u8]) -> usize {
    fuzz_rule_parser(rule_yaml_text(data).as_bytes())
}

/// The rule text [`fuzz_rule_yaml`] builds from `data`.
fn rule_yaml_text(data: &[u8]) -> String {
    let mut text = String::from(
        "title: t\nlogsource: {product: windows}\ndetection:\n    sel:\n        Image|endswith: &a0 ['.exe', x]\n    other:\n        CommandLine|contains: *a0\n    condition: sel or other\nextra:\n",
    );
    let mut anchors = 1usize;
    for line in data.split(|&byte| byte == b'\n').take(256) {
        text.push_str(&format!("    - &a{anchors} ["));
        anchors += 1;
        let mut open = 1usize;
        let mut after_item = false;
        for &byte in line {
            let separate = |text: &mut String, after_item: bool| {
                if after_item {
                    text.push_str(", ");
                }
            };
            match byte % 5 {
                0 => {
                    separate(&mut text, after_item);
                    text.push('[');
                    open += 1;
                    after_item = false;
                }
                1 if open > 1 => {
                    text.push(']');
                    open -= 1;
                    after_item = true;
                }
                2 => {
                    separate(&mut text, after_item);
                    text.push_str(&format!("*a{}", usize::from(byte / 5) % anchors));
                    after_item = true;
                }
                3 => {
                    separate(&mut text, after_item);
                    text.push_str("lol");
                    after_item = true;
                }
                _ => {
                    separate(&mut text, after_item);
                    text.push_str(&format!("&a{anchors} ["));
                    anchors += 1;
                    open += 1;
                    after_item = false;
                }
            }
        }
        text.push_str(&"]".repeat(open));
        text.push('\n');
    }
    text
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

    #[test]
    fn generated_alias_rules_load_or_are_one_diagnostic() {
        let outcome = |data: &[u8]| {
            let text = rule_yaml_text(data);
            let (set, diagnostics) =
                crate::load_str(&text, Path::new("fuzz.yml"), &LoadOptions::default());
            let kinds: Vec<_> = diagnostics.iter().map(|d| d.kind).collect();
            (set.rules.len(), kinds)
        };
        // No bytes, short aliases: the rule loads.
        assert_eq!(outcome(b""), (1, vec![]));
        assert_eq!(outcome(b"\x03\x02\x00\x03\x01"), (1, vec![]));
        // Nine lines of nine aliases of the line before: a billion laughs.
        let laughs: Vec<u8> = (0..9u8)
            .flat_map(|line| {
                let alias = 2 + 5 * line; // `*a{line}`: the line before
                std::iter::repeat_n(alias, 9).chain([b'\n'])
            })
            .collect();
        let yaml = crate::DiagnosticKind::Yaml;
        assert_eq!(outcome(&laughs), (0, vec![yaml]));
        // A line nesting 100 collections: too deep.
        assert_eq!(outcome(&[0; 100]), (0, vec![yaml]));
        assert_eq!(fuzz_rule_yaml(&[0; 100]), 1);
    }
}
