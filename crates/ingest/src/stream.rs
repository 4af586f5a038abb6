//! The fast path from JSON bytes to a flat event: one streaming pass with serde
//! visitors, no intermediate `serde_json::Value` tree.
//!
//! Building a `Value` for each record and then walking it costs an allocation per
//! node and a hash per object key; profiling showed that (with `free`) to be most of
//! the ingest time. This module produces exactly what [`crate::flatten_json`] produces
//! (a differential test over the real samples keeps them equal), which stays the
//! simple, obviously-correct reference and the fuzzing entry point.

use crate::builder::Builder;
use crate::flatten::sigma_name;
use crate::FieldAliases;
use rampart_event::{Event, Value};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt;

/// Parses one JSON object (an evtx_dump-style record, or nested/flat JSON) into an event:
/// by the hand-written fast path when it takes the record, by serde otherwise.
pub(crate) fn flatten_slice(
    bytes: &[u8],
    aliases: &FieldAliases,
) -> Result<Event, serde_json::Error> {
    // One UTF-8 check of the whole record is much cheaper than serde_json's check of
    // each string; invalid input takes the byte path, which reports where it breaks.
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Some(event) = crate::fast_record::flatten(text, aliases) {
            return Ok(event);
        }
    }
    flatten_streamed(bytes, aliases)
}

/// [`flatten_slice`] without the fast path: every shape, through serde.
pub(crate) fn flatten_streamed(
    bytes: &[u8],
    aliases: &FieldAliases,
) -> Result<Event, serde_json::Error> {
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
    /// A bare data section came before the bare `System` (the reference reads
    /// `System` first whatever the order).
    bare_data_first: bool,
    other: bool,
}

impl Shape {
    fn streamed_as_reference(&self) -> bool {
        let bare = self.bare_system || self.bare_data;
        match (self.event, bare, self.other) {
            (false, false, _) => true,
            (true, false, false) => self.event_system,
            (false, true, false) => self.bare_system && self.bare_data && !self.bare_data_first,
            _ => false,
        }
    }
}

/// The event, or `None` when the record's shape needs the reference flattener.
fn flatten_with<'de, R: serde_json::de::Read<'de>>(
    mut deserializer: serde_json::Deserializer<R>,
    aliases: &FieldAliases,
) -> Result<Option<Event>, serde_json::Error> {
    let mut builder = Builder::new(aliases);
    let mut shape = Shape::default();
    Root(&mut builder, &mut shape).deserialize(&mut deserializer)?;
    deserializer.end()?;
    if !shape.streamed_as_reference() || builder.needs_reference {
        return Ok(None);
    }
    Ok(Some(builder.finish()))
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

/// Implements the visits of a section visitor for the values it does not read: as
/// the reference does with a section that is not an object, nothing is taken from
/// them (rather than the record failing as a type error).
macro_rules! ignore_other_values {
    () => {
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
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(())
        }
    };
}

/// The top level: an evtx_dump record (`Event`, or bare `System`/`EventData`) or
/// nested JSON.
struct Root<'b, 'a, 's>(&'b mut Builder<'a>, &'s mut Shape);

impl<'de> DeserializeSeed<'de> for Root<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Root(builder, shape) = self;
        let keys = builder.keys_begin();
        while let Some(Key(key)) = map.next_key()? {
            builder.note_key(keys, &key);
            match &*key {
                "Event" => {
                    shape.event = true;
                    if map.next_value_seed(EvtxEvent(builder))? {
                        shape.event_system = true;
                    }
                }
                "System" => {
                    shape.bare_system = true;
                    map.next_value_seed(System(builder))?
                }
                "EventData" => {
                    shape.bare_data_first |= !shape.bare_system;
                    shape.bare_data = true;
                    map.next_value_seed(EventData(builder))?
                }
                "UserData" => {
                    shape.bare_data_first |= !shape.bare_system;
                    shape.bare_data = true;
                    map.next_value_seed(Leaves(builder, "UserData"))?
                }
                _ => {
                    shape.other = true;
                    builder.path.clear();
                    builder.path.push_str(&key);
                    map.next_value_seed(Nested(builder))?
                }
            }
        }
        builder.keys_end(keys);
        Ok(())
    }
}

/// `Event`: its sections; whether it held `System`.
struct EvtxEvent<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for EvtxEvent<'_, '_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EvtxEvent<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an EVTX event object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut system = false;
        let keys = self.0.keys_begin();
        while let Some(Key(key)) = map.next_key()? {
            self.0.note_key(keys, &key);
            match &*key {
                "System" => {
                    system = true;
                    map.next_value_seed(System(self.0))?
                }
                "#attributes" => {
                    map.next_value::<IgnoredAny>()?;
                }
                section => {
                    // The reference reads `System` first, whatever the order.
                    if !system {
                        self.0.needs_reference = true;
                    }
                    match section {
                        "EventData" => map.next_value_seed(EventData(self.0))?,
                        _ => map.next_value_seed(Leaves(self.0, section))?,
                    }
                }
            }
        }
        self.0.keys_end(keys);
        Ok(system)
    }
    // A non-object `Event` carries nothing to flatten.
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
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
        let keys = self.0.keys_begin();
        while let Some(Key(name)) = map.next_key()? {
            self.0.note_key(keys, &name);
            map.next_value_seed(SystemElement {
                builder: &mut *self.0,
                name: &name,
            })?;
        }
        self.0.keys_end(keys);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    ignore_other_values!();
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
        self.builder.set(self.name, value);
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
        let mut attributes = false;
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                // The last `#text` wins, as in an object read whole; a null one is a
                // null field.
                "#text" => text = Some(map.next_value_seed(Scalar)?.unwrap_or(Value::Null)),
                "#attributes" => {
                    // Read whole, only the last `#attributes` would count.
                    self.builder.needs_reference |= attributes;
                    attributes = true;
                    map.next_value_seed(SystemAttributes {
                        builder: &mut *self.builder,
                        element: self.name,
                    })?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let Some(text) = text {
            match self.builder.position(self.name) {
                Some(position) => self.builder.event.fields[position].1 = text,
                None => self.builder.insert(start, self.name, text),
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
            self.builder.set(&name, value);
        }
        self.builder.name = name;
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    ignore_other_values!();
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
                    crate::flatten::push_unnamed_data(&json, self.0);
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
    ignore_other_values!();
}

/// `UserData` and other sections: every leaf under its own element name. Rare
/// enough that it goes through a `Value` and the reference code.
struct Leaves<'b, 'a, 'n>(&'b mut Builder<'a>, &'n str);

impl<'de> DeserializeSeed<'de> for Leaves<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let json = Json::deserialize(deserializer)?;
        crate::flatten::flatten_leaves(self.1, &json, self.0);
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
        // The path is lent out while the field is set, then given back.
        let path = std::mem::take(&mut builder.path);
        let (name, priority) = builder.aliases.resolve(&path);
        builder.set_by_priority(name, priority, value);
        builder.path = path;
    }
}

impl<'de> Visitor<'de> for Nested<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut empty = true;
        let keys = self.0.keys_begin();
        while let Some(Key(key)) = map.next_key()? {
            self.0.note_key(keys, &key);
            empty = false;
            let length = self.0.path.len();
            // As the reference joins paths: an empty prefix (a `""` key) adds no dot.
            if length > 0 {
                self.0.path.push('.');
            }
            self.0.path.push_str(&key);
            map.next_value_seed(Nested(&mut *self.0))?;
            self.0.path.truncate(length);
        }
        self.0.keys_end(keys);
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
