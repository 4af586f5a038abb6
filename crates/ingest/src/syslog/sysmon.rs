//! Sysmon for Linux writes each event to syslog as the XML of a Windows event record
//! (`<Event><System>…</System><EventData><Data Name="Image">…</Data>…</EventData></Event>`).
//! It is turned into the JSON shape `evtx_dump` gives an EVTX record and flattened by
//! the same code, so its fields, channel and event id are exactly those of an EVTX
//! record and `product: linux` process_creation / network_connection rules route to it.

use crate::flatten::flatten_json;
use crate::FieldAliases;
use quick_xml::events::{BytesStart, Event as Xml};
use quick_xml::Reader;
use rampart_event::Event;
use serde_json::{Map, Value as Json};

/// Elements nest at most this deep (a Sysmon record has four levels).
const MAX_DEPTH: usize = 16;

/// Whether the message is an XML event record.
pub(crate) fn looks_like_event_xml(message: &str) -> bool {
    let text = message.trim_start();
    text.starts_with("<Event>") || text.starts_with("<Event ")
}

/// The record flattened as an EVTX record, or `None` when the XML is malformed or
/// not an event (the message is then kept as plain text).
pub(crate) fn parse(message: &str) -> Option<Event> {
    let json = to_evtx_json(message.trim())?;
    let event = flatten_json(&json, &FieldAliases::builtin());
    (event.meta.event_id.is_some()).then_some(event)
}

/// An element being read: its name, attributes, text and children (as evtx_dump
/// writes them: `#attributes`, `#text`, child elements by name; `Data` elements of
/// `EventData` by their `Name` attribute).
struct Element {
    name: String,
    attributes: Map<String, Json>,
    text: String,
    children: Map<String, Json>,
}

impl Element {
    fn new(start: &BytesStart<'_>) -> Option<Self> {
        let mut attributes = Map::new();
        for attribute in start.attributes() {
            let attribute = attribute.ok()?;
            let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
            let value = attribute.unescape_value().ok()?.into_owned();
            attributes.insert(key, Json::String(value));
        }
        Some(Element {
            name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
            attributes,
            text: String::new(),
            children: Map::new(),
        })
    }

    /// The element as evtx_dump renders it.
    fn into_json(self) -> Json {
        if self.attributes.is_empty() && self.children.is_empty() {
            return Json::String(self.text);
        }
        let mut object = self.children;
        if !self.attributes.is_empty() {
            object.insert("#attributes".to_owned(), Json::Object(self.attributes));
        }
        if !self.text.is_empty() {
            object.insert("#text".to_owned(), Json::String(self.text));
        }
        Json::Object(object)
    }

    /// Adds a finished child: a `Data` element with a `Name` becomes a field of that
    /// name holding its text (evtx_dump's `EventData` shape).
    fn add_child(&mut self, child: Element) {
        if child.name == "Data" {
            if let Some(Json::String(name)) = child.attributes.get("Name") {
                let name = name.clone();
                self.children.insert(name, Json::String(child.text));
                return;
            }
        }
        let name = child.name.clone();
        self.children.insert(name, child.into_json());
    }
}

fn to_evtx_json(text: &str) -> Option<Json> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        match reader.read_event().ok()? {
            Xml::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                stack.push(Element::new(&start)?);
            }
            Xml::Empty(start) => {
                let element = Element::new(&start)?;
                stack.last_mut()?.add_child(element);
            }
            Xml::Text(text) => {
                if let Some(element) = stack.last_mut() {
                    element.text.push_str(&text.unescape().ok()?);
                }
            }
            Xml::CData(data) => {
                if let Some(element) = stack.last_mut() {
                    element.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Xml::End(_) => {
                let element = stack.pop()?;
                match stack.last_mut() {
                    Some(parent) => parent.add_child(element),
                    None => {
                        if element.name != "Event" {
                            return None;
                        }
                        let mut root = Map::new();
                        root.insert("Event".to_owned(), element.into_json());
                        return Some(Json::Object(root));
                    }
                }
            }
            Xml::Eof => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::Value;

    #[test]
    fn process_creation_record_reads_as_evtx() {
        let xml = "<Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/><EventID>1</EventID><Version>5</Version><TimeCreated SystemTime=\"2024-05-02T10:00:00.123456000Z\"/><EventRecordID>77</EventRecordID><Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer><Security UserId=\"0\"/></System><EventData><Data Name=\"RuleName\">-</Data><Data Name=\"Image\">/usr/bin/base64</Data><Data Name=\"CommandLine\">base64 -d &lt;x</Data></EventData></Event>";
        let event = parse(xml).unwrap();
        assert_eq!(event.meta.event_id, Some(1));
        assert_eq!(
            event.meta.channel.as_deref(),
            Some("Linux-Sysmon/Operational")
        );
        assert_eq!(event.meta.computer.as_deref(), Some("web01"));
        assert_eq!(event.meta.record_id, Some(77));
        assert!(event.meta.timestamp.is_some());
        assert_eq!(
            event.get("Provider_Name").and_then(Value::as_str),
            Some("Linux-Sysmon")
        );
        assert_eq!(
            event.get("CommandLine").and_then(Value::as_str),
            Some("base64 -d <x")
        );
        assert!(parse("<Event><System>").is_none());
        assert!(parse("<Other/>").is_none());
    }
}
