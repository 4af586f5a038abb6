//! Every modifier and condition form, with true and false cases, taken from the
//! specification's own examples (sigma-rules-specification.md and the modifiers
//! appendix). Each case is a detection section, an event, and whether it must match.
//! Encoded values were produced independently (Python's base64 over UTF-16LE text).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_event::{Event, Value};
use rampart_sigma::{load_str, LoadOptions, Rule};
use std::path::Path;

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

fn rule_with(detection: &str, options: &LoadOptions) -> Rule {
    let source =
        format!("title: case\nlogsource:\n    product: windows\ndetection:\n{detection}\n");
    let (mut set, diagnostics) = load_str(&source, Path::new("case.yml"), options);
    assert!(diagnostics.is_empty(), "{detection}\n{diagnostics:?}");
    set.rules.remove(0)
}

fn event(fields: &[(&str, Value)]) -> Event {
    let mut event = Event::default();
    for (name, value) in fields {
        event.set(name, value.clone());
    }
    event
}

/// One detection section and the events it must, or must not, match.
fn check(detection: &str, cases: &[(&[(&str, Value)], bool)]) {
    check_with(detection, &LoadOptions::default(), cases);
}

fn check_with(detection: &str, options: &LoadOptions, cases: &[(&[(&str, Value)], bool)]) {
    let rule = rule_with(detection, options);
    for (fields, expected) in cases {
        assert_eq!(
            rule.matches(&event(fields)),
            *expected,
            "{detection}\nevent: {fields:?}"
        );
    }
}

#[test]
fn keyword_lists_match_anywhere_case_insensitively() {
    check(
        "    keywords:\n        - 'EVILSERVICE'\n        - 'svchost.exe -n evil'\n    condition: keywords",
        &[
            (&[("Message", s("Service EvilService installed"))], true),
            (&[("A", s("x")), ("CommandLine", s("C:\\svchost.exe -n evil"))], true),
            (&[("Message", s("svchost.exe -k netsvcs"))], false),
            (&[], false),
        ],
    );
}

#[test]
fn keyword_all_requires_every_keyword() {
    check(
        "    keywords_cmdlet:\n        '|all':\n            - 'OabVirtualDirectory'\n            - ' -ExternalUrl '\n    condition: keywords_cmdlet",
        &[
            (&[("Payload", s("Set-OabVirtualDirectory -ExternalUrl http://x"))], true),
            // Keywords may be found in different fields.
            (&[("A", s("oabvirtualdirectory")), ("B", s("x -externalurl y"))], true),
            (&[("Payload", s("Set-OabVirtualDirectory -InternalUrl http://x"))], false),
        ],
    );
}

#[test]
fn maps_are_and_lists_of_values_are_or() {
    check(
        "    selection:\n        EventLog: Security\n        EventID:\n            - 517\n            - 1102\n    condition: selection",
        &[
            (&[("EventLog", s("Security")), ("EventID", Value::Int(517))], true),
            (&[("EventLog", s("security")), ("EventID", s("1102"))], true),
            (&[("EventLog", s("Security")), ("EventID", Value::Int(4624))], false),
            (&[("EventID", Value::Int(517))], false),
            // Equality is on the whole value, not a substring.
            (&[("EventLog", s("Security2")), ("EventID", Value::Int(517))], false),
        ],
    );
    check(
        "    selection:\n        EventLog: Security\n        EventID: 4769\n        TicketOptions: '0x40810000'\n        TicketEncryption: '0x17'\n    condition: selection",
        &[
            (&[("EventLog", s("Security")), ("EventID", Value::Int(4769)), ("TicketOptions", s("0x40810000")), ("TicketEncryption", s("0x17"))], true),
            (&[("EventLog", s("Security")), ("EventID", Value::Int(4769)), ("TicketOptions", s("0x40810000")), ("TicketEncryption", s("0x12"))], false),
        ],
    );
}

#[test]
fn list_of_maps_is_or() {
    check(
        "    selection:\n        - Image|endswith: '\\example.exe'\n        - Description|contains: 'Test executable'\n    condition: selection",
        &[
            (&[("Image", s("C:\\Temp\\EXAMPLE.exe"))], true),
            (&[("Description", s("A test executable for X"))], true),
            (&[("Image", s("C:\\Temp\\example.exe.bak")), ("Description", s("other"))], false),
        ],
    );
}

#[test]
fn list_values_match_any_element() {
    check(
        "    selection:\n        Hashes|contains: 'MD5=ABC'\n    condition: selection",
        &[
            (
                &[("Hashes", Value::List(vec![s("SHA1=1"), s("md5=abc")]))],
                true,
            ),
            (&[("Hashes", Value::List(vec![s("SHA1=1")]))], false),
        ],
    );
}

#[test]
fn wildcards_and_escapes() {
    check(
        "    selection:\n        Image: 'prog?.exe'\n    condition: selection",
        &[
            (&[("Image", s("progA.exe"))], true),
            (&[("Image", s("progAB.exe"))], false),
            (&[("Image", s("prog.exe"))], false),
        ],
    );
    check(
        "    selection:\n        Image: 'antivirus_V*.exe'\n    condition: selection",
        &[
            (&[("Image", s("antivirus_V21.2.1.exe"))], true),
            (&[("Image", s("antivirus_V1.exe"))], true),
            (&[("Image", s("antivirus_V1.dll"))], false),
        ],
    );
    // `\*` is a literal star.
    check(
        "    selection:\n        Query: 'select \\*'\n    condition: selection",
        &[
            (&[("Query", s("select *"))], true),
            (&[("Query", s("select a"))], false),
        ],
    );
    // `\\*`: a backslash followed by the wildcard.
    check(
        "    selection:\n        Path: 'C:\\\\*'\n    condition: selection",
        &[
            (&[("Path", s("C:\\Windows"))], true),
            (&[("Path", s("C:Windows"))], false),
        ],
    );
    // A plain backslash not before a wildcard stays itself.
    check(
        "    selection:\n        Path: 'C:\\Windows\\System32'\n    condition: selection",
        &[
            (&[("Path", s("c:\\windows\\system32"))], true),
            (&[("Path", s("c:\\windows\\system"))], false),
        ],
    );
    // `\\\*`: a backslash and a literal star.
    check(
        "    selection:\n        Path: 'a\\\\\\*'\n    condition: selection",
        &[
            (&[("Path", s("a\\*"))], true),
            (&[("Path", s("a\\b"))], false),
        ],
    );
}

#[test]
fn null_and_empty_values() {
    check(
        "    selection:\n        EventID: 4738\n    filter:\n        PasswordLastSet: null\n    condition: selection and not filter",
        &[
            (&[("EventID", Value::Int(4738)), ("PasswordLastSet", s("2024-01-01"))], true),
            (&[("EventID", Value::Int(4738))], false),
            // `''` and `null` are distinct values: an empty field is not a null one.
            (&[("EventID", Value::Int(4738)), ("PasswordLastSet", s(""))], true),
            (&[("EventID", Value::Int(4738)), ("PasswordLastSet", Value::Null)], false),
        ],
    );
    check(
        "    selection:\n        FieldB: ''\n    condition: selection",
        &[
            (&[("FieldB", s(""))], true),
            (&[("FieldB", Value::Null)], false),
            (&[], false),
            (&[("FieldB", s("x"))], false),
        ],
    );
    check(
        "    selection_main:\n        FieldA: 'something'\n    selection_empty1:\n        FieldB: ''\n    selection_empty2:\n        FieldB: null\n    condition: selection_main and 1 of selection_empty*",
        &[
            (&[("FieldA", s("something")), ("FieldB", s(""))], true),
            (&[("FieldA", s("something"))], true),
            (&[("FieldA", s("something")), ("FieldB", s("x"))], false),
        ],
    );
}

/// Windows pads some values (Security 4624 `LogonProcessName` is `NtLmSsp `): equality,
/// startswith, endswith and globs also hold for the value with surrounding ASCII
/// whitespace trimmed; contains and regular expressions see the value as written.
#[test]
fn padded_values_match_as_their_authors_read_them() {
    check(
        "    sel:\n        LogonProcessName: 'NtLmSsp'\n    condition: sel",
        &[
            (&[("LogonProcessName", s("NtLmSsp "))], true),
            (&[("LogonProcessName", s(" ntlmssp\t"))], true),
            (&[("LogonProcessName", s("NtLmSsp x"))], false),
        ],
    );
    check(
        "    sel:\n        A|endswith: 'Ssp'\n        B|startswith: 'Nt'\n        C: 'N*p'\n    condition: sel",
        &[
            (&[("A", s("NtLmSsp ")), ("B", s(" NtLm")), ("C", s("NtLmSsp  "))], true),
            (&[("A", s("NtLmSsp x")), ("B", s(" NtLm")), ("C", s("NtLmSsp"))], false),
        ],
    );
    check(
        "    sel:\n        A|re: 'Ssp$'\n    condition: sel",
        &[
            (&[("A", s("NtLmSsp "))], false),
            (&[("A", s("NtLmSsp"))], true),
        ],
    );
    check(
        "    sel:\n        A|contains: 'Ssp '\n    condition: sel",
        &[(&[("A", s("NtLmSsp "))], true)],
    );
}

#[test]
fn exists() {
    check(
        "    selection:\n        EventID: 4738\n        PasswordLastSet|exists: true\n    condition: selection",
        &[
            (&[("EventID", Value::Int(4738)), ("PasswordLastSet", s(""))], true),
            (&[("EventID", Value::Int(4738))], false),
        ],
    );
    check(
        "    selection:\n        PasswordLastSet|exists: false\n    condition: selection",
        &[
            (&[("EventID", Value::Int(4738))], true),
            (&[("PasswordLastSet", s("x"))], false),
        ],
    );
}

#[test]
fn contains_startswith_endswith_all() {
    check(
        "    selection:\n        CommandLine|contains|all:\n            - ' -nop '\n            - ' -enc '\n    condition: selection",
        &[
            (&[("CommandLine", s("powershell -NOP -w hidden -ENC abc"))], true),
            (&[("CommandLine", s("powershell -nop -w hidden"))], false),
        ],
    );
    check(
        "    selection:\n        Image|startswith: 'C:\\Users\\'\n        Image|endswith:\n            - '.scr'\n            - '.pif'\n    condition: selection",
        &[
            (&[("Image", s("c:\\users\\bob\\x.SCR"))], true),
            (&[("Image", s("C:\\Windows\\x.scr"))], false),
            (&[("Image", s("C:\\Users\\bob\\x.exe"))], false),
        ],
    );
}

#[test]
fn cased_is_case_sensitive() {
    check(
        "    selection:\n        CommandLine|contains|cased: 'CreateObject'\n    condition: selection",
        &[(&[("CommandLine", s("x CreateObject y"))], true), (&[("CommandLine", s("x createobject y"))], false)],
    );
}

#[test]
fn regular_expressions_and_flags() {
    check(
        "    selection:\n        CommandLine|re: '\\s-e(nc)?\\s+[A-Za-z0-9+/=]{8,}'\n    condition: selection",
        &[(&[("CommandLine", s("powershell -enc SQBFAFgA"))], true), (&[("CommandLine", s("powershell -e short"))], false)],
    );
    // Case-sensitive by default; `i` turns that off.
    check(
        "    selection:\n        Name|re: '^evil$'\n    condition: selection",
        &[
            (&[("Name", s("evil"))], true),
            (&[("Name", s("EVIL"))], false),
        ],
    );
    check(
        "    selection:\n        Name|re|i: '^evil$'\n    condition: selection",
        &[
            (&[("Name", s("EVIL"))], true),
            (&[("Name", s("not evil"))], false),
        ],
    );
    // `m`: anchors match at line breaks.
    check(
        "    selection:\n        Text|re|m: '^second$'\n    condition: selection",
        &[
            (&[("Text", s("first\nsecond\nthird"))], true),
            (&[("Text", s("first second"))], false),
        ],
    );
    // `s`: the dot matches a newline.
    check(
        "    selection:\n        Text|re|s: 'a.b'\n    condition: selection",
        &[
            (&[("Text", s("a\nb"))], true),
            (&[("Text", s("a\n\nb"))], false),
        ],
    );
}

#[test]
fn base64_and_base64offset() {
    check(
        "    selection:\n        Payload|base64: 'cmd'\n    condition: selection",
        &[
            (&[("Payload", s("Y21k"))], true),
            (&[("Payload", s("cmd"))], false),
        ],
    );
    // "/bin/sh" inside base64 text at each of the three byte offsets.
    check(
        "    selection:\n        CommandLine|base64offset|contains: '/bin/sh'\n    condition: selection",
        &[
            (&[("CommandLine", s("echo ZWNobyAvYmluL3NoOw== | base64 -d"))], true),
            (&[("CommandLine", s("YS9iaW4vc2g="))], true),
            (&[("CommandLine", s("YWIvYmluL3NoIC1j"))], true),
            (&[("CommandLine", s("ZWNobyBoZWxsbw=="))], false),
        ],
    );
}

#[test]
fn utf16_encodings_then_base64() {
    // "Write-Host ping" and two shifted variants, UTF-16LE then base64.
    check(
        "    selection:\n        CommandLine|wide|base64offset|contains: 'ping'\n    condition: selection",
        &[
            (&[("CommandLine", s("powershell -enc VwByAGkAdABlAC0ASABvAHMAdAAgAHAAaQBuAGcA"))], true),
            (&[("CommandLine", s("powershell -enc WABXAHIAaQB0AGUALQBIAG8AcwB0ACAAcABpAG4AZwA="))], true),
            (&[("CommandLine", s("powershell -enc WABZAFcAcgBpAHQAZQAtAEgAbwBzAHQAIABwAGkAbgBnAA=="))], true),
            (&[("CommandLine", s("powershell -enc bgBvAHQAaABpAG4AZwAgAGgAZQByAGUA"))], false),
        ],
    );
    for (modifier, encoded) in [
        ("utf16le", "YwBtAGQA"),
        ("wide", "YwBtAGQA"),
        ("utf16be", "AGMAbQBk"),
        ("utf16", "//5jAG0AZAA="),
    ] {
        check(
            &format!("    selection:\n        Payload|{modifier}|base64: 'cmd'\n    condition: selection"),
            &[(&[("Payload", s(encoded))], true), (&[("Payload", s("Y21k"))], false)],
        );
    }
}

#[test]
fn windash_accepts_every_dash() {
    check(
        "    selection:\n        CommandLine|windash|contains: ' -foo '\n    condition: selection",
        &[
            (&[("CommandLine", s("tool.exe -foo bar"))], true),
            (&[("CommandLine", s("tool.exe /foo bar"))], true),
            (&[("CommandLine", s("tool.exe \u{2013}foo bar"))], true),
            (&[("CommandLine", s("tool.exe \u{2014}foo bar"))], true),
            (&[("CommandLine", s("tool.exe \u{2015}foo bar"))], true),
            (&[("CommandLine", s("tool.exe +foo bar"))], false),
        ],
    );
}

#[test]
fn cidr() {
    check(
        "    selection:\n        DestinationIp|cidr:\n            - '10.0.0.0/8'\n            - 'fe80::/10'\n    condition: selection",
        &[
            (&[("DestinationIp", s("10.1.2.3"))], true),
            (&[("DestinationIp", s("fe80::1"))], true),
            (&[("DestinationIp", s("11.0.0.1"))], false),
            (&[("DestinationIp", s("not an ip"))], false),
        ],
    );
}

#[test]
fn numeric_comparisons() {
    for (modifier, below, equal, above) in [
        ("lt", true, false, false),
        ("lte", true, true, false),
        ("gt", false, false, true),
        ("gte", false, true, true),
    ] {
        check(
            &format!("    selection:\n        Size|{modifier}: 100\n    condition: selection"),
            &[
                (&[("Size", Value::Int(99))], below),
                (&[("Size", s("100"))], equal),
                (&[("Size", Value::Float(100.5))], above),
                (&[("Size", s("lots"))], false),
            ],
        );
    }
}

#[test]
fn neq() {
    check(
        "    selection:\n        Status|neq:\n            - 'ok'\n            - 'done'\n    condition: selection",
        &[(&[("Status", s("failed"))], true), (&[("Status", s("OK"))], false), (&[("Status", s("done"))], false), (&[], false)],
    );
}

#[test]
fn fieldref() {
    check(
        "    selection:\n        TargetUserName|fieldref: SubjectUserName\n    condition: selection",
        &[
            (&[("TargetUserName", s("Bob")), ("SubjectUserName", s("bob"))], true),
            (&[("TargetUserName", s("Bob")), ("SubjectUserName", s("Alice"))], false),
            (&[("TargetUserName", s("Bob"))], false),
        ],
    );
    check(
        "    selection:\n        CommandLine|fieldref|contains: Image\n    condition: selection",
        &[
            (
                &[
                    ("CommandLine", s("\"C:\\a.exe\" -x")),
                    ("Image", s("C:\\a.exe")),
                ],
                true,
            ),
            (
                &[("CommandLine", s("b.exe -x")), ("Image", s("C:\\a.exe"))],
                false,
            ),
        ],
    );
    check(
        "    selection:\n        A|fieldref|neq: B\n    condition: selection",
        &[
            (&[("A", s("x")), ("B", s("y"))], true),
            (&[("A", s("x")), ("B", s("X"))], false),
        ],
    );
}

#[test]
fn expand_placeholders() {
    let mut options = LoadOptions::default();
    options
        .placeholders
        .insert("Administrators".into(), vec!["adm_*".into(), "root".into()]);
    check_with(
        "    selection:\n        User|expand: '%Administrators%'\n    condition: selection",
        &options,
        &[
            (&[("User", s("adm_bob"))], true),
            (&[("User", s("root"))], true),
            (&[("User", s("bob"))], false),
        ],
    );
    // Without `|expand` the percent signs are literal text.
    check(
        "    selection:\n        User: '%Administrators%'\n    condition: selection",
        &[
            (&[("User", s("%Administrators%"))], true),
            (&[("User", s("root"))], false),
        ],
    );
}

#[test]
fn time_parts() {
    check(
        "    selection:\n        LogonTime|hour|gte: 22\n    condition: selection",
        &[
            (&[("LogonTime", s("2024-05-01T23:10:00Z"))], true),
            (&[("LogonTime", s("2024-05-01 08:10:00"))], false),
        ],
    );
    check(
        "    selection:\n        LogonTime|month: 5\n    condition: selection",
        &[
            (&[("LogonTime", s("2024-05-01T23:10:00Z"))], true),
            (&[("LogonTime", s("2024-06-01T23:10:00Z"))], false),
        ],
    );
}

#[test]
fn numbers_match_as_text() {
    check(
        "    selection:\n        EventID: 4688\n    condition: selection",
        &[
            (&[("EventID", Value::Int(4688))], true),
            (&[("EventID", s("4688"))], true),
            (&[("EventID", Value::Int(46880))], false),
        ],
    );
}

/// The condition forms of the specification, over three searches with fixed outcomes.
#[test]
fn condition_forms() {
    let searches = "    sel_a:\n        A: 'x'\n    sel_b:\n        B: 'x'\n    filter_c:\n        C: 'x'\n    _hidden:\n        D: 'x'\n";
    // Events are named by which of A, B, C, D hold.
    let events: [(&str, &[(&str, Value)]); 5] = [
        ("a", &[("A", s("x"))]),
        ("ab", &[("A", s("x")), ("B", s("x"))]),
        ("abc", &[("A", s("x")), ("B", s("x")), ("C", s("x"))]),
        ("c", &[("C", s("x"))]),
        (
            "abcd",
            &[("A", s("x")), ("B", s("x")), ("C", s("x")), ("D", s("x"))],
        ),
    ];
    let table: [(&str, [bool; 5]); 12] = [
        ("sel_a or sel_b", [true, true, true, false, true]),
        ("sel_a and sel_b", [false, true, true, false, true]),
        ("sel_a and not filter_c", [true, true, false, false, false]),
        ("not sel_a or filter_c", [false, false, true, true, true]),
        (
            "sel_a and (sel_b or filter_c)",
            [false, true, true, false, true],
        ),
        (
            "sel_a and sel_b or filter_c",
            [false, true, true, true, true],
        ),
        (
            "filter_c or sel_a and sel_b",
            [false, true, true, true, true],
        ),
        ("1 of sel_*", [true, true, true, false, true]),
        ("all of sel_*", [false, true, true, false, true]),
        (
            "1 of sel_* and not 1 of filter*",
            [true, true, false, false, false],
        ),
        ("1 of them", [true, true, true, true, true]),
        // `them` skips `_hidden`.
        ("all of them", [false, false, true, false, true]),
    ];
    for (condition, expected) in table {
        let rule = rule_with(
            &format!("{searches}    condition: {condition}"),
            &LoadOptions::default(),
        );
        for ((name, fields), expected) in events.iter().zip(expected) {
            assert_eq!(
                rule.matches(&event(fields)),
                expected,
                "`{condition}` on event {name}"
            );
        }
    }
    // A list of conditions is an OR.
    let rule = rule_with(
        &format!("{searches}    condition:\n        - sel_a and sel_b\n        - filter_c"),
        &LoadOptions::default(),
    );
    let outcomes: Vec<bool> = events
        .iter()
        .map(|(_, fields)| rule.matches(&event(fields)))
        .collect();
    assert_eq!(outcomes, [false, true, true, true, true]);
}
