//! A JSON-lines writer for [`Alert`]s that gives exactly the bytes of
//! `serde_json::to_writer(out, alert)` plus a newline, at a fraction of the cost.
//!
//! Hunts write one line per alert and most alerts come from a few hundred rules, so the
//! rule's part of the line (id, title, level, status, techniques, tactics, tags) is
//! rendered once per rule and copied afterwards; only the event header and the matched
//! fields are written per alert, by hand rather than through serde's generic path.
//! The tests hold every line against serde's, so a change to [`Alert`]'s fields fails
//! them until this writer follows.

use super::Alert;
use crate::{EventMeta, Level};
use chrono::{DateTime, Datelike, Timelike, Utc};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Renders alerts as JSON lines into a byte buffer, remembering each rule's rendered
/// part. One writer per thread: it is cheap to create and holds only rendered text.
#[derive(Debug, Default)]
pub struct JsonLineWriter {
    /// Index into `heads` by rule id.
    rule_index: HashMap<Box<str>, usize, BuildHasherDefault<IdHasher>>,
    /// Rendered rule parts. Ids are meant to be unique but nothing enforces it (a rule
    /// without an id is known by its file name, correlations make alerts of their
    /// own), so each id keeps every distinct rule seen under it.
    heads: Vec<Vec<RuleHead>>,
    /// The last event source rendered: alerts come in runs from one input.
    source: Option<(Arc<str>, Vec<u8>)>,
}

/// A word-at-a-time multiplicative hash for rule ids: every alert looks its rule up,
/// and ids come from the rule files, so SipHash's flooding resistance buys nothing.
#[derive(Default)]
struct IdHasher(u64);

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // The table indexes with the low bits; the multiply mixes into the high ones.
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(<[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes));
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(word));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }
}

/// One rule's fields and their rendered text, from `,"rule_id":` up to and including
/// `"event":{"source":`.
#[derive(Debug)]
struct RuleHead {
    rule_title: String,
    level: Level,
    status: Option<String>,
    techniques: Vec<String>,
    tactics: Vec<String>,
    tags: Vec<String>,
    text: Vec<u8>,
}

impl RuleHead {
    fn new(alert: &Alert) -> Self {
        let mut text = Vec::with_capacity(256);
        text.extend_from_slice(b",\"rule_id\":");
        write_str(&mut text, &alert.rule_id);
        text.extend_from_slice(b",\"rule_title\":");
        write_str(&mut text, &alert.rule_title);
        text.extend_from_slice(b",\"level\":\"");
        text.extend_from_slice(alert.level.as_str().as_bytes());
        text.extend_from_slice(b"\",\"status\":");
        write_opt_str(&mut text, alert.status.as_deref());
        text.extend_from_slice(b",\"techniques\":");
        write_str_list(&mut text, &alert.techniques);
        text.extend_from_slice(b",\"tactics\":");
        write_str_list(&mut text, &alert.tactics);
        text.extend_from_slice(b",\"tags\":");
        write_str_list(&mut text, &alert.tags);
        text.extend_from_slice(b",\"event\":{\"source\":");
        RuleHead {
            rule_title: alert.rule_title.clone(),
            level: alert.level,
            status: alert.status.clone(),
            techniques: alert.techniques.clone(),
            tactics: alert.tactics.clone(),
            tags: alert.tags.clone(),
            text,
        }
    }

    /// Whether this head renders `alert`'s rule fields (its id is the map key).
    fn fits(&self, alert: &Alert) -> bool {
        self.level == alert.level
            && self.rule_title == alert.rule_title
            && self.status == alert.status
            && self.techniques == alert.techniques
            && self.tactics == alert.tactics
            && self.tags == alert.tags
    }
}

impl JsonLineWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `alert` as one JSON object and a newline to `out`.
    pub fn write(&mut self, alert: &Alert, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"id\":");
        write_str(out, &alert.id);
        self.write_head(alert, out);
        self.write_source(&alert.event.source, out);
        write_event_rest(&alert.event, out);
        out.extend_from_slice(b",\"matched\":");
        write_field_values(
            out,
            alert
                .matched
                .iter()
                .map(|m| (m.field.as_str(), m.value.as_str())),
        );
        out.extend_from_slice(b",\"context\":");
        write_field_values(
            out,
            alert
                .context
                .iter()
                .map(|c| (c.field.as_str(), c.value.as_str())),
        );
        if let Some(intel) = &alert.intel {
            // IoC hits are few; serde's generic path is fast enough for them.
            out.extend_from_slice(b",\"intel\":");
            if serde_json::to_writer(&mut *out, intel).is_err() {
                out.extend_from_slice(b"null");
            }
        }
        out.extend_from_slice(b"}\n");
    }

    fn write_head(&mut self, alert: &Alert, out: &mut Vec<u8>) {
        let index = match self.rule_index.get(alert.rule_id.as_str()) {
            Some(&index) => index,
            None => {
                self.heads.push(Vec::new());
                let index = self.heads.len() - 1;
                self.rule_index.insert(alert.rule_id.as_str().into(), index);
                index
            }
        };
        let heads = &mut self.heads[index];
        let head = match heads.iter().position(|head| head.fits(alert)) {
            Some(index) => &heads[index],
            None => {
                heads.push(RuleHead::new(alert));
                &heads[heads.len() - 1]
            }
        };
        out.extend_from_slice(&head.text);
    }

    fn write_source(&mut self, source: &Arc<str>, out: &mut Vec<u8>) {
        match &self.source {
            Some((last, text)) if Arc::ptr_eq(last, source) || **last == **source => {
                out.extend_from_slice(text);
            }
            _ => {
                let mut text = Vec::with_capacity(source.len() + 2);
                write_str(&mut text, source);
                out.extend_from_slice(&text);
                self.source = Some((Arc::clone(source), text));
            }
        }
    }
}

/// The event header after `source`, and the closing brace of `event`.
fn write_event_rest(event: &EventMeta, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"timestamp\":");
    match &event.timestamp {
        Some(time) => write_timestamp(out, time),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"computer\":");
    write_opt_str(out, event.computer.as_deref());
    out.extend_from_slice(b",\"channel\":");
    write_opt_str(out, event.channel.as_deref());
    out.extend_from_slice(b",\"provider\":");
    write_opt_str(out, event.provider.as_deref());
    out.extend_from_slice(b",\"event_id\":");
    match event.event_id {
        Some(id) => out.extend_from_slice(itoa::Buffer::new().format(id).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"record_id\":");
    match event.record_id {
        Some(id) => out.extend_from_slice(itoa::Buffer::new().format(id).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// A quoted timestamp as chrono's serde writes it: RFC 3339 in UTC with `Z`, and as
/// many fraction digits (none, 3, 6 or 9) as the value needs.
fn write_timestamp(out: &mut Vec<u8>, time: &DateTime<Utc>) {
    let year = time.year();
    if !(0..=9999).contains(&year) {
        // Signed, wider years are chrono's business; they do not occur in telemetry.
        if serde_json::to_writer(&mut *out, time).is_err() {
            out.extend_from_slice(b"null");
        }
        return;
    }
    let mut second = time.second();
    let mut nano = time.nanosecond();
    // A leap second is carried in the nanoseconds; chrono prints it as second 60.
    if nano >= 1_000_000_000 {
        second += 1;
        nano -= 1_000_000_000;
    }
    let year = year as u32;
    let mut text = [0u8; 32];
    let digits = [
        (0, year / 100, 2),
        (2, year % 100, 2),
        (5, time.month(), 2),
        (8, time.day(), 2),
        (11, time.hour(), 2),
        (14, time.minute(), 2),
        (17, second, 2),
    ];
    text[..20].copy_from_slice(b"\"0000-00-00T00:00:00");
    for (at, value, width) in digits {
        put_digits(&mut text[at + 1..at + 1 + width], value);
    }
    let mut len = 20;
    let fraction = if nano == 0 {
        None
    } else if nano.is_multiple_of(1_000_000) {
        Some((nano / 1_000_000, 3))
    } else if nano.is_multiple_of(1_000) {
        Some((nano / 1_000, 6))
    } else {
        Some((nano, 9))
    };
    if let Some((value, width)) = fraction {
        text[len] = b'.';
        put_digits(&mut text[len + 1..len + 1 + width], value);
        len += 1 + width;
    }
    text[len..len + 2].copy_from_slice(b"Z\"");
    out.extend_from_slice(&text[..len + 2]);
}

/// `value` in decimal, zero-padded (or cut to its low digits) to fill `slot`.
fn put_digits(slot: &mut [u8], mut value: u32) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn write_opt_str(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(text) => write_str(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_str_list(out: &mut Vec<u8>, values: &[String]) {
    out.push(b'[');
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_str(out, value);
    }
    out.push(b']');
}

/// `value` as a JSON string, escaped as serde_json escapes: `"` and `\` with a
/// backslash, control characters as `\b \t \n \f \r` or `\u00xx`, all else as is.
fn write_str(out: &mut Vec<u8>, value: &str) {
    out.reserve(value.len() + 2);
    out.push(b'"');
    let bytes = value.as_bytes();
    // Start of the run of bytes not yet copied.
    let mut start = 0;
    // Matched values run to kilobytes (script blocks, command lines) and almost never
    // need escaping, so eight bytes are checked at once and only a word holding a byte
    // to escape is walked byte by byte.
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        // A chunk is always 8 bytes; the fallback word (all NUL) only costs time.
        let word = <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes);
        let mask = escape_mask(word);
        if mask != 0 {
            escape_flagged(out, bytes, &mut start, at, mask);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Padded with a letter, which never needs escaping.
        let mut word = [b'a'; 8];
        word[..rest.len()].copy_from_slice(rest);
        escape_flagged(
            out,
            bytes,
            &mut start,
            at,
            escape_mask(u64::from_le_bytes(word)),
        );
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The high bit of each byte of `word` (little-endian) that is `"`, `\` or below
/// 0x20, by the classic "has zero byte" / "has byte less than" bit tricks. Every such
/// byte is flagged; a byte after one may be flagged too (a borrow), so flagged bytes
/// are checked again one by one.
fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGH
}

/// Escapes the bytes flagged in `mask`, of the word at `at`.
fn escape_flagged(out: &mut Vec<u8>, bytes: &[u8], start: &mut usize, at: usize, mut mask: u64) {
    while mask != 0 {
        let index = at + (mask.trailing_zeros() / 8) as usize;
        escape_byte(out, bytes, start, index);
        mask &= mask - 1;
    }
}

/// Escapes `bytes[index]` if it needs it, first copying the run before it.
fn escape_byte(out: &mut Vec<u8>, bytes: &[u8], start: &mut usize, index: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let Some(&byte) = bytes.get(index) else {
        return;
    };
    let short: &[u8] = match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        b'\t' => b"\\t",
        b'\n' => b"\\n",
        0x0c => b"\\f",
        b'\r' => b"\\r",
        0x00..=0x1f => &[],
        _ => return,
    };
    out.extend_from_slice(&bytes[*start..index]);
    if short.is_empty() {
        out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xf)],
        ]);
    } else {
        out.extend_from_slice(short);
    }
    *start = index + 1;
}

/// `[{"field":…,"value":…},…]`: the shape of an alert's matched and context fields.
fn write_field_values<'a>(out: &mut Vec<u8>, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    out.push(b'[');
    for (index, (field, value)) in pairs.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"field\":");
        write_str(out, field);
        out.extend_from_slice(b",\"value\":");
        write_str(out, value);
        out.push(b'}');
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ContextField, MatchedField};
    use chrono::TimeZone;

    fn serde_line(alert: &Alert) -> String {
        let mut line = serde_json::to_string(alert).unwrap_or_default();
        line.push('\n');
        line
    }

    fn ours(writer: &mut JsonLineWriter, alert: &Alert) -> String {
        let mut out = Vec::new();
        writer.write(alert, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn alert() -> Alert {
        Alert {
            id: "0123456789abcdef0123456789abcdef".into(),
            rule_id: "5f1abf38-3f1b-4d68-a2fb-4d11bdd56f1c".into(),
            rule_title: "Suspicious \"Encoded\" PowerShell\\Command".into(),
            level: Level::High,
            status: Some("test".into()),
            techniques: vec!["T1059.001".into(), "T1027".into()],
            tactics: vec!["execution".into()],
            tags: vec!["attack.execution".into(), "attack.t1059.001".into()],
            event: EventMeta {
                source: "logs/a b\\c.evtx".into(),
                timestamp: Utc
                    .with_ymd_and_hms(2019, 3, 19, 23, 39, 22)
                    .single()
                    .map(|t| t + chrono::Duration::milliseconds(123)),
                computer: Some("HOST-1".into()),
                channel: Some("Microsoft-Windows-Sysmon/Operational".into()),
                provider: None,
                event_id: Some(4688),
                record_id: Some(u64::MAX),
            },
            matched: vec![
                MatchedField {
                    field: "CommandLine".into(),
                    value: "powershell -enc \u{1}\u{1f}\t\r\n\u{8}\u{c}\u{7f} é 😀".into(),
                },
                MatchedField {
                    field: "keywords".into(),
                    value: String::new(),
                },
            ],
            context: vec![
                ContextField {
                    field: "SubjectUserName".into(),
                    value: "eve\u{1b}[2J\"".into(),
                },
                ContextField {
                    field: "ProcessId".into(),
                    value: "4242".into(),
                },
            ],
            intel: None,
        }
    }

    #[test]
    fn lines_equal_serde_json_with_and_without_cached_parts() {
        let mut writer = JsonLineWriter::new();
        let mut alert = alert();
        assert_eq!(ours(&mut writer, &alert), serde_line(&alert));
        // Same rule again (cached head), and the same id with other rule fields.
        alert.event.record_id = Some(7);
        assert_eq!(ours(&mut writer, &alert), serde_line(&alert));
        alert.rule_title = "other".into();
        alert.status = None;
        alert.tags.clear();
        alert.event = EventMeta::default();
        alert.matched.clear();
        alert.context.clear();
        alert.id.clear();
        assert_eq!(ours(&mut writer, &alert), serde_line(&alert));
        assert_eq!(writer.heads.iter().map(Vec::len).sum::<usize>(), 2);
        alert.intel = Some(Box::new(crate::AlertIntel {
            indicator_id: "indicator--1".into(),
            source: "stix:\"feed\".json".into(),
            confidence: Some(85),
            observables: vec![crate::AlertObservable {
                kind: "domain".into(),
                value: "evil.example".into(),
                field: "QueryName".into(),
            }],
            actors: vec!["APT 29".into()],
            ..crate::AlertIntel::default()
        }));
        assert_eq!(ours(&mut writer, &alert), serde_line(&alert));
    }

    #[test]
    fn every_control_and_ascii_byte_escapes_as_serde_json() {
        let text: String = (0u8..=0x7f).map(char::from).collect();
        let mut out = Vec::new();
        write_str(&mut out, &text);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            serde_json::to_string(&text).unwrap_or_default()
        );
    }

    #[test]
    fn special_bytes_at_every_offset_of_a_word_escape_as_serde_json() {
        for special in ["\"", "\\", "\n", "\u{0}", "\u{1f}", "é", "\u{7f}"] {
            for len in 0..20 {
                for at in 0..=len {
                    let mut text = "x".repeat(len);
                    text.insert_str(at, special);
                    assert_escapes_as_serde_json(&text);
                }
            }
        }
    }

    #[test]
    fn mixed_strings_escape_as_serde_json() {
        let alphabet = [
            'a', '"', '\\', '\n', '\u{2}', '\t', 'é', '😀', ' ', '\u{7f}',
        ];
        let mut state: u32 = 1;
        for _ in 0..2000 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let len = (state >> 16) % 40;
            let text: String = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    alphabet[((state >> 16) % 10) as usize]
                })
                .collect();
            assert_escapes_as_serde_json(&text);
        }
    }

    fn assert_escapes_as_serde_json(text: &str) {
        let mut out = Vec::new();
        write_str(&mut out, text);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            serde_json::to_string(text).unwrap_or_default()
        );
    }

    #[test]
    fn timestamps_equal_chrono_serde() {
        let base = Utc
            .with_ymd_and_hms(1999, 12, 31, 23, 59, 59)
            .single()
            .unwrap_or_default();
        let nanos = [
            0,
            1,
            999,
            1_000,
            120_000,
            1_000_000,
            5_000_000,
            123_456_789,
            999_999_999,
        ];
        let mut times: Vec<DateTime<Utc>> = nanos
            .iter()
            .map(|&n| base + chrono::Duration::nanoseconds(n))
            .collect();
        times.extend(
            [0, 1, 999, 1970, 2038, 9999, 10_000, -1]
                .iter()
                .filter_map(|&y| Utc.with_ymd_and_hms(y, 1, 2, 3, 4, 5).single()),
        );
        // A leap second (nanoseconds past 1e9 within second 59).
        times.extend(
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
                .map(|t| t.and_utc()),
        );
        for time in times {
            let mut out = Vec::new();
            write_timestamp(&mut out, &time);
            assert_eq!(
                String::from_utf8(out).unwrap_or_default(),
                serde_json::to_string(&time).unwrap_or_default(),
                "{time:?}"
            );
        }
    }
}
