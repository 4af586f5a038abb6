//! Hostile input on every `cargo test`: thousands of deterministic mutations of real
//! feeds and patterns through the readers (the fuzz targets' inputs, without
//! libFuzzer). Each must give a feed or an error, never a panic, and what it gives
//! must hold the readers' invariants.

use rampart_intel::stix::pattern::{parse, to_observables, MAX_ALTERNATIVES};
use rampart_intel::{misp, stix, Feed};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to JSON and to the patterns inside it.
const INTERESTING: &[u8] = b"{}[]():,.'\"\\0123456789-+ eEtfnh|/@";

/// One to four random edits: a byte replaced, deleted, inserted or a run duplicated,
/// or the input cut short.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len());
        match rng.below(5) {
            0 => {
                if let Some(byte) = out.get_mut(at) {
                    *byte = INTERESTING[rng.below(INTERESTING.len())];
                }
            }
            1 => {
                if at < out.len() {
                    out.remove(at);
                }
            }
            2 => out.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 => {
                let end = (at + rng.below(64)).min(out.len());
                let run = out[at..end].to_vec();
                out.splice(at..at, run);
            }
            _ => out.truncate(at),
        }
    }
    out
}

fn check_feed(feed: &Feed) {
    for indicator in &feed.indicators {
        assert!(!indicator.all_of.is_empty());
        assert_eq!(indicator.source, feed.source);
        assert!(indicator.all_of.iter().all(|o| !o.value.is_empty()));
    }
}

fn example(relative: &str) -> Vec<u8> {
    std::fs::read(rampart_testkit::data_path(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn mutated_bundles_read_or_fail_cleanly() {
    let seeds = [
        example("threat-intel/stix2-json-schemas/examples/indicators-for-C2-with-COA.json"),
        example("threat-intel/stix2-json-schemas/examples/indicator-to-campaign-relationship.json"),
        example("threat-intel/stix2-json-schemas/examples/malicious-email-indicator-with-attachment.json"),
    ];
    let mut rng = Rng(0x0bad_cafe_f00d_0001);
    let (mut read, mut failed) = (0, 0);
    for round in 0..1500 {
        let input = mutate(&mut rng, &seeds[round % seeds.len()]);
        match stix::read_bundle_bytes(&input, "mutated") {
            Ok(feed) => {
                check_feed(&feed);
                read += 1;
            }
            Err(_) => failed += 1,
        }
    }
    // Both outcomes exercised: a mutation inside a string keeps the JSON valid.
    assert!(read > 100 && failed > 100, "{read} read, {failed} failed");
}

#[test]
fn mutated_misp_events_read_or_fail_cleanly() {
    let seed = example("threat-intel/eset-malware-ioc/dukes/misp-dukes-operation-ghost-event.json");
    let mut rng = Rng(0x0bad_cafe_f00d_0002);
    let (mut read, mut failed) = (0, 0);
    for _ in 0..300 {
        let input = mutate(&mut rng, &seed);
        match misp::read_event_bytes(&input, "mutated") {
            Ok(feed) => {
                check_feed(&feed);
                assert!(feed.indicators.iter().all(|i| i.all_of.len() == 1));
                read += 1;
            }
            Err(_) => failed += 1,
        }
    }
    assert!(read > 20 && failed > 20, "{read} read, {failed} failed");
}

#[test]
fn mutated_patterns_parse_or_fail_cleanly() {
    let seeds: &[&str] = &[
        "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
        "[ipv4-addr:value = '198.51.100.1/32' OR domain-name:value IN ('a.example', 'b.example')] OR [url:value = 'http://x.example/']",
        "([a:b[*].c = h'0a' AND NOT EXISTS a:d] FOLLOWEDBY [e:f MATCHES '^x$'] WITHIN 5 SECONDS) REPEATS 2 TIMES",
        "[file:created > t'2016-01-01T00:00:00.5Z' AND file:size <= -.5 AND file:p = b'AAA='] START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00Z'",
    ];
    let mut rng = Rng(0x0bad_cafe_f00d_0003);
    let (mut parsed, mut failed) = (0, 0);
    for round in 0..20_000 {
        let input = mutate(&mut rng, seeds[round % seeds.len()].as_bytes());
        let Ok(text) = String::from_utf8(input) else {
            continue;
        };
        match parse(&text) {
            Ok(pattern) => {
                parsed += 1;
                if let Ok(alternatives) = to_observables(&pattern) {
                    assert!(alternatives.len() <= MAX_ALTERNATIVES);
                    assert!(alternatives.iter().all(|all_of| !all_of.is_empty()));
                }
            }
            Err(error) => {
                failed += 1;
                assert!(error.position <= text.chars().count(), "{text:?}: {error}");
            }
        }
    }
    assert!(
        parsed > 1000 && failed > 1000,
        "{parsed} parsed, {failed} failed"
    );
}

#[test]
fn deep_nesting_and_huge_expansions_are_refused_not_overflowed() {
    for depth in [65, 10_000, 200_000] {
        let observations = format!("{}[a:b = 1]{}", "(".repeat(depth), ")".repeat(depth));
        assert!(parse(&observations).is_err(), "{depth} groups");
        let comparisons = format!("[{}a:b = 1{}]", "(".repeat(depth), ")".repeat(depth));
        assert!(parse(&comparisons).is_err(), "{depth} parentheses");
    }
    let nested = format!("{}[a:b = 1]{}", "(".repeat(60), ")".repeat(60));
    assert!(parse(&nested).is_ok());
    // 13 ANDs of two-way ORs expand to 8,192 alternatives: past the cap, refused whole.
    let pair = "(url:value = 'http://a.example' OR url:value = 'http://b.example')";
    let wide = format!("[{}]", vec![pair; 13].join(" AND "));
    let error = to_observables(&parse(&wide).unwrap_or_else(|e| panic!("{e}")))
        .err()
        .unwrap_or_else(|| panic!("expanded past the cap"));
    assert!(error.reason.contains("alternatives"), "{}", error.reason);
    let long_or = format!(
        "[{}]",
        (0..5000)
            .map(|i| format!("ipv4-addr:value = '10.0.{}.{}'", i / 250, i % 250))
            .collect::<Vec<_>>()
            .join(" OR ")
    );
    assert!(to_observables(&parse(&long_or).unwrap_or_else(|e| panic!("{e}"))).is_err());
}
