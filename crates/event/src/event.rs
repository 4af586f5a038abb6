use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A string of an event (a field name or value): up to 24 bytes are kept inline, longer
/// ones on the heap. Most field names and many values are that short, and events are
/// built by the million: an allocation and a free per string cost more than parsing it.
pub type Text = compact_str::CompactString;

/// A field value, as read from telemetry.
///
/// Numbers keep their type so that Sigma's numeric modifiers (`gt`, `lt`, …) compare
/// numerically, while string matching sees their decimal text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// An explicit null (JSON `null`, an empty EVTX element is a `Str("")`).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(Text),
    /// Several values under one field name; a Sigma value matches if any element does.
    List(Vec<Value>),
}

impl Value {
    /// The value as a string slice, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value's text, as string matching sees it (numbers in decimal, `null` empty).
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => s.to_string(),
            Value::List(items) => items
                .iter()
                .map(Value::to_text)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Where an event came from and the header fields every alert reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventMeta {
    /// The file (or `-` for stdin) the event was read from; shared by all its events.
    pub source: Arc<str>,
    /// Event time (EVTX `System/TimeCreated/@SystemTime`, JSON `@timestamp`, …).
    pub timestamp: Option<DateTime<Utc>>,
    /// Host name (`Computer`, `host.name`, …).
    pub computer: Option<Text>,
    /// Event log channel (`Microsoft-Windows-Sysmon/Operational`, `Security`, …).
    pub channel: Option<Text>,
    /// Provider name (`Microsoft-Windows-Sysmon`, …).
    pub provider: Option<Text>,
    /// Windows event id.
    pub event_id: Option<u32>,
    /// EVTX record id, or the line number for JSON lines.
    pub record_id: Option<u64>,
}

/// One telemetry event: metadata plus a flat list of Sigma-named fields.
///
/// Field names are unique within an event. The list is small (tens of fields), so a
/// linear scan beats hashing; the detection engine looks each referenced field up once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Header data every alert reports.
    pub meta: EventMeta,
    /// The event's fields, in the order the reader found them.
    pub fields: Vec<(Text, Value)>,
}

impl Event {
    /// The value of a field, by exact name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(field, _)| &**field == name)
            .map(|(_, value)| value)
    }

    /// Sets a field, replacing an existing value of the same name.
    pub fn set(&mut self, name: &str, value: Value) {
        match self.fields.iter_mut().find(|(field, _)| &**field == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.into(), value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_get_finds() {
        let mut event = Event::default();
        event.set("Image", Value::Str("a.exe".into()));
        event.set("Image", Value::Str("b.exe".into()));
        event.set("EventID", Value::Int(1));
        assert_eq!(event.fields.len(), 2);
        assert_eq!(event.get("Image").and_then(Value::as_str), Some("b.exe"));
        assert_eq!(event.get("EventID"), Some(&Value::Int(1)));
        assert_eq!(event.get("image"), None);
    }

    #[test]
    fn text_of_values() {
        assert_eq!(Value::Int(4688).to_text(), "4688");
        assert_eq!(Value::Null.to_text(), "");
        let list = Value::List(vec![Value::Str("a".into()), Value::Bool(true)]);
        assert_eq!(list.to_text(), "a, true");
    }
}
