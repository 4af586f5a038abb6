//! The STIX pattern parser against the published Python validator `stix2-patterns`
//! (OASIS's reference, generated from the same ANTLR grammar): several hundred
//! generated and hand-written patterns, valid and invalid, must get the same verdict
//! from both. `.ci/run` installs the validator; the test fails when it is missing.

use std::io::Write;
use std::process::{Command, Stdio};

use rampart_intel::stix::pattern::parse;

/// Hand-written patterns: the spec's examples, corner cases of the lexer, and common
/// mistakes.
const HAND_WRITTEN: &[&str] = &[
    "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
    "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4']",
    "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb']",
    "[file:hashes.md5 = 79054025255]",
    "[file:hashes.'SHA-1' = '0000000000000000000000000000000000000000' OR file:name = 'a.exe']",
    "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32']",
    "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
    "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
    "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\System\\\\Foo\\\\Bar']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']",
    "([file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']) WITHIN 300 SECONDS",
    "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul']",
    "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
    "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
    "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 180 SECONDS",
    "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
    "[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
    "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
    "[network-traffic:dst_port IN (22, 23, 80) AND network-traffic:src_ref.value ISSUBSET '198.51.100.0/24']",
    "[file:created > t'2016-01-01T00:00:00Z'] START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00.000Z'",
    "[file:size <= 1024 AND file:size >= +5 AND file:x != -3 AND file:y <> 0.5 AND file:z == -.5]",
    "[file:payload = b'AAAA' OR file:payload = b'AAA=' OR file:payload = b'AA==']",
    "[file:payload = b'']",
    "[file:payload = b'A===']",
    "[file:magic = h'']",
    "[file:magic = h'f']",
    "[file:created = t'2016-02-30T00:00:00Z']",
    "[file:created = t'2016-13-01T00:00:00Z']",
    "[file:created = t'2016-12-01T24:00:00Z']",
    "[file:created = t'2016-12-01T23:59:60Z']",
    "[file:created = t'2016-12-01T23:59:59.Z']",
    "[file:created = t'2016-12-01 23:59:59Z']",
    "[a:b = true AND a:c = false AND a:d IN (true, 'x', 1, 2.5, h'00', t'2016-12-01T23:59:59Z')]",
    "[a:b IN ()]",
    "[a:b IN (,)]",
    "[a:b IN ('x',)]",
    "[a:b > true]",
    "[a:b LIKE 'x%' AND a:c NOT LIKE '_y' AND a:d NOT MATCHES 'z']",
    "[EXISTS a:b AND NOT EXISTS a:c]",
    "[a:b EXISTS]",
    "[NOT a:b = 1]",
    "[a:b NOT = 1 AND a:c NOT != 2 AND a:d NOT IN (1) AND a:e NOT > 3]",
    "[a:b = 1] AND [c:d = 2] OR [e:f = 3] FOLLOWEDBY [g:h = 4]",
    "(([a:b = 1]) OR ([c:d = 2]))",
    "([a:b = 1]",
    "[a:b = 1])",
    "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS",
    "([a:b = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS",
    "[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES",
    "[a:b = 1] REPEATS 2 TIMES WITHIN 3 SECONDS START t'2016-01-01T00:00:00Z' STOP t'2016-01-01T00:00:00Z'",
    "[a:b = 1] WITHIN 0.5 SECONDS",
    "[a:b = 1] WITHIN -5 SECONDS",
    "[a:b = 1] REPEATS 2.5 TIMES",
    "[a:b = 1] WITHIN 5",
    "[a:b = 1] within 5 seconds",
    "[a:b = 1] and [c:d = 2]",
    "[a:b = 1] [c:d = 2]",
    "[a:b = 1] AND",
    "[a:b = 01]",
    "[a:b = 0]",
    "[a:b = 1.]",
    "[a:b = .5]",
    "[a:b = 01.5]",
    "[a:b = - 1]",
    "[a:b = 'it\\'s']",
    "[a:b = 'back\\\\slash']",
    "[a:b = 'bad\\escape']",
    "[a:b = 'unclosed]",
    "[a:b = \"double\"]",
    "[a:b-c = 1]",
    "[a-b:c = 1]",
    "[a:'b-c' = 1]",
    "[a:b.'c d'.e = 1]",
    "[a:b.c-d = 1]",
    "[a:b[0] = 1]",
    "[a:b[*].c[1].d = 1]",
    "[a:b[x] = 1]",
    "[a:b.5 = 1]",
    "[a:b..c = 1]",
    "[a:b. c = 1]",
    "[a : b = 1]",
    "[a:b=1]",
    "[:b = 1]",
    "[a: = 1]",
    "[a = 1]",
    "[AND:b = 1]",
    "[a:AND = 1]",
    "[a:true = 1]",
    "[And:b = 1]",
    "[_a:_b = 1]",
    "[1a:b = 1]",
    "[a:b = 1] // trailing comment",
    "[a:b = 1] /* block */ OR /* another */ [c:d = 2]",
    "[a:b = 1] /* unclosed",
    "[a:b = 1 /* inside */ ]",
    "   [a:b = 1]   ",
    "\t[a:b = 1]\n",
    "[]",
    "[a:b]",
    "[a:b = ]",
    "[a:b = 1 OR]",
    "[(a:b = 1 OR a:c = 2) AND a:d = 3]",
    "[((a:b = 1))]",
    "[(a:b = 1]",
    "[a:b = 1 AND (c:d = 2 OR (e:f = 3 AND g:h = 4))]",
    "a:b = 1",
    "[a:b = 1] FOLLOWEDBY",
    "[a:b = 1] START t'2016-01-01T00:00:00Z'",
    "[a:b = 1] STOP t'2016-01-01T00:00:00Z'",
    "[a:b = 1] REPEATS +3 TIMES",
    "[a:b = 1] WITHIN +3 SECONDS",
    "[a:b = 1] REPEATS 0 TIMES",
    "[a:b = 'x' ISSUPERSET 'y']",
    "[a:b ISSUPERSET 'y']",
    "[a:b ISSUBSET 5]",
    "[a:b MATCHES 5]",
    "[a:b = 1] LAST 5 SECONDS",
    "[file:hashes.SHA1 = 'xyz']",
    "[file:hashes.'SHA-512' = '00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000']",
    "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']",
    "[file:hashes.SSDEEP = 5]",
    "[file:hashes.'x-custom' = 'anything']",
    "[artifact:hashes.MD5 != 'nothex']",
    "[file:hashes.MD5 LIKE '7905%']",
    "[file:hashes.MD5 = h'79054025255fb1a26e4bc422aef54eb4']",
    "[file:name = 'caf\u{e9}.exe']",
    "[file:name = 'a']\u{a0}",
    "[file:name = 'a'] \u{2003} OR [file:name = 'b']",
    "[file:name = 'a'] \u{1} OR [file:name = 'b']",
    "[file:name = 'a'] ; [file:name = 'b']",
];

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
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const OBJECT_TYPES: &[&str] = &[
    "file",
    "ipv4-addr",
    "domain-name",
    "url",
    "x-custom",
    "process",
    "email-message",
    "network-traffic",
];
const PATHS: &[&str] = &[
    "name",
    "value",
    "hashes.MD5",
    "hashes.'SHA-256'",
    "hashes.'SHA-1'",
    "size",
    "'quoted key'",
    "a[0]",
    "a[*].b",
    "extensions.'windows-pebinary-ext'.sections[*].entropy",
    "from_ref.value",
    "command_line",
];
const LITERALS: &[&str] = &[
    "'evil.exe'",
    "'it\\'s'",
    "'a\\\\b'",
    "''",
    "42",
    "0",
    "-7",
    "+3",
    "1.5",
    "-.5",
    "true",
    "false",
    "h'0a1b'",
    "b'AAAA'",
    "b'AAA='",
    "t'2020-01-01T00:00:00Z'",
    "t'2020-01-01T00:00:00.123Z'",
    "'79054025255fb1a26e4bc422aef54eb4'",
    "'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c'",
    "'0000000000000000000000000000000000000000'",
];
const MUTATION_TOKENS: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "'",
    ":",
    ".",
    ",",
    "=",
    "!",
    "<",
    ">",
    " AND ",
    " OR ",
    " NOT ",
    " IN ",
    " and ",
    "-",
    "+",
    "*",
    "/",
    "h",
    "t",
    "b",
    "0",
    "5",
    " WITHIN 5 SECONDS",
    " REPEATS 2 TIMES",
    " FOLLOWEDBY ",
    "\\",
];

fn literal(rng: &mut Rng) -> String {
    rng.pick(LITERALS).to_owned()
}

fn comparison(rng: &mut Rng, depth: usize) -> String {
    if depth < 2 && rng.chance(25) {
        let joiner = if rng.chance(50) { " AND " } else { " OR " };
        let inner = format!(
            "{}{joiner}{}",
            comparison(rng, depth + 1),
            comparison(rng, depth + 1)
        );
        return if rng.chance(50) {
            format!("({inner})")
        } else {
            inner
        };
    }
    let path = format!("{}:{}", rng.pick(OBJECT_TYPES), rng.pick(PATHS));
    let not = if rng.chance(15) { "NOT " } else { "" };
    match rng.below(9) {
        0..=2 => format!(
            "{path} {not}{} {}",
            rng.pick(&["=", "==", "!=", "<>"]),
            literal(rng)
        ),
        3 => format!(
            "{path} {not}{} {}",
            rng.pick(&[">", "<", ">=", "<="]),
            literal(rng)
        ),
        4 => {
            let count = rng.below(4);
            let items: Vec<String> = (0..count).map(|_| literal(rng)).collect();
            // Not on hashes: see `hash_sets_are_valid_though_the_validator_refuses_them`.
            let path = if path.contains("hashes") {
                "x-custom:value".to_owned()
            } else {
                path
            };
            format!("{path} {not}IN ({})", items.join(", "))
        }
        5 => format!(
            "{path} {not}{} {}",
            rng.pick(&["LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"]),
            literal(rng)
        ),
        6 => format!("{}EXISTS {path}", if not.is_empty() { "" } else { "NOT " }),
        _ => format!("{path} = {}", literal(rng)),
    }
}

fn observation(rng: &mut Rng, depth: usize) -> String {
    let mut text = if depth < 2 && rng.chance(25) {
        let joiner = rng.pick(&[" AND ", " OR ", " FOLLOWEDBY "]);
        format!(
            "({}{joiner}{})",
            observation(rng, depth + 1),
            observation(rng, depth + 1)
        )
    } else {
        format!("[{}]", comparison(rng, 0))
    };
    while rng.chance(20) {
        text.push_str(rng.pick(&[
            " WITHIN 300 SECONDS",
            " WITHIN 2.5 SECONDS",
            " REPEATS 3 TIMES",
            " START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00Z'",
        ]));
    }
    text
}

fn pattern(rng: &mut Rng) -> String {
    let mut text = observation(rng, 0);
    while rng.chance(30) {
        let joiner = rng.pick(&[" AND ", " OR ", " FOLLOWEDBY "]);
        text = format!("{text}{joiner}{}", observation(rng, 1));
    }
    text
}

/// One random edit: a character deleted, a token inserted, or the text cut short.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len().max(1));
    let (head, tail): (String, String) =
        (chars[..at].iter().collect(), chars[at..].iter().collect());
    match rng.below(3) {
        0 => format!("{head}{}", tail.chars().skip(1).collect::<String>()),
        1 => format!("{head}{}{tail}", rng.pick(MUTATION_TOKENS)),
        _ => head,
    }
}

/// The validator's verdict on each pattern: `Some(valid)`, or `None` where the
/// validator itself fails (it raises on negative list indices and on a list index
/// after `hashes`, which the generator avoids; counted and bounded below).
fn validator_verdicts(patterns: &[String]) -> Vec<Option<bool>> {
    let script = r#"
import json, sys
from stix2patterns.validator import validate
out = []
for pattern in json.load(sys.stdin):
    try:
        out.append(bool(validate(pattern, stix_version="2.1")))
    except Exception:
        out.append(None)
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 is needed for this test: {e}"));
    let input = serde_json::to_vec(patterns).unwrap_or_else(|e| panic!("{e}"));
    child
        .stdin
        .take()
        .unwrap_or_else(|| panic!("no stdin"))
        .write_all(&input)
        .unwrap_or_else(|e| panic!("{e}"));
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        output.status.success(),
        "the stix2-patterns validator did not run (pip install stix2-patterns): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_parser_agrees_with_the_published_validator() {
    let mut patterns: Vec<String> = HAND_WRITTEN.iter().map(|p| (*p).to_owned()).collect();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..500 {
        let generated = pattern(&mut rng);
        let generated = if rng.chance(45) {
            mutate(&mut rng, &generated)
        } else {
            generated
        };
        patterns.push(generated);
    }
    let verdicts = validator_verdicts(&patterns);
    assert_eq!(verdicts.len(), patterns.len());
    let mut disagreements = Vec::new();
    let (mut valid, mut invalid, mut crashed) = (0, 0, 0);
    for (pattern, verdict) in patterns.iter().zip(&verdicts) {
        let Some(expected) = verdict else {
            crashed += 1;
            continue;
        };
        if *expected {
            valid += 1;
        } else {
            invalid += 1;
        }
        let ours = parse(pattern);
        if ours.is_ok() != *expected {
            disagreements.push(format!("{pattern:?}: validator {expected}, ours {ours:?}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // Both verdicts well represented, and the validator ran on nearly everything.
    assert!(
        valid > 150 && invalid > 150,
        "{valid} valid, {invalid} invalid"
    );
    assert!(crashed < 10, "validator failed on {crashed} patterns");
}

/// Where the parser parts from the validator on purpose: the validator checks the
/// hash in `hashes.MD5 IN (…)` on the set's text as a whole, so it rejects every such
/// set; the grammar allows them and Rampart reads each value.
#[test]
fn hash_sets_are_valid_though_the_validator_refuses_them() {
    let pattern = "[file:hashes.MD5 IN ('79054025255fb1a26e4bc422aef54eb4', 'cead3f77f6cda6ec00f57d76c9a6879f')]";
    assert_eq!(validator_verdicts(&[pattern.to_owned()]), [Some(false)]);
    assert!(parse(pattern).is_ok());
}
