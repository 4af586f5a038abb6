//! Each syslog mapping proven by a SigmaHQ rule firing on a realistic line: the
//! Linux rules and the network ones (zeek, firewalls, whose bare `not` conditions
//! would fire on anything they were routed to) compiled with the built-in logsource
//! map, and every line must raise exactly the rules expected, no others.

use chrono::{TimeZone, Utc};
use rampart_detect::{Engine, LogsourceMap};
use rampart_event::Event;
use rampart_ingest::syslog::parse;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let paths = [
            rampart_testkit::data_path("sigma/rules/linux"),
            rampart_testkit::data_path("sigma/rules/network"),
        ];
        let (set, _) = rampart_sigma::load_rules(&paths);
        assert!(set.rules.len() > 250, "{} rules", set.rules.len());
        Engine::compile(&set, &LogsourceMap::builtin()).0
    })
}

fn event(line: &str) -> Event {
    let received = Utc
        .with_ymd_and_hms(2026, 5, 2, 12, 0, 0)
        .single()
        .unwrap_or_default();
    match parse(line.as_bytes(), received) {
        Ok(event) => event,
        Err(error) => panic!("{line}: {error}"),
    }
}

fn titles(line: &str) -> Vec<String> {
    let engine = engine();
    let mut scratch = engine.scratch();
    let mut titles = Vec::new();
    engine.scan(&event(line), &mut scratch, &mut |alert| {
        titles.push(alert.rule_title)
    });
    titles.sort();
    titles
}

#[test]
fn sshd_messages_reach_sshd_rules() {
    assert_eq!(
        titles("<38>May  2 11:58:01 bastion sshd[4121]: error: Corrupted MAC on input. [preauth]"),
        ["Suspicious OpenSSH Daemon Error"]
    );
}

#[test]
fn cron_rules_see_cron_and_only_cron() {
    assert_eq!(
        titles("<78>May  2 11:58:01 web01 crontab[2291]: (root) REPLACE (root)"),
        ["Modifying Crontab"]
    );
    // The same word from another program is not a crontab change.
    assert!(
        titles("<38>May  2 11:58:01 web01 sshd[1]: Invalid user REPLACE from 10.0.0.1").is_empty()
    );
}

#[test]
fn generic_syslog_rules_see_other_programs() {
    assert_eq!(
        titles("<27>May  2 11:58:01 ns1 named[733]: client @0x7f 203.0.113.5#53011 (example.com): zone transfer 'example.com/AXFR/IN' denied AXFR from 203.0.113.5"),
        ["Suspicious Named Error"]
    );
}

#[test]
fn product_only_rules_see_auth_lines() {
    // The example line of the rule itself, as Debian's auth.log carries it.
    assert_eq!(
        titles("<86>Dec 21 17:13:54 testserver useradd[1337]: new user: name=john, UID=0, GID=0, home=/home/john, shell=/bin/bash"),
        ["Privileged User Has Been Created"]
    );
}

#[test]
fn audit_records_reach_auditd_rules() {
    assert_eq!(
        titles("<14>May  2 11:58:01 web01 audisp-syslog: type=EXECVE msg=audit(1714651081.512:873): argc=1 a0=\"whoami\""),
        ["System Owner or User Discovery - Linux"]
    );
    assert_eq!(
        titles("<14>May  2 11:58:01 web01 audisp-syslog: type=PATH msg=audit(1714651081.512:874): item=0 name=\"/etc/ld.so.preload\" inode=1835 dev=08:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"),
        // The product-only keyword rule sees audit records too.
        ["Code Injection by ld.so Preload", "Modification of ld.so.preload"]
    );
    // A hex-encoded argument (auditd writes arguments with spaces so) is decoded.
    assert_eq!(
        titles("<14>May  2 11:58:01 web01 audit: type=EXECVE msg=audit(1714651081.512:875): argc=1 a0=77686F616D69"),
        ["System Owner or User Discovery - Linux"]
    );
}

const SYSMON_PROCESS: &str = "<Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime=\"2026-05-02T11:58:01.062574000Z\"/><EventRecordID>1207</EventRecordID><Correlation/><Execution ProcessID=\"1033\" ThreadID=\"1033\"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer><Security UserId=\"0\"/></System><EventData><Data Name=\"RuleName\">-</Data><Data Name=\"UtcTime\">2026-05-02 11:58:01.066</Data><Data Name=\"ProcessGuid\">{4a9a4f2b-8199-6633-c1a3-6bd3d9550000}</Data><Data Name=\"ProcessId\">23341</Data><Data Name=\"Image\">/usr/bin/base64</Data><Data Name=\"FileVersion\">-</Data><Data Name=\"Description\">-</Data><Data Name=\"Product\">-</Data><Data Name=\"Company\">-</Data><Data Name=\"OriginalFileName\">-</Data><Data Name=\"CommandLine\">base64 -d /tmp/payload.b64</Data><Data Name=\"CurrentDirectory\">/tmp</Data><Data Name=\"User\">root</Data><Data Name=\"LogonGuid\">{4a9a4f2b-0000-0000-0000-000000000000}</Data><Data Name=\"LogonId\">0</Data><Data Name=\"TerminalSessionId\">3</Data><Data Name=\"IntegrityLevel\">no level</Data><Data Name=\"Hashes\">-</Data><Data Name=\"ParentProcessGuid\">{4a9a4f2b-8199-6633-c1a3-6bd3d9550000}</Data><Data Name=\"ParentProcessId\">23340</Data><Data Name=\"ParentImage\">/usr/bin/bash</Data><Data Name=\"ParentCommandLine\">bash</Data><Data Name=\"ParentUser\">root</Data></EventData></Event>";

const SYSMON_NETWORK: &str = "<Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/><EventID>3</EventID><Version>5</Version><TimeCreated SystemTime=\"2026-05-02T11:58:02.000000000Z\"/><EventRecordID>1208</EventRecordID><Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer></System><EventData><Data Name=\"RuleName\">-</Data><Data Name=\"Image\">/usr/bin/nc.openbsd</Data><Data Name=\"User\">root</Data><Data Name=\"Protocol\">tcp</Data><Data Name=\"Initiated\">true</Data><Data Name=\"SourceIsIpv6\">false</Data><Data Name=\"SourceIp\">10.0.0.5</Data><Data Name=\"SourcePort\">51514</Data><Data Name=\"DestinationIsIpv6\">false</Data><Data Name=\"DestinationIp\">198.51.100.7</Data><Data Name=\"DestinationPort\">4444</Data></EventData></Event>";

#[test]
fn sysmon_for_linux_records_reach_category_rules() {
    let process = format!("<14>May  2 11:58:01 web01 sysmon: {SYSMON_PROCESS}");
    assert_eq!(titles(&process), ["Decode Base64 Encoded Text"]);
    let event = event(&process);
    assert_eq!(event.meta.computer.as_deref(), Some("web01"));
    assert_eq!(event.meta.record_id, Some(1207));
    let network = format!("<14>1 2026-05-02T11:58:02Z web01 sysmon 1033 - - {SYSMON_NETWORK}");
    assert_eq!(
        titles(&network),
        ["Potentially Suspicious Malware Callback Communication - Linux"]
    );
}

#[test]
fn plain_messages_raise_nothing() {
    for line in [
        "<38>May  2 11:58:01 web01 sshd[4121]: Accepted publickey for deploy from 10.0.0.9 port 50022 ssh2",
        "<30>May  2 11:58:01 web01 systemd[1]: Started Daily apt upgrade and clean activities.",
        "<13>1 2026-05-02T11:58:01Z router1 - - - - interface Gi0/1 up",
        "no header at all",
    ] {
        assert!(titles(line).is_empty(), "{line}: {:?}", titles(line));
    }
}
