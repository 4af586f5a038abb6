//! Test support: EVTX files into events, the way `rampart-ingest` flattens them
//! (`EventData` `Data[@Name]` children and `UserData` leaves as top-level fields;
//! `System` fields `EventID`, `Channel`, `Computer`, `Provider_Name`, …), kept here so
//! the engine's tests do not depend on the reader being written beside them.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rampart_event::{Event, EventMeta, Value};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every `.evtx` file under `dir`, sorted.
pub fn evtx_files(dir: &Path) -> Vec<PathBuf> {
    rampart_testkit::files_under(dir, "evtx")
}

/// The events of one EVTX file (records that fail to parse are skipped).
pub fn read_evtx(path: &Path) -> Vec<Event> {
    let source: Arc<str> = path.display().to_string().into();
    let Ok(mut parser) = evtx::EvtxParser::from_path(path) else {
        return Vec::new();
    };
    parser
        .records_json_value()
        .filter_map(Result::ok)
        .map(|record| {
            let mut event = flatten(&record.data, source.clone());
            event.meta.record_id = Some(record.event_record_id);
            event
        })
        .collect()
}

fn scalar(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::Str(s.as_str().into()),
        Json::Array(items) => Value::List(items.iter().map(scalar).collect()),
        Json::Object(_) => Value::Str(json.to_string().into()),
    }
}

fn set(event: &mut Event, name: &str, value: Value) {
    if event.get(name).is_none() {
        event.fields.push((name.into(), value));
    }
}

/// `{"#text": x, "#attributes": …}` → x; other values as they are.
fn text_of(json: &Json) -> &Json {
    match json {
        Json::Object(map) if map.contains_key("#text") => &map["#text"],
        other => other,
    }
}

fn leaves(event: &mut Event, json: &Json) {
    if let Json::Object(map) = json {
        for (key, value) in map {
            if key == "#attributes" || key.starts_with("xmlns") {
                continue;
            }
            match value {
                Json::Object(inner) if !inner.contains_key("#text") => leaves(event, value),
                // Defender writes `Threat Name`, Sigma rules say `ThreatName`.
                other => set(event, &key.replace(' ', ""), scalar(text_of(other))),
            }
        }
    }
}

pub fn flatten(json: &Json, source: Arc<str>) -> Event {
    let mut event = Event {
        meta: EventMeta {
            source,
            ..EventMeta::default()
        },
        fields: Vec::new(),
    };
    let root = json.get("Event").unwrap_or(json);
    if let Some(system) = root.get("System").and_then(Json::as_object) {
        for (key, value) in system {
            match key.as_str() {
                "Provider" => {
                    if let Some(attrs) = value.get("#attributes").and_then(Json::as_object) {
                        for (name, v) in attrs {
                            set(&mut event, &format!("Provider_{name}"), scalar(v));
                        }
                    }
                }
                "TimeCreated" => {
                    if let Some(time) = value.pointer("/#attributes/SystemTime") {
                        set(&mut event, "TimeCreated_SystemTime", scalar(time));
                        event.meta.timestamp = time.as_str().and_then(|t| t.parse().ok());
                    }
                }
                "Execution" | "Security" | "Correlation" => {
                    if let Some(attrs) = value.get("#attributes").and_then(Json::as_object) {
                        for (name, v) in attrs {
                            set(&mut event, &format!("{key}_{name}"), scalar(v));
                        }
                    }
                }
                _ => set(&mut event, key, scalar(text_of(value))),
            }
        }
    }
    if let Some(data) = root.get("EventData") {
        match data.get("Data") {
            // Unnamed `<Data>` elements: keep them as one list.
            Some(Json::Array(items)) => set(
                &mut event,
                "Data",
                Value::List(items.iter().map(|i| scalar(text_of(i))).collect()),
            ),
            Some(other) if !other.is_object() => set(&mut event, "Data", scalar(text_of(other))),
            _ => leaves(&mut event, data),
        }
    }
    if let Some(user) = root.get("UserData") {
        leaves(&mut event, user);
    }
    event.meta.channel = event.get("Channel").and_then(Value::as_str).map(Into::into);
    event.meta.computer = event
        .get("Computer")
        .and_then(Value::as_str)
        .map(Into::into);
    event.meta.provider = event
        .get("Provider_Name")
        .and_then(Value::as_str)
        .map(Into::into);
    event.meta.event_id = match event.get("EventID") {
        Some(Value::Int(id)) => u32::try_from(*id).ok(),
        Some(Value::Str(s)) => s.parse().ok(),
        _ => None,
    };
    event
}
