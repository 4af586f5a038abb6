//! JSON records into flat events: pure functions with no I/O, so they can be fuzzed.
//!
//! Three shapes are recognised. evtx_dump-style records (`{"Event":{"System":…,
//! "EventData":…}}`) are flattened the way EVTX records are, since the EVTX reader renders
//! records to that very JSON. Anything else is walked as nested objects whose dotted leaf
//! paths go through the [`FieldAliases`]; a flat event with Sigma names at top level is
//! the degenerate case where no path has a dot.

use crate::builder::Builder;
use crate::value::{as_u64, from_json, parse_timestamp};
use crate::FieldAliases;
use rampart_event::{Event, Value};
use serde_json::{Map, Value as Json};

/// Flattens one JSON record into an event (source and record id left for the reader).
pub fn flatten_json(json: &Json, aliases: &FieldAliases) -> Event {
    let mut builder = Builder::new(aliases);
    if let Json::Object(object) = json {
        match evtx_root(object) {
            Some(root) => flatten_evtx(root, &mut builder),
            None => walk(object, &mut String::new(), &mut builder),
        }
    }
    builder.finish()
}

/// Parses and flattens one JSON text (the fuzzing entry point).
pub fn flatten_json_str(text: &str, aliases: &FieldAliases) -> Result<Event, serde_json::Error> {
    let json: Json = serde_json::from_str(text)?;
    Ok(flatten_json(&json, aliases))
}

/// The object holding `System` (and `EventData`/`UserData`) in an evtx_dump-style record.
fn evtx_root(object: &Map<String, Json>) -> Option<&Map<String, Json>> {
    if let Some(Json::Object(event)) = object.get("Event") {
        if event.contains_key("System") {
            return Some(event);
        }
    }
    let has_data = object.contains_key("EventData") || object.contains_key("UserData");
    (object.contains_key("System") && has_data).then_some(object)
}

/// Flattens an EVTX record: `System` elements, then `EventData` and `UserData` (whose
/// names win over a `System` name they repeat, as Sysmon's `Version` does).
pub(crate) fn flatten_evtx(root: &Map<String, Json>, event: &mut Builder<'_>) {
    if let Some(Json::Object(system)) = root.get("System") {
        for (name, value) in system {
            flatten_system_element(name, value, event);
        }
    }
    for (section, value) in root {
        match section.as_str() {
            "System" | "#attributes" => {}
            "EventData" => flatten_event_data(value, event),
            _ => flatten_leaves(section, value, event),
        }
    }
}

/// A `System` element: its text under its name, each attribute as `Element_Attribute`
/// (`Provider_Name`, `Security_UserID`, `TimeCreated_SystemTime`).
fn flatten_system_element(name: &str, value: &Json, event: &mut Builder<'_>) {
    match value {
        Json::Null => {}
        Json::Object(element) => {
            if let Some(text) = element.get("#text") {
                event.set(name, from_json(text));
            }
            if let Some(Json::Object(attributes)) = element.get("#attributes") {
                for (attribute, value) in attributes {
                    event.set(&format!("{name}_{attribute}"), from_json(value));
                }
            }
        }
        _ => event.set(name, from_json(value)),
    }
}

/// `EventData`: named `Data` elements become fields; unnamed ones one `Data` list.
fn flatten_event_data(value: &Json, event: &mut Builder<'_>) {
    let Json::Object(data) = value else {
        if let Json::String(text) = value {
            event.set("Data", Value::Str(text.as_str().into()));
        }
        return;
    };
    for (name, value) in data {
        match name.as_str() {
            "#attributes" => {}
            "Data" | "#text" => push_unnamed_data(value, event),
            _ => event.set(&sigma_name(name), element_value(value)),
        }
    }
}

/// Sigma field names have no spaces, while some providers' data names do (Defender's
/// `Source Name`, `Threat Name`): rules write them without (`SourceName`), as the
/// THOR logsource mapping SigmaHQ tests with does.
pub(crate) fn sigma_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.contains(' ') {
        std::borrow::Cow::Owned(name.replace(' ', ""))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// Unnamed `Data` elements, in order, under the one field `Data`.
pub(crate) fn push_unnamed_data(value: &Json, event: &mut Builder<'_>) {
    let value = match value {
        Json::Object(element) => element.get("#text").unwrap_or(&Json::Null),
        other => other,
    };
    let items: Vec<Value> = match value {
        Json::Array(items) => items.iter().map(element_value).collect(),
        Json::Null => return,
        single => vec![element_value(single)],
    };
    let mut items = items;
    let value = if items.len() == 1 {
        items.remove(0)
    } else {
        Value::List(items)
    };
    event.set("Data", value);
}

/// A data element's value: its text; an empty element is an empty string.
pub(crate) fn element_value(value: &Json) -> Value {
    match value {
        Json::Null => Value::Str("".into()),
        Json::Object(element) => match element.get("#text") {
            Some(text) => element_value(text),
            None if element.is_empty() => Value::Str("".into()),
            None => from_json(value),
        },
        other => from_json(other),
    }
}

/// `UserData` and other sections: every leaf under its own element name.
pub(crate) fn flatten_leaves(name: &str, value: &Json, event: &mut Builder<'_>) {
    match value {
        Json::Object(element) => {
            for (child, value) in element {
                match child.as_str() {
                    "#text" => event.set(name, element_value(value)),
                    "#attributes" => {
                        if let Json::Object(attributes) = value {
                            for (attribute, value) in attributes {
                                if !attribute.starts_with("xmlns") {
                                    event.set(attribute, from_json(value));
                                }
                            }
                        }
                    }
                    _ => flatten_leaves(&sigma_name(child), value, event),
                }
            }
        }
        Json::Array(items) if items.iter().any(Json::is_object) => {
            for item in items {
                flatten_leaves(name, item, event);
            }
        }
        other => event.set(name, element_value(other)),
    }
}

/// Nested JSON: every leaf under its dotted path, renamed by the aliases.
fn walk(object: &Map<String, Json>, path: &mut String, event: &mut Builder<'_>) {
    for (key, value) in object {
        let length = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        match value {
            Json::Object(child) if !child.is_empty() => walk(child, path, event),
            _ => {
                let (name, priority) = event.aliases.resolve(path);
                event.set_by_priority(name, priority, from_json(value));
            }
        }
        path.truncate(length);
    }
}

/// Header data from the Sigma-named fields; `EventID` and `EventRecordID` given as
/// digits (ECS `event.code`) become numbers so that every reader agrees on their type.
///
/// One pass over the fields finds them all (names are unique within an event): a
/// lookup per header name cost a scan of the whole list each.
pub(crate) fn fill_meta(event: &mut Event) {
    let mut header = Header::default();
    for (position, (name, _)) in event.fields.iter().enumerate() {
        let slot = match &**name {
            "EventID" => &mut header.event_id,
            "EventRecordID" => &mut header.record_id,
            "Computer" => &mut header.computer,
            "Channel" => &mut header.channel,
            "Provider_Name" => &mut header.provider,
            "TimeCreated_SystemTime" => &mut header.times[0],
            "@timestamp" => &mut header.times[1],
            "TimeCreated" => &mut header.times[2],
            "timestamp" => &mut header.times[3],
            _ => continue,
        };
        *slot = Some(position);
    }
    for position in [header.event_id, header.record_id].into_iter().flatten() {
        let value = &mut event.fields[position].1;
        if let Value::Str(text) = value {
            if let Ok(number) = text.trim().parse::<i64>() {
                *value = Value::Int(number);
            }
        }
    }
    let fields = &event.fields;
    let value = |position: Option<usize>| position.map(|position| &fields[position].1);
    let text = |position: Option<usize>| {
        value(position)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(rampart_event::Text::from)
    };
    let meta = rampart_event::EventMeta {
        computer: text(header.computer),
        channel: text(header.channel),
        provider: text(header.provider),
        event_id: value(header.event_id)
            .and_then(as_u64)
            .and_then(|id| u32::try_from(id).ok()),
        record_id: value(header.record_id).and_then(as_u64),
        // The first of the time fields present, in this order, that is a string.
        timestamp: header
            .times
            .iter()
            .find_map(|&position| value(position).and_then(Value::as_str))
            .and_then(parse_timestamp),
        source: event.meta.source.clone(),
    };
    event.meta = meta;
}

/// Where the header fields sit in an event's field list.
#[derive(Default)]
struct Header {
    event_id: Option<usize>,
    record_id: Option<usize>,
    computer: Option<usize>,
    channel: Option<usize>,
    provider: Option<usize>,
    /// `TimeCreated_SystemTime`, `@timestamp`, `TimeCreated`, `timestamp`.
    times: [Option<usize>; 4],
}

#[cfg(test)]
mod tests;
