//! The engine on small hand-written rules: every pattern kind, routing, renames,
//! filters and alert contents, each checked against the sigma crate's reference
//! evaluator as well as against the expected outcome.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_detect::{CompileDiagnosticKind, Engine, LogsourceMap};
use rampart_event::{Alert, Event, EventMeta, Value};
use rampart_sigma::{load_str, LoadOptions, RuleSet};
use std::path::Path;

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

fn rules(yaml: &str) -> RuleSet {
    let (set, diagnostics) = load_str(yaml, Path::new("test.yml"), &LoadOptions::default());
    assert!(
        set.rules.len() + set.filters.len() == yaml.matches("title:").count(),
        "rules failed to load: {diagnostics:?}"
    );
    set
}

fn event(channel: &str, id: u32, fields: &[(&str, Value)]) -> Event {
    let mut event = Event {
        meta: EventMeta {
            channel: (!channel.is_empty()).then(|| channel.into()),
            event_id: Some(id),
            ..EventMeta::default()
        },
        fields: Vec::new(),
    };
    event.set("EventID", Value::Int(i64::from(id)));
    for (name, value) in fields {
        event.set(name, value.clone());
    }
    event
}

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

fn scan(engine: &Engine, event: &Event) -> Vec<Alert> {
    let mut scratch = engine.scratch();
    let mut alerts = Vec::new();
    engine.scan(event, &mut scratch, &mut |alert| alerts.push(alert));
    alerts
}

/// Compiles `yaml`, scans `event`, checks the result against the reference evaluator
/// on the routed rules, and returns the titles that matched.
fn titles(yaml: &str, event: &Event) -> Vec<String> {
    let set = rules(yaml);
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let got: Vec<String> = scan(&engine, event)
        .into_iter()
        .map(|a| a.rule_title)
        .collect();
    let view = engine.renamed_view(event);
    let want: Vec<String> = engine
        .routed_rules(event)
        .into_iter()
        .filter(|&r| set.rules[r].matches(&view))
        .map(|r| set.rules[r].title.clone())
        .collect();
    assert_eq!(got, want, "engine and reference disagree");
    got
}

fn proc_rule(title: &str, detection: &str) -> String {
    format!(
        "title: {title}\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n{detection}\n---\n"
    )
}

fn proc_event(fields: &[(&str, Value)]) -> Event {
    event(SYSMON, 1, fields)
}

#[test]
fn string_operations_are_case_insensitive_by_default() {
    let yaml = [
        proc_rule(
            "eq",
            "    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n    condition: sel",
        ),
        proc_rule(
            "contains",
            "    sel:\n        CommandLine|contains: ' -EncodedCommand '\n    condition: sel",
        ),
        proc_rule(
            "starts",
            "    sel:\n        Image|startswith: 'c:\\windows\\'\n    condition: sel",
        ),
        proc_rule(
            "ends",
            "    sel:\n        Image|endswith: '\\CMD.EXE'\n    condition: sel",
        ),
        proc_rule(
            "cased",
            "    sel:\n        Image|endswith|cased: '\\CMD.EXE'\n    condition: sel",
        ),
        proc_rule(
            "glob",
            "    sel:\n        CommandLine: '*power?hell*-enc*'\n    condition: sel",
        ),
        proc_rule(
            "miss",
            "    sel:\n        CommandLine|contains: 'mimikatz'\n    condition: sel",
        ),
    ]
    .concat();
    let hit = proc_event(&[
        ("Image", s("C:\\WINDOWS\\cmd.exe")),
        ("CommandLine", s("cmd /c POWERSHELL -EncodedCommand AAAA")),
    ]);
    assert_eq!(
        titles(&yaml, &hit),
        ["eq", "contains", "starts", "ends", "glob"]
    );
}

#[test]
fn all_modifier_and_lists() {
    let yaml = [
        proc_rule("all", "    sel:\n        CommandLine|contains|all:\n            - 'net'\n            - 'user'\n    condition: sel"),
        proc_rule("any", "    sel:\n        CommandLine|contains:\n            - 'zzz'\n            - 'user'\n    condition: sel"),
        proc_rule("all-miss", "    sel:\n        CommandLine|contains|all:\n            - 'net'\n            - 'group'\n    condition: sel"),
    ]
    .concat();
    let event = proc_event(&[("CommandLine", s("net user admin /add"))]);
    assert_eq!(titles(&yaml, &event), ["all", "any"]);
}

#[test]
fn regexes_with_and_without_flags() {
    let yaml = [
        proc_rule(
            "re",
            "    sel:\n        CommandLine|re: '\\s-e(nc|ncodedcommand)\\s'\n    condition: sel",
        ),
        proc_rule(
            "re-cased",
            "    sel:\n        CommandLine|re: 'ENC'\n    condition: sel",
        ),
        proc_rule(
            "re-i",
            "    sel:\n        CommandLine|re|i: 'ENC'\n    condition: sel",
        ),
    ]
    .concat();
    let event = proc_event(&[("CommandLine", s("powershell -enc AAAA"))]);
    assert_eq!(titles(&yaml, &event), ["re", "re-i"]);
}

#[test]
fn numbers_null_exists_cidr_and_fieldref() {
    let yaml = [
        proc_rule(
            "int",
            "    sel:\n        ProcessId: 4242\n    condition: sel",
        ),
        proc_rule(
            "gt",
            "    sel:\n        ProcessId|gt: 4000\n    condition: sel",
        ),
        proc_rule(
            "lt",
            "    sel:\n        ProcessId|lt: 4000\n    condition: sel",
        ),
        proc_rule(
            "is-null",
            "    sel:\n        ParentCommandLine: null\n    condition: sel",
        ),
        proc_rule(
            "exists",
            "    sel:\n        User|exists: true\n    condition: sel",
        ),
        proc_rule(
            "not-exists",
            "    sel:\n        Hashes|exists: true\n    condition: sel",
        ),
        proc_rule(
            "cidr",
            "    sel:\n        SourceIp|cidr: '10.0.0.0/8'\n    condition: sel",
        ),
        proc_rule(
            "fieldref",
            "    sel:\n        Image|fieldref: ParentImage\n    condition: sel",
        ),
        proc_rule(
            "empty",
            "    sel:\n        Description: ''\n    condition: sel",
        ),
    ]
    .concat();
    let event = proc_event(&[
        ("ProcessId", Value::Int(4242)),
        ("User", s("SYSTEM")),
        ("SourceIp", s("10.1.2.3")),
        ("Image", s("C:\\a.exe")),
        ("ParentImage", s("c:\\A.EXE")),
        ("Description", s("")),
    ]);
    assert_eq!(
        titles(&yaml, &event),
        ["int", "gt", "is-null", "exists", "cidr", "fieldref", "empty"]
    );
}

#[test]
fn keywords_search_every_field_value() {
    let yaml = "title: kw\nlogsource:\n    product: windows\n    service: system\ndetection:\n    keywords:\n        - 'mimikatz'\n        - 'sekurlsa'\n    condition: keywords\n---\ntitle: kw-miss\nlogsource:\n    product: windows\n    service: system\ndetection:\n    keywords:\n        - 'rubeus'\n    condition: keywords\n";
    let event = event("System", 7045, &[("ImagePath", s("C:\\x\\MIMIKATZ.exe"))]);
    assert_eq!(titles(yaml, &event), ["kw"]);
}

#[test]
fn keywords_match_within_one_value_never_across_two() {
    // The keyword prefilter scans the event's values joined into one text: it must not
    // lose a number or a list element, and a literal across the seam between two
    // values is no match.
    let yaml = "title: joined\nlogsource:\n    product: windows\ndetection:\n    keywords:\n        - 'abcdef'\n    condition: keywords\n---\ntitle: number\nlogsource:\n    product: windows\ndetection:\n    keywords:\n        - '31337'\n    condition: keywords\n---\ntitle: listed\nlogsource:\n    product: windows\ndetection:\n    keywords:\n        - 'ΣΊΣΥΦΟΣ'\n    condition: keywords\n";
    let split = event(
        "Security",
        4688,
        &[
            ("A", s("xxABC")),
            ("B", s("DEFyy")),
            ("Port", Value::Int(313)),
        ],
    );
    assert!(titles(yaml, &split).is_empty());
    let whole = event(
        "Security",
        4688,
        &[
            ("Port", Value::Int(31337)),
            ("Names", Value::List(vec![s("a"), s("Σίσυφος")])),
        ],
    );
    assert_eq!(titles(yaml, &whole), ["number", "listed"]);
}

#[test]
fn conditions_not_quantifiers_and_parentheses() {
    let detection = "    sel_img:\n        Image|endswith: '\\rundll32.exe'\n    sel_cli:\n        CommandLine|contains: 'javascript'\n    filter:\n        ParentImage|endswith: '\\explorer.exe'\n";
    let yaml = [
        proc_rule(
            "all-of-sel",
            &format!("{detection}    condition: all of sel_* and not filter"),
        ),
        proc_rule(
            "one-of-them",
            &format!("{detection}    condition: 1 of them"),
        ),
        proc_rule(
            "filtered",
            &format!("{detection}    condition: sel_img and filter"),
        ),
        proc_rule(
            "paren",
            &format!("{detection}    condition: (sel_img or filter) and not (sel_cli and filter)"),
        ),
        proc_rule("only-not", &format!("{detection}    condition: not filter")),
    ]
    .concat();
    let event = proc_event(&[
        ("Image", s("C:\\Windows\\System32\\rundll32.exe")),
        ("CommandLine", s("rundll32 javascript:\"\\..\\mshtml\"")),
        ("ParentImage", s("C:\\Windows\\cmd.exe")),
    ]);
    assert_eq!(
        titles(&yaml, &event),
        ["all-of-sel", "one-of-them", "paren", "only-not"]
    );
}

#[test]
fn transformation_modifiers_arrive_expanded() {
    let yaml = [
        proc_rule(
            "windash",
            "    sel:\n        CommandLine|windash|contains: ' -exec bypass'\n    condition: sel",
        ),
        proc_rule(
            "b64off",
            "    sel:\n        CommandLine|base64offset|contains: 'IEX'\n    condition: sel",
        ),
        proc_rule(
            "wide",
            "    sel:\n        CommandLine|wide|base64offset|contains: 'ping'\n    condition: sel",
        ),
    ]
    .concat();
    let event = proc_event(&[(
        "CommandLine",
        s("powershell /exec bypass SUVYIChOZXctT2JqZWN0"),
    )]);
    assert_eq!(titles(&yaml, &event), ["windash", "b64off"]);
}

#[test]
fn process_creation_runs_on_security_4688_with_renamed_fields() {
    let yaml = proc_rule("img", "    sel:\n        Image|endswith: '\\whoami.exe'\n        ParentImage|endswith: '\\cmd.exe'\n    condition: sel");
    let security = event(
        "Security",
        4688,
        &[
            ("NewProcessName", s("C:\\Windows\\System32\\whoami.exe")),
            ("ParentProcessName", s("C:\\Windows\\System32\\cmd.exe")),
        ],
    );
    assert_eq!(titles(&yaml, &security), ["img"]);
    // Same rule: Sysmon event 1 with the taxonomy's names.
    let sysmon = proc_event(&[
        ("Image", s("C:\\Windows\\System32\\whoami.exe")),
        ("ParentImage", s("C:\\Windows\\System32\\cmd.exe")),
    ]);
    assert_eq!(titles(&yaml, &sysmon), ["img"]);
    // Routing by event id: a Sysmon event 3 or a Security 4624 is not process creation.
    let other = event(
        SYSMON,
        3,
        &[
            ("Image", s("C:\\Windows\\System32\\whoami.exe")),
            ("ParentImage", s("x\\cmd.exe")),
        ],
    );
    assert!(titles(&yaml, &other).is_empty());
    let logon = event(
        "Security",
        4624,
        &[
            ("NewProcessName", s("C:\\whoami.exe")),
            ("ParentProcessName", s("\\cmd.exe")),
        ],
    );
    assert!(titles(&yaml, &logon).is_empty());
}

#[test]
fn unknown_logsources_run_only_on_events_they_can_describe() {
    let macos = "title: macos\nlogsource:\n    product: macos\n    service: unifiedlog\ndetection:\n    sel:\n        exe|endswith: '/nc'\n    condition: sel\n---\n";
    // A bare `not selection` matches any event lacking the field: the shape of the
    // SigmaHQ zeek rule that fired on every Windows record of an unmapped channel.
    let zeek = "title: zeek\nlogsource:\n    product: zeek\n    service: rdp\ndetection:\n    sel:\n        id.orig_h|cidr: '10.0.0.0/8'\n    condition: not sel\n---\n";
    // Naming only the product: every Windows channel, named in the map or not.
    let windows = "title: any-windows\nlogsource:\n    product: windows\ndetection:\n    sel:\n        exe|endswith: '/nc'\n    condition: sel\n---\n";
    let yaml = format!(
        "{macos}{zeek}{windows}{}",
        proc_rule(
            "win",
            "    sel:\n        exe|endswith: '/nc'\n    condition: sel"
        )
    );
    let set = rules(&yaml);
    let (engine, diagnostics) = Engine::compile(&set, &LogsourceMap::builtin());
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    assert!(diagnostics
        .iter()
        .all(|d| d.kind == CompileDiagnosticKind::UnknownLogsource));
    assert!(
        diagnostics[0].message.contains("unifiedlog")
            && diagnostics[0]
                .message
                .contains("not Windows event-log records"),
        "{}",
        diagnostics[0].message
    );
    let fields = [("exe", s("/usr/bin/nc"))];
    let titles_of = |e: &Event| {
        let mut titles: Vec<String> = scan(&engine, e).into_iter().map(|a| a.rule_title).collect();
        titles.sort();
        titles
    };
    // No channel, no provider: not a Windows record; the unmapped rules apply.
    let plain = event("", 0, &fields);
    assert_eq!(titles_of(&plain), ["macos", "zeek"]);
    // A Windows record of a channel the map does not name: only Windows rules.
    let unknown = event(
        "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational",
        131,
        &fields,
    );
    assert_eq!(titles_of(&unknown), ["any-windows"]);
    // An ETW record with an empty channel is still a Windows record.
    let mut etw = event("", 6, &fields);
    etw.meta.provider = Some("Microsoft-Windows-RPC".into());
    assert_eq!(titles_of(&etw), ["any-windows"]);
    assert_eq!(
        titles_of(&event(SYSMON, 1, &fields)),
        ["any-windows", "win"]
    ); // Linux channels the map names are not Windows channels.
    assert!(titles_of(&event("Linux/sshd", 0, &fields)).is_empty());
    assert!(titles_of(&event("Linux-Sysmon/Operational", 1, &fields)).is_empty());
}

#[test]
fn user_logsource_file_maps_a_new_source() {
    let yaml = "title: linux\nlogsource:\n    product: linux\n    service: auditd\ndetection:\n    sel:\n        exe|endswith: '/nc'\n    condition: sel\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.yml");
    std::fs::write(
        &file,
        "sources:\n  - logsource: {product: linux, service: auditd}\n    channels: [auditd]\n",
    )
    .unwrap();
    let mut map = LogsourceMap::builtin();
    map.extend_from_file(&file).unwrap();
    let (engine, diagnostics) = Engine::compile(&rules(yaml), &map);
    assert!(diagnostics.is_empty());
    let fields = [("exe", s("/usr/bin/nc"))];
    assert_eq!(scan(&engine, &event("auditd", 0, &fields)).len(), 1);
    assert!(scan(&engine, &event("", 0, &fields)).is_empty());
}

#[test]
fn alerts_carry_rule_metadata_event_meta_and_matched_fields() {
    let yaml = "title: Whoami\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\nlevel: high\ntags:\n    - attack.discovery\n    - attack.t1033\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    filter:\n        User: 'admin'\n    condition: sel and not filter\n";
    let set = rules(yaml);
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let mut event = proc_event(&[("Image", s("C:\\whoami.exe")), ("User", s("bob"))]);
    event.meta.record_id = Some(42);
    event.meta.computer = Some("host1".into());
    let alerts = scan(&engine, &event);
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.rule_id, "11111111-2222-3333-4444-555555555555");
    assert_eq!(alert.level, rampart_event::Level::High);
    assert_eq!(alert.status.as_deref(), Some("test"));
    assert_eq!(alert.techniques, ["T1033"]);
    assert_eq!(alert.tactics, ["discovery"]);
    assert_eq!(alert.event.record_id, Some(42));
    assert_eq!(alert.event.computer.as_deref(), Some("host1"));
    // Only the true, non-negated selection is reported.
    assert_eq!(alert.matched.len(), 1);
    assert_eq!(alert.matched[0].field, "Image");
    assert_eq!(alert.matched[0].value, "C:\\whoami.exe");
}

#[test]
fn sigma_filters_narrow_the_rules_they_name() {
    let yaml = "title: Whoami\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: sel\n---\ntitle: Not for admins\nlogsource:\n    product: windows\n    category: process_creation\nfilter:\n    rules:\n        - 11111111-2222-3333-4444-555555555555\n    selection:\n        User: 'admin'\n    condition: not selection\n";
    let set = rules(yaml);
    assert_eq!(set.filters.len(), 1);
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let bob = proc_event(&[("Image", s("C:\\whoami.exe")), ("User", s("bob"))]);
    let admin = proc_event(&[("Image", s("C:\\whoami.exe")), ("User", s("ADMIN"))]);
    assert_eq!(scan(&engine, &bob).len(), 1);
    assert!(scan(&engine, &admin).is_empty());
}

#[test]
fn non_ascii_values_and_lists() {
    let yaml = [
        proc_rule(
            "umlaut",
            "    sel:\n        Description|contains: 'ÜBER'\n    condition: sel",
        ),
        proc_rule(
            "ascii-in-unicode",
            "    sel:\n        Description|contains: 'tool'\n    condition: sel",
        ),
        proc_rule("list", "    sel:\n        Tags: 'beta'\n    condition: sel"),
    ]
    .concat();
    let event = proc_event(&[
        ("Description", s("Über TOOL – ünïcode")),
        ("Tags", Value::List(vec![s("alpha"), s("BETA")])),
    ]);
    assert_eq!(
        titles(&yaml, &event),
        ["umlaut", "ascii-in-unicode", "list"]
    );
}

#[test]
fn prepared_engine_scans_like_a_lazy_one() {
    let yaml = [
        proc_rule("a", "    sel:\n        CommandLine|contains: 'whoami'\n    condition: sel"),
        "title: b\nlogsource:\n    product: windows\n    service: security\ndetection:\n    sel:\n        EventID: 4624\n    condition: sel\n".to_owned(),
    ]
    .concat();
    let set = rules(&yaml);
    let (lazy, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let (eager, _) = Engine::compile(&set, &LogsourceMap::builtin());
    eager.prepare_all();
    for event in [
        proc_event(&[("CommandLine", s("cmd /c WHOAMI"))]),
        event("Security", 4624, &[]),
        event("Security", 4625, &[]),
    ] {
        assert_eq!(scan(&lazy, &event), scan(&eager, &event));
    }
    assert_eq!(scan(&eager, &event("Security", 4624, &[])).len(), 1);
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Engine>();
}

#[test]
fn equality_and_long_literals_anchor_precisely() {
    // Equality is looked up as a whole value: "security" occurs inside the provider
    // name of every Security record, but is not its value.
    let provider = "title: provider\nlogsource:\n    product: windows\n    service: security\ndetection:\n    sel:\n        EventID: 1102\n        Provider_Name: Security\n    condition: sel\n---\n";
    // A short event id needs no minimum length when it is the whole value.
    let sysmon = "title: sysmon-16\nlogsource:\n    product: windows\n    service: sysmon\ndetection:\n    sel:\n        EventID: 16\n    condition: sel\n---\n";
    // A long startswith keeps its end, which paths do not share.
    let tasks = proc_rule(
        "tasks",
        "    sel:\n        Image|startswith: 'C:\\Windows\\System32\\Tasks\\'\n    condition: sel",
    );
    // A regex needs one of the literals its matches start with.
    let obfuscated = proc_rule(
        "regex",
        "    sel:\n        CommandLine|re: '(?i)(set).*&&\\s?set'\n    condition: sel",
    );
    let set = rules(&format!("{provider}{sysmon}{tasks}{obfuscated}"));
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let mut scratch = engine.scratch();
    let mut candidates = |event: &Event| -> Vec<String> {
        engine
            .candidate_rules(event, &mut scratch)
            .into_iter()
            .map(|r| set.rules[r].title.clone())
            .collect()
    };
    let auditing = [("Provider_Name", s("Microsoft-Windows-Security-Auditing"))];
    assert!(candidates(&event("Security", 1102, &auditing)).is_empty());
    let eventlog = [("Provider_Name", s("SECURITY"))];
    assert_eq!(
        candidates(&event("Security", 1102, &eventlog)),
        ["provider"]
    );
    assert!(candidates(&event(SYSMON, 1, &[])).is_empty());
    assert_eq!(candidates(&event(SYSMON, 16, &[])), ["sysmon-16"]);
    let system32 = [("Image", s("C:\\Windows\\System32\\cmd.exe"))];
    assert!(candidates(&proc_event(&system32)).is_empty());
    let task = [("Image", s("c:\\windows\\system32\\tasks\\x.exe"))];
    assert_eq!(candidates(&proc_event(&task)), ["tasks"]);
    let plain = [("CommandLine", s("cmd.exe /c whoami"))];
    assert!(candidates(&proc_event(&plain)).is_empty());
    let chained = [("CommandLine", s("cmd /c SET a=1&& set b=2"))];
    assert_eq!(candidates(&proc_event(&chained)), ["regex"]);
    assert_eq!(titles(&obfuscated, &proc_event(&chained)), ["regex"]);
    assert_eq!(
        titles(&format!("{provider}{sysmon}{tasks}"), &proc_event(&task)),
        ["tasks"]
    );
}

/// SigmaHQ's firewall rule filters `ApplicationPath: null` and, for two service hosts
/// only, `ApplicationPath: ''`: an empty path added by any other program must alert,
/// and engine and reference must agree on every form of the field.
#[test]
fn null_matches_a_missing_or_null_field_and_not_an_empty_one() {
    let yaml = std::fs::read_to_string(rampart_testkit::data_path(
        "sigma/rules/windows/builtin/firewall_as/win_firewall_as_add_rule.yml",
    ))
    .unwrap();
    let channel = "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall";
    let added = |modifying: &str, path: Option<Value>| {
        let mut fields = vec![
            ("ModifyingApplication", s(modifying)),
            ("Action", Value::Int(3)),
        ];
        if let Some(path) = path {
            fields.push(("ApplicationPath", path));
        }
        event(channel, 2004, &fields)
    };
    let title = "Uncommon New Firewall Rule Added In Windows Firewall Exception List";
    let evil = "C:\\Users\\Public\\evil.exe";
    let svchost = "C:\\Windows\\System32\\svchost.exe";
    let cases = [
        (added(evil, None), false),
        (added(evil, Some(Value::Null)), false),
        (added(evil, Some(s(""))), true),
        (added(evil, Some(s("D:\\tools\\x.exe"))), true),
        (added(svchost, Some(s(""))), false),
        (added(svchost, Some(s("D:\\tools\\x.exe"))), true),
    ];
    for (event, alerts) in &cases {
        let expected: &[&str] = if *alerts { &[title] } else { &[] };
        assert_eq!(titles(&yaml, event), expected, "{:?}", event.fields);
    }
}

/// `''` matches only an empty string, `null` only a missing or null field, and a null
/// value matches no string pattern, in the engine as in the reference.
#[test]
fn empty_and_null_are_distinct_values() {
    let yaml = format!(
        "{}{}{}",
        proc_rule(
            "is-empty",
            "    sel:\n        FieldB: ''\n    condition: sel"
        ),
        proc_rule(
            "is-null",
            "    sel:\n        FieldB: null\n    condition: sel"
        ),
        proc_rule(
            "contains-empty",
            "    sel:\n        FieldB|contains: ''\n    condition: sel"
        ),
    );
    let with = |value: Option<Value>| {
        let mut fields = vec![("CommandLine", s("x"))];
        if let Some(value) = value {
            fields.push(("FieldB", value));
        }
        proc_event(&fields)
    };
    assert_eq!(titles(&yaml, &with(None)), ["is-null"]);
    assert_eq!(titles(&yaml, &with(Some(Value::Null))), ["is-null"]);
    assert_eq!(
        titles(&yaml, &with(Some(s("")))),
        ["is-empty", "contains-empty"]
    );
    assert_eq!(titles(&yaml, &with(Some(s("v")))), ["contains-empty"]);
}
