//! evtx_dump records read straight from their text: `{"Event":{"#attributes":…,
//! "System":{…},"EventData":{…}}}`, the shape of `evtx_dump -o jsonl` lines and of the
//! EVTX reader's own rendering, so nearly every record either reader sees.
//!
//! Only that common shape is taken, with scalar values: anything else (`UserData` and
//! other sections, a float, a nested value where a scalar belongs, a key given twice,
//! sections out of order) returns `None`, and the record goes through the serde stream
//! ([`crate::stream`]), which reads every shape. Both produce exactly what the reference
//! flattener ([`crate::flatten_json`]) does; the stream's differential tests run through
//! here first.

use crate::builder::{Builder, NameBits};
use crate::flatten::sigma_name;
use crate::lexer::{Cursor, Scalar};
use crate::FieldAliases;
use rampart_event::{Event, Value};

/// The event of an evtx_dump record, or `None` when the fast path does not take it.
pub(crate) fn flatten(text: &str, aliases: &FieldAliases) -> Option<Event> {
    let mut cursor = Cursor::new(text);
    let mut read = Read {
        cursor: &mut cursor,
        builder: Builder::new(aliases),
        buffer: String::new(),
    };
    read.cursor.expect(b'{')?;
    if read.cursor.first_key()? != Some("Event") {
        return None;
    }
    read.event()?;
    // `Event` must be the only key, with nothing after the object.
    if read.cursor.next_key()?.is_some() || !read.cursor.at_end() {
        return None;
    }
    Some(read.builder.finish())
}

/// `System` elements the fast path takes (records have about fifteen).
const MAX_ELEMENTS: usize = 32;

struct Read<'c, 'a, 'f> {
    cursor: &'c mut Cursor<'a>,
    builder: Builder<'f>,
    /// Decoded text of a string with escapes.
    buffer: String,
}

/// A data element's value: its text; an empty element (null) is an empty string.
fn element(scalar: Scalar<'_>) -> Value {
    value(scalar).unwrap_or_else(|| Value::Str("".into()))
}

/// A scalar as an event value (`None` for null).
fn value(scalar: Scalar<'_>) -> Option<Value> {
    match scalar {
        Scalar::Null => None,
        Scalar::Bool(flag) => Some(Value::Bool(flag)),
        Scalar::Int(number) => Some(Value::Int(number)),
        Scalar::Digits(digits) => Some(Value::Str(digits.into())),
        Scalar::Str(text) => Some(Value::Str(text.into())),
    }
}

impl<'a> Read<'_, 'a, '_> {
    /// The `Event` object: `#attributes` (ignored), `System`, then `EventData`.
    fn event(&mut self) -> Option<()> {
        self.cursor.expect(b'{')?;
        let (mut attributes, mut system, mut data) = (false, false, false);
        let mut key = self.cursor.first_key()?;
        while let Some(section) = key {
            match section {
                "#attributes" if !attributes => {
                    attributes = true;
                    self.cursor.skip_value(2, &mut self.buffer)?;
                }
                "System" if !system && !data => {
                    system = true;
                    self.system()?;
                }
                "EventData" if system && !data => {
                    data = true;
                    self.event_data()?;
                }
                _ => return None,
            }
            key = self.cursor.next_key()?;
        }
        system.then_some(())
    }

    /// A new field; a name already set is left to the serde path.
    fn set_new(&mut self, name: &str, value: Value) -> Option<()> {
        if self.builder.position(name).is_some() {
            return None;
        }
        self.builder.push(name, value);
        Some(())
    }

    /// `System`: each element under its name, its attributes as `Element_Attribute`.
    fn system(&mut self) -> Option<()> {
        self.cursor.expect(b'{')?;
        // Element names seen: a repeated one is left to the serde path (an object
        // read whole keeps only its last value).
        let mut seen = [""; MAX_ELEMENTS];
        let mut count = 0;
        let mut bits = NameBits::default();
        let mut key = self.cursor.first_key()?;
        while let Some(name) = key {
            if (bits.may_hold(name) && seen[..count].contains(&name)) || count == MAX_ELEMENTS {
                return None;
            }
            bits.insert(name);
            seen[count] = name;
            count += 1;
            if self.cursor.peek()? == b'{' {
                self.system_element(name)?;
            } else if let Some(value) = value(self.cursor.scalar(&mut self.buffer)?) {
                self.set_new(name, value)?;
            }
            key = self.cursor.next_key()?;
        }
        Some(())
    }

    /// An element object: `#text` under the element's name, then each attribute.
    fn system_element(&mut self, name: &str) -> Option<()> {
        self.cursor.expect(b'{')?;
        let start = self.builder.event.fields.len();
        let mut text = None;
        let mut attributes = false;
        let mut key = self.cursor.first_key()?;
        while let Some(member) = key {
            match member {
                // The last `#text` wins, as in an object read whole; a null one is a
                // null field.
                "#text" => {
                    let scalar = self.cursor.scalar(&mut self.buffer)?;
                    text = Some(value(scalar).unwrap_or(Value::Null));
                }
                "#attributes" if !attributes => {
                    attributes = true;
                    self.attributes(name)?;
                }
                "#attributes" => return None,
                _ => self.cursor.skip_value(3, &mut self.buffer)?,
            }
            key = self.cursor.next_key()?;
        }
        if let Some(text) = text {
            if self.builder.position(name).is_some() {
                return None;
            }
            self.builder.insert(start, name, text);
        }
        Some(())
    }

    /// An element's `#attributes`: each a field `Element_Attribute`.
    fn attributes(&mut self, element: &str) -> Option<()> {
        if self.cursor.peek()? == b'n' {
            return (self.cursor.scalar(&mut self.buffer)? == Scalar::Null).then_some(());
        }
        self.cursor.expect(b'{')?;
        let mut name = std::mem::take(&mut self.builder.name);
        let mut key = self.cursor.first_key()?;
        while let Some(attribute) = key {
            let value = value(self.cursor.scalar(&mut self.buffer)?).unwrap_or(Value::Null);
            name.clear();
            name.push_str(element);
            name.push('_');
            name.push_str(attribute);
            self.set_new(&name, value)?;
            key = self.cursor.next_key()?;
        }
        self.builder.name = name;
        Some(())
    }

    /// `EventData`: named data as fields (replacing a `System` field of the same
    /// name), unnamed `Data` as one field.
    fn event_data(&mut self) -> Option<()> {
        match self.cursor.peek()? {
            b'{' => self.cursor.expect(b'{')?,
            b'"' => {
                let scalar = self.cursor.scalar(&mut self.buffer)?;
                if let Some(text) = value(scalar) {
                    self.builder.set("Data", text);
                }
                return Some(());
            }
            _ => return (self.cursor.scalar(&mut self.buffer)? == Scalar::Null).then_some(()),
        }
        let mut key = self.cursor.first_key()?;
        while let Some(name) = key {
            match name {
                "#attributes" => self.cursor.skip_value(3, &mut self.buffer)?,
                "Data" | "#text" => self.unnamed_data()?,
                _ => {
                    let value = element(self.cursor.scalar(&mut self.buffer)?);
                    self.builder.set(&sigma_name(name), value);
                }
            }
            key = self.cursor.next_key()?;
        }
        Some(())
    }

    /// Unnamed `Data` elements, in order, under the one field `Data`: a scalar, or a
    /// list of scalars (one element alone stays a scalar), bare or as `#text`.
    fn unnamed_data(&mut self) -> Option<()> {
        let value = if self.cursor.peek()? == b'{' {
            self.cursor.expect(b'{')?;
            let mut text = None;
            let mut key = self.cursor.first_key()?;
            while let Some(member) = key {
                match member {
                    // The last `#text` wins, as in an object read whole.
                    "#text" => text = self.data_items()?,
                    _ => self.cursor.skip_value(4, &mut self.buffer)?,
                }
                key = self.cursor.next_key()?;
            }
            text
        } else {
            self.data_items()?
        };
        if let Some(value) = value {
            self.builder.set("Data", value);
        }
        Some(())
    }

    /// The elements of unnamed `Data`: `None` inside `Some` for null.
    fn data_items(&mut self) -> Option<Option<Value>> {
        if self.cursor.peek()? != b'[' {
            return Some(match self.cursor.scalar(&mut self.buffer)? {
                Scalar::Null => None,
                scalar => Some(element(scalar)),
            });
        }
        self.cursor.expect(b'[')?;
        let mut items = Vec::new();
        let mut more = self.cursor.first_item()?;
        while more {
            items.push(element(self.cursor.scalar(&mut self.buffer)?));
            more = self.cursor.next_item()?;
        }
        Some(Some(if items.len() == 1 {
            items.pop()?
        } else {
            Value::List(items)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::flatten;
    use crate::{flatten_json, FieldAliases};

    /// The fast path's event equals the reference's, or it declines.
    fn agrees(text: &str) -> bool {
        let aliases = FieldAliases::builtin();
        let Some(fast) = flatten(text, &aliases) else {
            return false;
        };
        let json: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        assert_eq!(fast, flatten_json(&json, &aliases), "{text}");
        true
    }

    #[test]
    fn takes_the_common_shape_as_the_reference_reads_it() {
        for text in [
            r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"{5770385f}"}},"EventID":1,"TimeCreated":{"#attributes":{"SystemTime":"2019-04-27T15:57:25.8688632Z"}},"EventRecordID":6575,"Correlation":null,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"IEWIN7"},"EventData":{"RuleName":"","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c \"echo hi\"\ttab","Source Name":"x","Version":5,"Empty":null}}}"##,
            r##"{ "Event" : { "System" : { "EventID" : { "#attributes" : { "Qualifiers" : 16384 }, "#text" : 7045 } } , "EventData" : { "Data" : ["a", null, 3] } } }"##,
            r##"{"Event":{"System":{"EventID":1,"Version":2},"EventData":{"Version":"5","Data":"one"}}}"##,
            r##"{"Event":{"System":{"EventID":{"#text":null}},"EventData":"plain text"}}"##,
            r##"{"Event":{"System":{"EventID":1},"EventData":{"Data":["only"],"Data":["a","b"]}}}"##,
            r##"{"Event":{"System":{"Execution":{"#attributes":null},"Level":-4,"Flag":true}}}"##,
            r##"{"Event":{"System":{"EventID":1},"EventData":null}}"##,
            r##"{"Event":{"System":{"EventID":800},"EventData":{"Data":{"#text":["a","b"],"#attributes":{"k":1}}}}}"##,
            r##"{"Event":{"System":{"EventID":800},"EventData":{"Data":{"#text":"one","#text":["x"]}}}}"##,
            r##"{"Event":{"System":{"EventID":800},"EventData":{"Data":{"other":1}}}}"##,
            r##"{"Event":{"System":{"EventID":60},"EventData":{"limit":18446744073709551615,"n":-9223372036854775807}}}"##,
        ] {
            assert!(agrees(text), "declined {text}");
        }
    }

    #[test]
    fn leaves_other_shapes_and_doubtful_records_to_the_serde_path() {
        for text in [
            r##"{"Event":{"System":{"EventID":1},"UserData":{"X":{"A":"b"}}}}"##,
            r##"{"Event":{"EventData":{"A":"b"},"System":{"EventID":1}}}"##,
            r##"{"Event":{"System":{"EventID":1}},"Other":1}"##,
            r##"{"Event":{"System":{"EventID":1,"EventID":2}}}"##,
            r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"a"}},"Provider":{"#attributes":{"Guid":"b"}}}}}"##,
            r##"{"Event":{"System":{"P":{"#attributes":{"A":1},"#attributes":{"B":2}}}}}"##,
            r##"{"Event":{"System":{"EventID":1.5}}}"##,
            r##"{"Event":{"System":{"EventID":1},"EventData":{"X":"\u0041"}}}"##,
            r##"{"Event":{"System":{"EventID":1},"EventData":{"X":{"#text":"a"}}}}"##,
            r##"{"Event":{"System":{"EventID":1}}} trailing"##,
            r##"{"Event":{"EventData":{"X":"y"}}}"##,
            r##"{"System":{"EventID":1},"EventData":{"X":"y"}}"##,
            r##"{"winlog":{"event_id":1}}"##,
            "{\"Event\":{\"System\":{\"EventID\":1},\"EventData\":{\"X\":\"a\tb\"}}}",
            "{\"Event\":{\"System\":{\"EventID\":1},\"EventData\":{\"X\":\"a longer value with a \u{7} bell\"}}}",
        ] {
            assert!(!agrees(text), "took {text}");
        }
    }
}
