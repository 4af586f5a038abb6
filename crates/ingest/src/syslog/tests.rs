use super::*;
use chrono::TimeZone;

fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 2, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn text<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    event.get(name).and_then(Value::as_str)
}

#[test]
fn rfc3164_line_becomes_a_routed_event() {
    let event = parse(
        b"<38>May  2 11:59:00 web01 sshd[812]: Failed password for root from 10.0.0.9 port 50022 ssh2\n",
        received(),
    )
    .unwrap();
    assert_eq!(event.meta.computer.as_deref(), Some("web01"));
    assert_eq!(event.meta.channel.as_deref(), Some("Linux/sshd"));
    assert_eq!(event.meta.source.as_ref(), "syslog");
    assert_eq!(
        event.meta.timestamp.map(|t| t.to_rfc3339()),
        Some("2026-05-02T11:59:00+00:00".to_owned())
    );
    assert_eq!(text(&event, "Facility"), Some("auth"));
    assert_eq!(text(&event, "Severity"), Some("info"));
    assert_eq!(text(&event, "Hostname"), Some("web01"));
    assert_eq!(text(&event, "AppName"), Some("sshd"));
    assert_eq!(event.get("ProcessId"), Some(&Value::Int(812)));
    assert_eq!(
        text(&event, "Message"),
        Some("Failed password for root from 10.0.0.9 port 50022 ssh2")
    );
}

#[test]
fn programs_and_facilities_pick_the_service_channel() {
    let channel = |line: &str| {
        parse(line.as_bytes(), received())
            .ok()
            .and_then(|event| event.meta.channel.map(|c| c.to_string()))
    };
    assert_eq!(
        channel("<85>May  2 11:00:00 h sudo: alice : TTY=pts/0 ; COMMAND=/bin/id").as_deref(),
        Some("Linux/sudo")
    );
    assert_eq!(
        channel("<78>May  2 11:00:00 h CRON[99]: (root) CMD (true)").as_deref(),
        Some("Linux/cron")
    );
    assert_eq!(
        channel("<86>May  2 11:00:00 h useradd[5]: new user: name=x").as_deref(),
        Some("Linux/auth")
    );
    assert_eq!(
        channel("<30>May  2 11:00:00 h named[5]: client denied").as_deref(),
        Some("Linux/syslog")
    );
    assert_eq!(
        channel("<13>1 - h /usr/sbin/vsftpd 4 - - x").as_deref(),
        Some("Linux/vsftpd")
    );
}

#[test]
fn rfc5424_structured_data_and_no_time() {
    let event = parse(
        b"<165>1 - host app 77 ID47 [origin@32473 ip=\"192.0.2.1\" software=\"x\\]y\"] \xef\xbb\xbfhello",
        received(),
    )
    .unwrap();
    assert_eq!(event.meta.timestamp, Some(received()));
    assert_eq!(text(&event, "origin@32473.ip"), Some("192.0.2.1"));
    assert_eq!(text(&event, "origin@32473.software"), Some("x]y"));
    assert_eq!(text(&event, "MsgId"), Some("ID47"));
    assert_eq!(text(&event, "Message"), Some("hello"));
    assert_eq!(text(&event, "Facility"), Some("local4"));
}

#[test]
fn audit_records_split_into_their_fields() {
    let event = parse(
        b"<14>May  2 11:00:00 h audisp-syslog: type=PATH msg=audit(1714647600.123:420): item=0 name=\"/etc/ld.so.preload\" inode=1 nametype=NORMAL",
        received(),
    )
    .unwrap();
    assert_eq!(event.meta.channel.as_deref(), Some("Linux/auditd"));
    assert_eq!(text(&event, "type"), Some("PATH"));
    assert_eq!(text(&event, "name"), Some("/etc/ld.so.preload"));
    // The record's own time wins over the header's.
    assert_eq!(
        event.meta.timestamp.map(|t| t.to_rfc3339()),
        Some("2024-05-02T11:00:00.123+00:00".to_owned())
    );
}

#[test]
fn sysmon_for_linux_records_read_as_evtx_records() {
    let line = format!(
        "<14>May  2 11:00:00 h sysmon: {}",
        "<Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/><EventID>3</EventID><Channel>Linux-Sysmon/Operational</Channel><Computer>box</Computer></System><EventData><Data Name=\"DestinationPort\">4444</Data></EventData></Event>"
    );
    let event = parse(line.as_bytes(), received()).unwrap();
    assert_eq!(
        event.meta.channel.as_deref(),
        Some("Linux-Sysmon/Operational")
    );
    assert_eq!(event.meta.event_id, Some(3));
    assert_eq!(event.meta.computer.as_deref(), Some("box"));
    // No `TimeCreated` in the record: the syslog header's time.
    assert_eq!(
        event.meta.timestamp.map(|t| t.to_rfc3339()),
        Some("2026-05-02T11:00:00+00:00".to_owned())
    );
    assert_eq!(text(&event, "DestinationPort"), Some("4444"));
    // Broken XML stays a plain message that keyword rules still see.
    let broken = parse(b"<14>May  2 11:00:00 h sysmon: <Event><System>", received()).unwrap();
    assert_eq!(broken.meta.channel.as_deref(), Some("Linux/syslog"));
    assert_eq!(text(&broken, "Message"), Some("<Event><System>"));
}

#[test]
fn hostile_bytes_are_bounded_and_never_fail_but_empty() {
    assert_eq!(parse(b"", received()), Err(ParseError::Empty));
    assert_eq!(parse(b" \r\n", received()), Err(ParseError::Empty));
    let event = parse(b"<13>\xff\xfe tag: \x00x", received()).unwrap();
    assert!(text(&event, "Message").is_some());
    let mut huge = b"<13>May  2 11:00:00 h big: ".to_vec();
    huge.resize(MAX_MESSAGE_BYTES * 2, b'a');
    let event = parse(&huge, received()).unwrap();
    let message = text(&event, "Message").unwrap_or_default();
    assert!(message.len() < MAX_MESSAGE_BYTES, "{}", message.len());
    assert!(fuzz_syslog(&huge) > 0);
}

/// A deterministic stand-in for the fuzz target on stable Rust: realistic messages of
/// every mapping, cut, spliced and with bytes flipped, must never panic the parser or
/// the framer (nor break what `fuzz_syslog` asserts).
#[test]
fn mutated_messages_never_panic() {
    let seeds: [&[u8]; 6] = [
        b"<38>May  2 11:58:01 web01 sshd[4121]: error: Corrupted MAC on input.",
        b"<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a@1 b=\"c\\\"d\"][e f=\"\"] \xef\xbb\xbfmsg",
        b"<14>May  2 11:00:00 h audisp-syslog: type=EXECVE msg=audit(1714647600.123:420): argc=2 a0=\"id\" a1=2D61",
        b"<14>May  2 11:00:00 h sysmon: <Event><System><EventID>1</EventID><Channel>Linux-Sysmon/Operational</Channel></System><EventData><Data Name=\"Image\">/bin/x</Data></EventData></Event>",
        b"41 <13>1 - - - - - - octet counted message\n<13>lf line\n",
        b"<86>Feb 29 23:59:59 2024 host su: x",
    ];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut parsed = 0;
    for round in 0..20_000 {
        let seed = seeds[round % seeds.len()];
        let mut input = seed.to_vec();
        for _ in 0..(next() % 4) {
            let at = (next() as usize) % input.len().max(1);
            match next() % 4 {
                0 => input.truncate(at),
                1 => {
                    if let Some(byte) = input.get_mut(at) {
                        *byte = next() as u8;
                    }
                }
                2 => {
                    let other = seeds[(next() as usize) % seeds.len()];
                    let from = (next() as usize) % other.len();
                    input.splice(at.min(input.len()).., other[from..].iter().copied());
                }
                _ => input.insert(
                    at.min(input.len()),
                    b"<>[]\"\\= :\n\0"[(next() % 11) as usize],
                ),
            }
        }
        parsed += fuzz_syslog(&input);
    }
    assert!(parsed > 10_000, "{parsed}");
}
