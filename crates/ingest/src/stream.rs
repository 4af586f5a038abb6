//! The fast path from JSON bytes to a flat event: one streaming pass with serde
//! visitors, no intermediate `serde_json::Value` tree.
//!
//! Building a `Value` for each record and then walking it costs an allocation per
//! node and a hash per object key; profiling showed that (with `free`) to be most of
//! the ingest time. This module produces exactly what [`crate::flatten_json`] produces
//! (a differential test over the real samples keeps them equal), which stays the
//! simple, obviously-correct reference and the fuzzing entry point.

use crate::flatten::{fill_meta, set_by_priority, sigma_name};
use crate::FieldAliases;
use rampart_event::{Event, Value};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt;

/// Parses one JSON object (an evtx_dump-style record, or nested/flat JSON) into an event.
pub(crate) fn flatten_slice(
    bytes: &[u8],
    aliases: &FieldAliases,
) -> Result<Event, serde_json::Error> {
    // One UTF-8 check of the whole record is much cheaper than serde_json's check of
    // each string; invalid input takes the byte path, which reports where it breaks.
    let streamed = match std::str::from_utf8(bytes) {
        Ok(text) => flatten_with(serde_json::Deserializer::from_str(text), aliases)?,
        Err(_) => flatten_with(serde_json::Deserializer::from_slice(bytes), aliases)?,
    };
    match streamed {
        Some(event) => Ok(event),
        // A shape the stream cannot classify as it goes: read it whole.
        None => serde_json::from_slice::<Json>(bytes)
            .map(|json| crate::flatten::flatten_json(&json, aliases)),
    }
}

/// Which top-level keys a record had, to tell whether streaming read it as the
/// reference would: an EVTX record (`Event` holding `System`, or bare `System` with
/// `EventData`/`UserData`) or plain nested JSON, never a mix of the two.
#[derive(Default)]
struct Shape {
    event: bool,
    event_system: bool,
    bare_system: bool,
    bare_data: bool,
    other: bool,
}

impl Shape {
    fn streamed_as_reference(&self) -> bool {
        let bare = self.bare_system || self.bare_data;
        match (self.event, bare, self.other) {
            (false, false, _) => true,
            (true, false, false) => self.event_system,
            (false, true, false) => self.bare_system && self.bare_data,
            _ => false,
        }
    }
}

/// The event, or `None` when the record's shape needs the reference flattener.
fn flatten_with<'de, R: serde_json::de::Read<'de>>(
    mut deserializer: serde_json::Deserializer<R>,
    aliases: &FieldAliases,
) -> Result<Option<Event>, serde_json::Error> {
    let mut builder = Builder {
        event: Event {
            // Sysmon and Security records have 20 to 40 fields: growing the list
            // one doubling at a time cost a copy of it each time.
            fields: Vec::with_capacity(32),
            ..Event::default()
        },
        aliases,
        priorities: Vec::new(),
        path: String::new(),
        name: String::new(),
        names: NameBits::default(),
        shape: Shape::default(),
    };
    Root(&mut builder).deserialize(&mut deserializer)?;
    deserializer.end()?;
    if !builder.shape.streamed_as_reference() {
        return Ok(None);
    }
    let mut event = builder.event;
    fill_meta(&mut event);
    Ok(Some(event))
}

struct Builder<'a> {
    event: Event,
    aliases: &'a FieldAliases,
    /// For nested JSON: the alias priority that set each field (see `set_by_priority`).
    priorities: Vec<u32>,
    /// For nested JSON: the dotted path of the value being read.
    path: String,
    /// For `System` attributes: the field name being built (`Element_Attribute`).
    name: String,
    /// The names of the fields of EVTX records set so far.
    names: NameBits,
    shape: Shape,
}

impl Builder<'_> {
    /// Where the field `name` sits, if the event has it.
    fn position(&self, name: &str) -> Option<usize> {
        if !self.names.may_hold(name) {
            return None;
        }
        self.event
            .fields
            .iter()
            .position(|(field, _)| &**field == name)
    }

    /// Appends a field known to be new.
    fn push(&mut self, name: &str, value: Value) {
        self.names.insert(name);
        self.event.fields.push((name.into(), value));
    }

    /// A `System` field: never replaces a data field of the same name.
    fn set_if_absent(&mut self, name: &str, value: Value) {
        if self.position(name).is_none() {
            self.push(name, value);
        }
    }

    /// A data field: replaces a field of the same name (as [`Event::set`]).
    fn set(&mut self, name: &str, value: Value) {
        match self.position(name) {
            Some(position) => self.event.fields[position].1 = value,
            None => self.push(name, value),
        }
    }

    /// Records the names of the fields from `start` on, set by the reference code.
    fn note_fields_from(&mut self, start: usize) {
        for (name, _) in &self.event.fields[start..] {
            self.names.insert(name);
        }
    }
}

/// The names an event holds, as one bit per name signature (length, first, middle
/// and last byte). A name whose bit is clear is new and is pushed without comparing
/// it with every field before it, as most names are: those comparisons made adding
/// a field cost as much as parsing it.
#[derive(Default)]
struct NameBits(u128);

impl NameBits {
    fn bit(name: &str) -> u128 {
        let bytes = name.as_bytes();
        let byte = |at: usize| u32::from(bytes.get(at).copied().unwrap_or(0));
        let length = bytes.len();
        let mix = (length as u32).wrapping_mul(0x9E37_79B9)
            ^ byte(0).wrapping_mul(0x85EB_CA6B)
            ^ byte(length / 2).wrapping_mul(0x27D4_EB2F)
            ^ byte(length.wrapping_sub(1)).wrapping_mul(0xC2B2_AE35);
        1 << (mix >> 25)
    }

    fn may_hold(&self, name: &str) -> bool {
        self.0 & Self::bit(name) != 0
    }

    fn insert(&mut self, name: &str) {
        self.0 |= Self::bit(name);
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Implements the scalar visits of a visitor whose result is an optional event value
/// (`None` for null), as `value::from_json` converts them.
macro_rules! scalar_visits {
    ($null:expr) => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($null)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($null)
        }
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(Value::Bool(v)))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(Value::Int(v)))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(match i64::try_from(v) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Str(v.to_string().into()),
            }))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(Value::Float(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Value::Str(v.into())))
        }
    };
}

/// The top level: an evtx_dump record (`Event`, or bare `System`/`EventData`) or
/// nested JSON.
struct Root<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for Root<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            let shape = &mut self.0.shape;
            match &*key {
                "Event" => {
                    shape.event = true;
                    map.next_value_seed(EvtxEvent(self.0))?
                }
                "System" => {
                    shape.bare_system = true;
                    map.next_value_seed(System(self.0))?
                }
                "EventData" => {
                    shape.bare_data = true;
                    map.next_value_seed(EventData(self.0))?
                }
                "UserData" => {
                    shape.bare_data = true;
                    map.next_value_seed(Leaves(self.0, "UserData"))?
                }
                _ => {
                    shape.other = true;
                    self.0.path.clear();
                    self.0.path.push_str(&key);
                    map.next_value_seed(Nested(self.0))?
                }
            }
        }
        Ok(())
    }
}

/// `Event`: its sections.
struct EvtxEvent<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for EvtxEvent<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EvtxEvent<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an EVTX event object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "System" => {
                    self.0.shape.event_system = true;
                    map.next_value_seed(System(self.0))?
                }
                "EventData" => map.next_value_seed(EventData(self.0))?,
                "#attributes" => {
                    map.next_value::<IgnoredAny>()?;
                }
                section => map.next_value_seed(Leaves(self.0, section))?,
            }
        }
        Ok(())
    }
    // A non-object `Event` carries nothing to flatten.
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// `System`: each element under its name, its attributes as `Element_Attribute`.
struct System<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for System<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for System<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the System object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key()? {
            map.next_value_seed(SystemElement {
                builder: &mut *self.0,
                name: &name,
            })?;
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// One `System` element: a scalar is its text; an object has `#text` and
/// `#attributes`. Fields go straight into the event, text before attributes whatever
/// their order in the JSON (as the reference flattener puts them).
struct SystemElement<'b, 'a, 'n> {
    builder: &'b mut Builder<'a>,
    name: &'n str,
}

impl<'de> DeserializeSeed<'de> for SystemElement<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl SystemElement<'_, '_, '_> {
    fn text(self, value: Value) {
        self.builder.set_if_absent(self.name, value);
    }
}

impl<'de> Visitor<'de> for SystemElement<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an element")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let start = self.builder.event.fields.len();
        let mut text = None;
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                // The last `#text` wins, as in an object read whole.
                "#text" => text = map.next_value_seed(Scalar)?,
                "#attributes" => map.next_value_seed(SystemAttributes {
                    builder: &mut *self.builder,
                    element: self.name,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let Some(text) = text {
            if self.builder.position(self.name).is_none() {
                self.builder.names.insert(self.name);
                let fields = &mut self.builder.event.fields;
                fields.insert(start, (self.name.into(), text));
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        if let Some(text) = Scalar.visit_seq(seq)? {
            self.text(text);
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.text(Value::Bool(v));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.text(Value::Int(v));
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        if let Some(value) = Scalar.visit_u64::<E>(v)? {
            self.text(value);
        }
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.text(Value::Float(v));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.text(Value::Str(v.into()));
        Ok(())
    }
}

/// A `System` element's `#attributes`: each one a field `Element_Attribute`
/// (`Provider_Name`, `TimeCreated_SystemTime`), its name built in a reused buffer.
struct SystemAttributes<'b, 'a, 'n> {
    builder: &'b mut Builder<'a>,
    element: &'n str,
}

impl<'de> DeserializeSeed<'de> for SystemAttributes<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SystemAttributes<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("attributes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut name = std::mem::take(&mut self.builder.name);
        while let Some(Key(attribute)) = map.next_key()? {
            let value = map.next_value_seed(Scalar)?.unwrap_or(Value::Null);
            name.clear();
            name.push_str(self.element);
            name.push('_');
            name.push_str(&attribute);
            self.builder.set_if_absent(&name, value);
        }
        self.builder.name = name;
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A leaf value as `value::from_json` converts it (`None` for null).
struct Scalar;

impl<'de> DeserializeSeed<'de> for Scalar {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scalar {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    scalar_visits!(None);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Scalar)? {
            items.push(item.unwrap_or(Value::Null));
        }
        Ok(Some(Value::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        // A nested object where a leaf was expected keeps its JSON text.
        let json: Json =
            serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(Some(Value::Str(json.to_string().into())))
    }
}

/// A data element's value: its text; an empty element (null, `{}`) is an empty string.
struct DataValue;

impl<'de> DeserializeSeed<'de> for DataValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataValue {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a data value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Str("".into()))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Str("".into()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Scalar.visit_u64::<E>(v)?.unwrap_or(Value::Null))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Scalar)? {
            items.push(item.unwrap_or(Value::Null));
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let json: Json =
            serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(crate::flatten::element_value(&json))
    }
}

/// `EventData`: named data as fields, unnamed `Data` as one field.
struct EventData<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for EventData<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventData<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the EventData object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key()? {
            match &*name {
                "#attributes" => {
                    map.next_value::<IgnoredAny>()?;
                }
                "Data" | "#text" => {
                    let json: Json = map.next_value()?;
                    let start = self.0.event.fields.len();
                    crate::flatten::push_unnamed_data(&json, &mut self.0.event);
                    self.0.note_fields_from(start);
                }
                _ => {
                    let value = map.next_value_seed(DataValue)?;
                    self.0.set(&sigma_name(&name), value);
                }
            }
        }
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.set("Data", Value::Str(v.into()));
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// `UserData` and other sections: every leaf under its own element name. Rare
/// enough that it goes through a `Value` and the reference code.
struct Leaves<'b, 'a, 'n>(&'b mut Builder<'a>, &'n str);

impl<'de> DeserializeSeed<'de> for Leaves<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let json = Json::deserialize(deserializer)?;
        let start = self.0.event.fields.len();
        crate::flatten::flatten_leaves(self.1, &json, &mut self.0.event);
        self.0.note_fields_from(start);
        Ok(())
    }
}

/// Nested JSON: every leaf under its dotted path, renamed by the aliases.
struct Nested<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for Nested<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Nested<'_, '_> {
    fn leaf(self, value: Value) {
        let builder = self.0;
        let (name, priority) = builder.aliases.resolve(&builder.path);
        set_by_priority(
            &mut builder.event,
            &mut builder.priorities,
            name,
            priority,
            value,
        );
    }
}

impl<'de> Visitor<'de> for Nested<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut empty = true;
        while let Some(Key(key)) = map.next_key()? {
            empty = false;
            let length = self.0.path.len();
            self.0.path.push('.');
            self.0.path.push_str(&key);
            map.next_value_seed(Nested(&mut *self.0))?;
            self.0.path.truncate(length);
        }
        if empty {
            self.leaf(Value::Str("{}".into()));
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let value = Scalar.visit_seq(seq)?.unwrap_or(Value::Null);
        self.leaf(value);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.leaf(Value::Null);
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.leaf(Value::Bool(v));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.leaf(Value::Int(v));
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        let value = Scalar.visit_u64::<E>(v)?.unwrap_or(Value::Null);
        self.leaf(value);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.leaf(Value::Float(v));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.leaf(Value::Str(v.into()));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
