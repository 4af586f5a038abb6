//! Syslog: RFC 5424 and RFC 3164 messages into events, and TCP/UDP listeners.
//!
//! [`parse`] reads one message (no framing) into an [`Event`] whose fields are those
//! SigmaHQ's Linux rules name where a known format allows:
//!
//! - every message: `Facility`, `Severity` (names: `auth`, `info`), `Hostname` (also
//!   the event's host, so incidents group by it), `AppName`, `ProcessId`, `MsgId`,
//!   `Message`, and each RFC 5424 structured-data parameter as `SDID.param`;
//! - the channel `Linux/<service>` from the program (`sshd`, `sudo`, `su`, `cron`,
//!   `auditd`, `vsftpd`, `clamav`, `guacamole`), else `Linux/auth` for the auth and
//!   authpriv facilities, else `Linux/syslog`: the built-in logsource map routes
//!   `product: linux, service: X` rules to those channels, so a cron rule never sees
//!   sshd's messages, and keyword rules see the message;
//! - audit records (`type=EXECVE msg=audit(…): a0="id"`) split into their raw fields
//!   (`type`, `a0`, `exe`, `name`, … hex-encoded values decoded) on `Linux/auditd`;
//! - Sysmon for Linux records (the XML of a Windows event) flattened exactly as EVTX
//!   records, on their own channel `Linux-Sysmon/Operational`.
//!
//! A message is capped at [`MAX_MESSAGE_BYTES`]; the listeners report longer ones,
//! cut, as diagnostics. Bytes that are not UTF-8 are read as U+FFFD.

mod auditd;
mod frame;
mod header;
mod listen;
mod sysmon;

pub use frame::{Frame, Framer};
pub use listen::{
    listen_tcp, listen_udp, BatchSink, ListenOptions, Listener, ListenerStats, Saturated,
};

use chrono::{DateTime, Utc};
use rampart_event::{Event, EventMeta, Value};
use std::sync::Arc;

/// The longest message read, in bytes: the rest of a longer one is cut off.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A message that holds no event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The message is empty or only whitespace.
    #[error("empty syslog message")]
    Empty,
}

/// Reads one syslog message (RFC 5424, or RFC 3164 with the usual deviations) into an
/// event; `received_at` stands in for a missing or unreadable header time, and gives
/// an RFC 3164 time its year. Bytes past [`MAX_MESSAGE_BYTES`] are ignored. The
/// event's `source` is `syslog`; listeners name the peer instead.
pub fn parse(bytes: &[u8], received_at: DateTime<Utc>) -> Result<Event, ParseError> {
    let bytes = &bytes[..bytes.len().min(MAX_MESSAGE_BYTES)];
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\n', '\r', '\0']);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let header = header::parse_header(text, received_at);
    if sysmon::looks_like_event_xml(header.message) {
        if let Some(mut event) = sysmon::parse(header.message) {
            event.meta.source = Arc::from("syslog");
            if event.meta.computer.is_none() {
                event.meta.computer = header.hostname.map(Into::into);
            }
            if event.meta.timestamp.is_none() {
                event.meta.timestamp = Some(header.timestamp.unwrap_or(received_at));
            }
            return Ok(event);
        }
    }
    let mut event = Event {
        meta: EventMeta {
            source: Arc::from("syslog"),
            timestamp: Some(header.timestamp.unwrap_or(received_at)),
            computer: header.hostname.map(Into::into),
            ..EventMeta::default()
        },
        fields: Vec::with_capacity(12),
    };
    let string = |s: &str| Value::Str(s.into());
    event.set("Facility", string(facility_name(header.facility)));
    event.set(
        "Severity",
        string(SEVERITIES[usize::from(header.severity & 7)]),
    );
    if let Some(hostname) = header.hostname {
        event.set("Hostname", string(hostname));
    }
    if let Some(app_name) = header.app_name {
        event.set("AppName", string(app_name));
    }
    if let Some(procid) = header.procid {
        let value = procid
            .parse::<i64>()
            .map_or_else(|_| string(procid), Value::Int);
        event.set("ProcessId", value);
    }
    if let Some(msgid) = header.msgid {
        event.set("MsgId", string(msgid));
    }
    for (id, params) in &header.structured {
        for (param, value) in params {
            event.set(&format!("{id}.{param}"), string(value.as_str()));
        }
    }
    event.set("Message", string(header.message));
    let mut service = service_of(header.app_name, header.facility);
    if let Some(record) = auditd::parse(header.message) {
        service = "auditd";
        if let Some(timestamp) = record.timestamp {
            event.meta.timestamp = Some(timestamp);
        }
        for (key, value) in record.fields {
            // The record's own fields win over the header's (`pid`, `type` are raw
            // lower-case names, so only a structured-data clash is possible).
            event.set(&key, Value::Str(value.into()));
        }
    }
    event.meta.channel = Some(format!("Linux/{service}").into());
    Ok(event)
}

/// The channel service of a program: the SigmaHQ `service` its messages belong to.
fn service_of(app_name: Option<&str>, facility: u8) -> &'static str {
    let program = app_name
        .map(|name| name.rsplit('/').next().unwrap_or(name))
        .unwrap_or("")
        .to_ascii_lowercase();
    match program.as_str() {
        "sshd" | "sshd-session" => "sshd",
        "sudo" => "sudo",
        "su" => "su",
        "cron" | "crond" | "crontab" | "anacron" => "cron",
        "auditd" | "audispd" | "audisp-syslog" | "audit" => "auditd",
        "vsftpd" => "vsftpd",
        "clamd" | "freshclam" | "clamav" | "clamav-milter" | "clamscan" => "clamav",
        "guacd" | "guacamole" => "guacamole",
        // auth (4) and authpriv (10): login, passwd, useradd, pam, …
        _ if facility == 4 || facility == 10 => "auth",
        _ => "syslog",
    }
}

/// Facility names (RFC 5424 table 1, as syslog.h spells them).
fn facility_name(facility: u8) -> &'static str {
    const NAMES: [&str; 24] = [
        "kern",
        "user",
        "mail",
        "daemon",
        "auth",
        "syslog",
        "lpr",
        "news",
        "uucp",
        "cron",
        "authpriv",
        "ftp",
        "ntp",
        "security",
        "console",
        "solaris-cron",
        "local0",
        "local1",
        "local2",
        "local3",
        "local4",
        "local5",
        "local6",
        "local7",
    ];
    NAMES
        .get(usize::from(facility))
        .copied()
        .unwrap_or("unknown")
}

/// Severity names (RFC 5424 table 2, as syslog.h spells them).
const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Entry point for the `syslog` fuzz target: parses `data` as a message and as a TCP
/// stream, checking what must hold for any input (a parsed event has a time, a
/// message and a `Linux/` or Sysmon channel; frames are never longer than the cap).
/// Returns the number of events, so the work cannot be optimised away.
pub fn fuzz_syslog(data: &[u8]) -> usize {
    let now = DateTime::<Utc>::default();
    let mut events = 0;
    if let Ok(event) = parse(data, now) {
        assert!(event.meta.timestamp.is_some(), "an event without a time");
        assert!(event.meta.channel.is_some(), "an event without a channel");
        events += 1;
    }
    let mut framer = Framer::new(256);
    for chunk in data.chunks(7) {
        framer.push(chunk);
        while let Some(frame) = framer.next_frame() {
            assert!(frame.bytes.len() <= 256, "a frame past the cap");
            events += usize::from(parse(&frame.bytes, now).is_ok());
        }
    }
    events
}

#[cfg(test)]
mod tests;
