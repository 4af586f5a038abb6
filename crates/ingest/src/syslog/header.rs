//! The syslog header: RFC 5424 and RFC 3164 (BSD) with the deviations real senders
//! produce. Pure functions over one message's bytes, so they can be fuzzed.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A message's header and body, borrowed from the message text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header<'a> {
    /// Facility code (0–23).
    pub(crate) facility: u8,
    /// Severity code (0–7).
    pub(crate) severity: u8,
    /// Event time from the header, when it has one that could be read.
    pub(crate) timestamp: Option<DateTime<Utc>>,
    /// The sender's host name.
    pub(crate) hostname: Option<&'a str>,
    /// RFC 5424 APP-NAME, or the RFC 3164 tag's program.
    pub(crate) app_name: Option<&'a str>,
    /// RFC 5424 PROCID, or the pid in the RFC 3164 tag (`sshd[812]:`).
    pub(crate) procid: Option<&'a str>,
    /// RFC 5424 MSGID.
    pub(crate) msgid: Option<&'a str>,
    /// RFC 5424 structured data: `(SD-ID, [(param, value)])`, values unescaped.
    pub(crate) structured: Vec<(&'a str, Vec<(&'a str, String)>)>,
    /// The free-form message (a leading BOM removed).
    pub(crate) message: &'a str,
}

/// RFC 3164 section 4.3.3: a message without a readable PRI is `user.notice`.
const DEFAULT_PRI: u8 = 13;

/// Splits one syslog message (no framing) into header and body. Never fails: text
/// that follows neither RFC is a `user.notice` message with no header.
pub(crate) fn parse_header(text: &str, received_at: DateTime<Utc>) -> Header<'_> {
    let (pri, rest) = match priority(text) {
        Some((pri, rest)) => (pri, rest),
        None => (DEFAULT_PRI, text),
    };
    let mut header = Header {
        facility: pri >> 3,
        severity: pri & 7,
        timestamp: None,
        hostname: None,
        app_name: None,
        procid: None,
        msgid: None,
        structured: Vec::new(),
        message: rest,
    };
    match rest.strip_prefix("1 ") {
        Some(after_version) => rfc5424(after_version, &mut header),
        None => rfc3164(rest, received_at, &mut header),
    }
    header
}

/// `<PRI>`: one to three digits, at most 191 (facility 23, severity 7).
fn priority(text: &str) -> Option<(u8, &str)> {
    let rest = text.strip_prefix('<')?;
    let close = rest.find('>')?;
    let digits = &rest[..close];
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let pri: u8 = digits.parse().ok().filter(|&pri| pri <= 191)?;
    Some((pri, &rest[close + 1..]))
}

/// Cuts the next space-separated token.
fn token(text: &str) -> (&str, &str) {
    match text.find(' ') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    }
}

/// An RFC 5424 header field: `-` is NILVALUE.
fn nil(field: &str) -> Option<&str> {
    (!field.is_empty() && field != "-").then_some(field)
}

/// `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`.
fn rfc5424<'a>(text: &'a str, header: &mut Header<'a>) {
    let (timestamp, text) = token(text);
    let (hostname, text) = token(text);
    let (app_name, text) = token(text);
    let (procid, text) = token(text);
    let (msgid, text) = token(text);
    header.timestamp = nil(timestamp)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    header.hostname = nil(hostname);
    header.app_name = nil(app_name);
    header.procid = nil(procid);
    header.msgid = nil(msgid);
    let message = match text.strip_prefix('-') {
        Some(rest) => rest,
        None => structured_data(text, &mut header.structured),
    };
    // One space separates SD and MSG; rsyslog's forwarding template writes the BSD
    // message with its own leading space after it, so all are dropped.
    let message = message.trim_start_matches(' ');
    header.message = message.strip_prefix('\u{feff}').unwrap_or(message);
}

/// Reads `[id param="value" …]…` into `out`; returns the text after it. Malformed
/// data ends the reading: what follows is taken as the message.
fn structured_data<'a>(
    mut text: &'a str,
    out: &mut Vec<(&'a str, Vec<(&'a str, String)>)>,
) -> &'a str {
    while let Some(inner) = text.strip_prefix('[') {
        let Some((element, rest)) = sd_element(inner) else {
            return text;
        };
        out.push(element);
        text = rest;
    }
    text
}

/// One SD-ELEMENT after its `[`: the id, its params, and the text after its `]`.
#[allow(clippy::type_complexity)]
fn sd_element(text: &str) -> Option<((&str, Vec<(&str, String)>), &str)> {
    let end_of_id = text.find([' ', ']'])?;
    let id = &text[..end_of_id];
    let mut rest = &text[end_of_id..];
    let mut params = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix(']') {
            return (!id.is_empty()).then_some(((id, params), after));
        }
        rest = rest.strip_prefix(' ')?;
        let equals = rest.find('=')?;
        let name = &rest[..equals];
        rest = rest[equals + 1..].strip_prefix('"')?;
        // The value ends at the first `"` not escaped by a backslash; `\"`, `\\` and
        // `\]` stand for the character, any other backslash for itself (RFC 5424 6.3.3).
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let close = loop {
            let (at, c) = chars.next()?;
            match c {
                '"' => break at,
                '\\' => match rest[at + 1..].chars().next() {
                    Some(next @ ('"' | '\\' | ']')) => {
                        value.push(next);
                        chars.next();
                    }
                    _ => value.push('\\'),
                },
                c => value.push(c),
            }
        };
        params.push((name, value));
        rest = &rest[close + 1..];
    }
}

/// `TIMESTAMP [HOSTNAME] [TAG[PID]:] MSG`, where the timestamp is BSD
/// (`Mmm dd hh:mm:ss`, optionally with a year or fraction) or RFC 3339, the host name
/// is often missing (local senders), and the tag may be too.
fn rfc3164<'a>(text: &'a str, received_at: DateTime<Utc>, header: &mut Header<'a>) {
    let (timestamp, rest) = match bsd_timestamp(text, received_at) {
        Some((timestamp, rest)) => (Some(timestamp), rest),
        None => {
            let (first, rest) = token(text);
            match DateTime::parse_from_rfc3339(first) {
                Ok(time) => (Some(time.with_timezone(&Utc)), rest),
                Err(_) => (None, text),
            }
        }
    };
    header.timestamp = timestamp;
    let mut rest = rest.trim_start_matches(' ');
    // After a timestamp comes the host name, unless the next token is already the tag
    // (it ends with `:` or holds `[`): host names do neither. A token followed by
    // text with no tag is a host name too (`host message without a tag`).
    if timestamp.is_some() {
        let (first, after) = token(rest);
        let host_then_tag = !first.ends_with(':') && !first.contains('[') && tag(after).is_some();
        if !first.is_empty() && (host_then_tag || tag(rest).is_none()) {
            header.hostname = Some(first);
            rest = after;
        }
    }
    match tag(rest) {
        Some((program, pid, message)) => {
            header.app_name = Some(program);
            header.procid = pid;
            header.message = message;
        }
        None => header.message = rest,
    }
}

/// `program[pid]: message` or `program: message`: the program name is at most 48
/// characters of letters, digits and `_-./@`.
fn tag(text: &str) -> Option<(&str, Option<&str>, &str)> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || "_-./@".contains(c)))
        .unwrap_or(text.len());
    if end == 0 || end > 48 {
        return None;
    }
    let program = &text[..end];
    let mut rest = &text[end..];
    let mut pid = None;
    if let Some(inner) = rest.strip_prefix('[') {
        let close = inner.find(']')?;
        pid = Some(&inner[..close]).filter(|p| !p.is_empty());
        rest = &inner[close + 1..];
    }
    let message = rest.strip_prefix(':')?;
    Some((program, pid, message.strip_prefix(' ').unwrap_or(message)))
}

/// `Mmm dd hh:mm:ss` (day space- or zero-padded), with an optional fraction and an
/// optional year after the day or the time. BSD stamps have no zone (read as UTC) and
/// no year: the year is the one that puts the time nearest `received_at` (a December
/// message received in January is from last year).
fn bsd_timestamp(text: &str, received_at: DateTime<Utc>) -> Option<(DateTime<Utc>, &str)> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| text.starts_with(m))? as u32 + 1;
    let rest = text.get(3..)?.strip_prefix(' ')?;
    let rest = rest.trim_start_matches(' ');
    let (day, rest) = token(rest);
    let day: u32 = day.parse().ok()?;
    let (mut clock, mut rest) = token(rest);
    let mut year = None;
    if clock.len() == 4 && clock.bytes().all(|b| b.is_ascii_digit()) {
        year = clock.parse::<i32>().ok();
        (clock, rest) = token(rest);
    }
    let time = chrono::NaiveTime::parse_from_str(clock, "%H:%M:%S%.f").ok()?;
    if year.is_none() {
        let (next, after) = token(rest);
        if next.len() == 4 && next.bytes().all(|b| b.is_ascii_digit()) {
            year = next.parse::<i32>().ok();
            rest = after;
        }
    }
    let at = |year: i32| {
        NaiveDate::from_ymd_opt(year, month, day)
            .map(|date| NaiveDateTime::new(date, time))
            .map(|naive| Utc.from_utc_datetime(&naive))
    };
    let timestamp = match year {
        Some(year) => at(year)?,
        None => {
            let this = received_at.year();
            // Feb 29 exists only in some years: try the nearest first.
            [this, this - 1, this + 1]
                .into_iter()
                .filter_map(at)
                .min_by_key(|t| (*t - received_at).num_seconds().unsigned_abs())?
        }
    };
    Some((timestamp, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 3, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn rfc5424_with_structured_data_bom_and_nil_values() {
        let text = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Appli\\\"cation\" eventID=\"1011\"][examplePriority@32473 class=\"high\"] \u{feff}An application event";
        let header = parse_header(text, received());
        assert_eq!((header.facility, header.severity), (20, 5));
        assert_eq!(header.hostname, Some("mymachine.example.com"));
        assert_eq!(header.app_name, Some("evntslog"));
        assert_eq!(header.procid, None);
        assert_eq!(header.msgid, Some("ID47"));
        assert_eq!(header.message, "An application event");
        assert_eq!(header.structured.len(), 2);
        assert_eq!(
            header.structured[0].1[1],
            ("eventSource", "Appli\"cation".to_owned())
        );
        assert_eq!(
            header.timestamp.map(|t| t.to_rfc3339()),
            Some("2003-10-11T22:14:15.003+00:00".to_owned())
        );
        let bare = parse_header("<13>1 - - - - - -", received());
        assert_eq!(
            (bare.hostname, bare.timestamp, bare.message),
            (None, None, "")
        );
    }

    #[test]
    fn rfc3164_with_and_without_hostname_and_year() {
        let full = parse_header(
            "<38>Dec 31 23:59:58 web01 sshd[812]: Accepted password",
            received(),
        );
        assert_eq!((full.facility, full.severity), (4, 6));
        assert_eq!(full.hostname, Some("web01"));
        assert_eq!((full.app_name, full.procid), (Some("sshd"), Some("812")));
        assert_eq!(full.message, "Accepted password");
        // Received on 3 January: a 31 December stamp is from the year before.
        assert_eq!(
            full.timestamp.map(|t| t.to_rfc3339()),
            Some("2025-12-31T23:59:58+00:00".to_owned())
        );
        let local = parse_header(
            "<86>Jan  3 11:00:00 su: pam_unix(su:session): opened",
            received(),
        );
        assert_eq!(
            (local.hostname, local.app_name, local.procid),
            (None, Some("su"), None)
        );
        assert_eq!(local.message, "pam_unix(su:session): opened");
        let iso = parse_header(
            "<30>2026-01-03T10:00:00.5+01:00 host cron[7]: x",
            received(),
        );
        assert_eq!(iso.hostname, Some("host"));
        assert_eq!(
            iso.timestamp.map(|t| t.to_rfc3339()),
            Some("2026-01-03T09:00:00.500+00:00".to_owned())
        );
        let tagless = parse_header("<13>Jan  3 11:00:00 host just text", received());
        assert_eq!((tagless.hostname, tagless.app_name), (Some("host"), None));
        assert_eq!(tagless.message, "just text");
        let no_pri = parse_header("plain text: no header", received());
        assert_eq!((no_pri.facility, no_pri.severity), (1, 5));
        assert_eq!(no_pri.app_name, None);
        assert_eq!(no_pri.message, "plain text: no header");
        let bad_pri = parse_header("<999>x", received());
        assert_eq!((bad_pri.facility, bad_pri.message), (1, "<999>x"));
    }

    #[test]
    fn malformed_structured_data_becomes_message() {
        let header = parse_header("<13>1 - h a - - [id x=\"unterminated", received());
        assert!(header.structured.is_empty());
        assert_eq!(header.message, "[id x=\"unterminated");
    }
}
