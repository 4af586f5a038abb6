//! Alert identity: the id that makes two alerts "the same alert" across runs, stores
//! and output formats.
//!
//! An alert is a rule firing on an event, so its id is derived from the rule id and the
//! event's own identity: host, channel, provider, event id, event time, and the record
//! id the event carries (`EventRecordID`). An event without a record id of its own
//! (most JSON lines: the reader numbers their lines, which says nothing about the
//! event) is identified by a digest of all its fields instead. The path the event was
//! read from is never part of it: the same event read again (another path spelling, a
//! copy, stdin) is the same alert, and different events at the same path (a rotated
//! log, two days piped through stdin) are different alerts.

use super::{Alert, MatchedField};
use crate::{Event, EventMeta, Value};
use sha2::{Digest, Sha256};

/// The field that holds an event's own record id; when absent, a reader-assigned
/// `record_id` (a line number) is not the event's identity.
const RECORD_ID_FIELD: &str = "EventRecordID";

/// The id of the alert that rule `rule_id` raises on `event`: 32 lower-case hex digits.
pub fn alert_id(rule_id: &str, event: &Event) -> String {
    let mut hasher = IdHasher::new(rule_id, &event.meta);
    match event.meta.record_id {
        Some(record) if event.get(RECORD_ID_FIELD).is_some() => {
            hasher.part(b"record");
            hasher.part(&record.to_le_bytes());
        }
        _ => {
            hasher.part(b"content");
            for (name, value) in &event.fields {
                hasher.part(name.as_bytes());
                hasher.value(value);
            }
        }
    }
    hasher.finish()
}

/// The id of an alert known only by its header and matched values (a correlation
/// result, or an alert imported from a version that wrote no id): the same parts as
/// [`alert_id`], with the matched fields standing in for the event's content.
pub fn derived_alert_id(alert: &Alert) -> String {
    let mut hasher = IdHasher::new(&alert.rule_id, &alert.event);
    hasher.part(b"matched");
    hasher.part(&alert.event.record_id.unwrap_or(u64::MAX).to_le_bytes());
    for MatchedField { field, value } in &alert.matched {
        hasher.part(field.as_bytes());
        hasher.part(value.as_bytes());
    }
    hasher.finish()
}

/// Whether `id` has the shape [`alert_id`] gives (so an id read from a file can be
/// trusted to be one, not arbitrary text).
pub fn is_alert_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// SHA-256 over length-prefixed parts, so no two sequences of parts hash alike.
struct IdHasher(Sha256);

impl IdHasher {
    fn new(rule_id: &str, meta: &EventMeta) -> Self {
        let mut hasher = IdHasher(Sha256::new());
        hasher.part(b"rampart-alert-v2");
        hasher.part(rule_id.as_bytes());
        hasher.opt(meta.computer.as_deref());
        hasher.opt(meta.channel.as_deref());
        hasher.opt(meta.provider.as_deref());
        hasher.part(&meta.event_id.map_or(u64::MAX, u64::from).to_le_bytes());
        match meta.timestamp {
            Some(time) => {
                hasher.part(&time.timestamp().to_le_bytes());
                hasher.part(&time.timestamp_subsec_nanos().to_le_bytes());
            }
            None => hasher.part(b"untimed"),
        }
        hasher
    }

    fn part(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn opt(&mut self, text: Option<&str>) {
        match text {
            Some(text) => {
                self.part(b"some");
                self.part(text.as_bytes());
            }
            None => self.part(b"none"),
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.part(b"null"),
            Value::Bool(b) => self.part(if *b { b"true".as_slice() } else { b"false" }),
            Value::Int(i) => {
                self.part(b"int");
                self.part(&i.to_le_bytes());
            }
            Value::Float(f) => {
                self.part(b"float");
                self.part(&f.to_bits().to_le_bytes());
            }
            Value::Str(s) => {
                self.part(b"str");
                self.part(s.as_bytes());
            }
            Value::List(items) => {
                self.part(b"list");
                self.part(&(items.len() as u64).to_le_bytes());
                for item in items {
                    self.value(item);
                }
            }
        }
    }

    fn finish(self) -> String {
        let digest = self.0.finalize();
        let mut id = String::with_capacity(32);
        for byte in &digest[..16] {
            id.push(char::from(HEX[usize::from(byte >> 4)]));
            id.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        id
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn event(host: &str, record: Option<u64>, line: u64, text: &str) -> Event {
        let mut event = Event::default();
        event.meta.source = "same/path.jsonl".into();
        event.meta.computer = Some(host.into());
        event.meta.timestamp = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).single();
        event.meta.record_id = record.or(Some(line));
        if let Some(record) = record {
            event.set(RECORD_ID_FIELD, Value::Int(record as i64));
        }
        event.set("CommandLine", Value::Str(text.into()));
        event
    }

    #[test]
    fn the_event_not_the_path_identifies_an_alert() {
        let a = event("HOST-A", Some(7), 1, "x");
        let mut moved = a.clone();
        moved.meta.source = "elsewhere/copy.jsonl".into();
        assert_eq!(alert_id("r", &a), alert_id("r", &moved));
        assert!(is_alert_id(&alert_id("r", &a)));
        assert_ne!(alert_id("r", &a), alert_id("r2", &a));
        // Same record id on another host: another event.
        assert_ne!(
            alert_id("r", &a),
            alert_id("r", &event("HOST-B", Some(7), 1, "x"))
        );
        // Line numbers are not identities: same line, other content, other alert.
        assert_ne!(
            alert_id("r", &event("H", None, 1, "day one")),
            alert_id("r", &event("H", None, 1, "day two"))
        );
        assert_eq!(
            alert_id("r", &event("H", None, 1, "same")),
            alert_id("r", &event("H", None, 9, "same"))
        );
    }
}
