//! An event built field by field, shared by the three JSON paths (the hand-written fast
//! path, the serde stream and the reference flattener), which must build the same events.
//!
//! Field names are unique within an event, so each field set is a lookup. Records have
//! tens of fields, where a scan of the list beats hashing; an attacker's record may have
//! millions, where a scan per field is quadratic. So an event that grows past
//! [`INDEXED_FROM`] fields gets a hash index of its names, and an object past as many
//! keys a set of their hashes (std's keyed SipHash: chosen names cannot collide on
//! purpose).

use crate::flatten::fill_meta;
use crate::FieldAliases;
use rampart_event::{Event, Text, Value};
use std::collections::{HashMap, HashSet};

/// The number of fields (or keys of one object) past which lookups go through a hash
/// table rather than a scan.
const INDEXED_FROM: usize = 32;

/// An event under construction, with what the JSON paths need along the way.
pub(crate) struct Builder<'a> {
    pub(crate) event: Event,
    pub(crate) aliases: &'a FieldAliases,
    /// For nested JSON: the alias priority that set each field (see `set_by_priority`).
    pub(crate) priorities: Vec<u32>,
    /// For nested JSON: the dotted path of the value being read.
    pub(crate) path: String,
    /// For `System` attributes: the field name being built (`Element_Attribute`).
    pub(crate) name: String,
    /// The names of the fields of EVTX records set so far.
    pub(crate) names: NameBits,
    /// Hashes of the keys of the objects being read, innermost last (see
    /// [`Builder::note_key`]).
    keys: Vec<u64>,
    /// The objects being read that have more than [`INDEXED_FROM`] keys: where their
    /// keys begin in `keys`, and the set of their key hashes.
    wide_objects: Vec<(usize, HashSet<u64>)>,
    /// Each field's position by name, once the event has more than [`INDEXED_FROM`]
    /// fields (empty before).
    index: HashMap<Text, usize>,
    /// Whether the record holds something the stream cannot read as the reference
    /// does (a key repeated in one object), so the reference must read it whole.
    pub(crate) needs_reference: bool,
}

impl<'a> Builder<'a> {
    /// An empty event.
    pub(crate) fn new(aliases: &'a FieldAliases) -> Self {
        Builder {
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
            keys: Vec::new(),
            wide_objects: Vec::new(),
            index: HashMap::new(),
            needs_reference: false,
        }
    }

    /// Where the keys of an object about to be read start in the key stack.
    pub(crate) fn keys_begin(&self) -> usize {
        self.keys.len()
    }

    /// Notes `key` of the object begun at `base`. An object read whole keeps only the
    /// last value of a repeated key (at the first one's place), which a stream that
    /// acts on each key as it comes cannot do: such a record needs the reference.
    /// (A hash collision sends a record there needlessly, never wrongly.)
    pub(crate) fn note_key(&mut self, base: usize, key: &str) {
        let hash = key_hash(key);
        let repeated = match self.wide_objects.last_mut() {
            Some((begin, seen)) if *begin == base => !seen.insert(hash),
            _ => self.keys[base..].contains(&hash),
        };
        self.needs_reference |= repeated;
        self.keys.push(hash);
        if self.keys.len() - base == INDEXED_FROM + 1 {
            let seen = self.keys[base..].iter().copied().collect();
            self.wide_objects.push((base, seen));
        }
    }

    /// Ends the object begun at `base`.
    pub(crate) fn keys_end(&mut self, base: usize) {
        while self
            .wide_objects
            .last()
            .is_some_and(|(begin, _)| *begin >= base)
        {
            self.wide_objects.pop();
        }
        self.keys.truncate(base);
    }

    /// The finished event, its header filled from its fields.
    pub(crate) fn finish(self) -> Event {
        let mut event = self.event;
        fill_meta(&mut event);
        event
    }

    /// Where the field `name` sits, if the event has it.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        if !self.index.is_empty() {
            return self.index.get(name).copied();
        }
        if !self.names.may_hold(name) {
            return None;
        }
        self.event
            .fields
            .iter()
            .position(|(field, _)| &**field == name)
    }

    /// Appends a field known to be new.
    pub(crate) fn push(&mut self, name: &str, value: Value) {
        let position = self.event.fields.len();
        self.insert(position, name, value);
    }

    /// Inserts a field known to be new at `position` (a `System` element's text goes
    /// before the attributes read after it).
    pub(crate) fn insert(&mut self, position: usize, name: &str, value: Value) {
        self.names.insert(name);
        let name = Text::from(name);
        if !self.index.is_empty() {
            // Only the element's own attributes follow `position`: few to shift.
            for (shifted, (field, _)) in self.event.fields[position..].iter().enumerate() {
                if let Some(slot) = self.index.get_mut(field) {
                    *slot = position + shifted + 1;
                }
            }
            self.index.insert(name.clone(), position);
        }
        self.event.fields.insert(position, (name, value));
        if self.index.is_empty() && self.event.fields.len() > INDEXED_FROM {
            self.index = (self.event.fields.iter().enumerate())
                .map(|(position, (field, _))| (field.clone(), position))
                .collect();
        }
    }

    /// A data field: replaces a field of the same name (as [`Event::set`]).
    pub(crate) fn set(&mut self, name: &str, value: Value) {
        match self.position(name) {
            Some(position) => self.event.fields[position].1 = value,
            None => self.push(name, value),
        }
    }

    /// Sets a field unless a rule of higher priority (lower number) already set it:
    /// `priorities[i]` is the alias priority that set `event.fields[i]`.
    pub(crate) fn set_by_priority(&mut self, name: &str, priority: u32, value: Value) {
        // Fields set by other means (a streamed `System`) have no priority: they rank
        // last, and the list is brought level before it is indexed.
        self.priorities.resize(self.event.fields.len(), u32::MAX);
        match self.position(name) {
            Some(index) => {
                if priority < self.priorities[index] {
                    self.event.fields[index].1 = value;
                    self.priorities[index] = priority;
                }
            }
            None => {
                self.push(name, value);
                self.priorities.push(priority);
            }
        }
    }
}

/// FNV-1a: keys are short, and this runs once per key.
fn key_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The names an event holds, as one bit per name signature (length, first, middle
/// and last byte). A name whose bit is clear is new and is pushed without comparing
/// it with every field before it, as most names are: those comparisons made adding
/// a field cost as much as parsing it.
#[derive(Default)]
pub(crate) struct NameBits(u128);

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

    pub(crate) fn may_hold(&self, name: &str) -> bool {
        self.0 & Self::bit(name) != 0
    }

    pub(crate) fn insert(&mut self, name: &str) {
        self.0 |= Self::bit(name);
    }
}
