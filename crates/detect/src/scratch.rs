//! Per-thread buffers reused from one event to the next, so that scanning an event
//! allocates nothing in the common case.
//!
//! Every per-slot and per-rule array is stamped with the event's generation number
//! instead of being cleared: starting a new event is one increment, whatever the
//! number of fields and rules.

use rampart_event::{Event, Value};
use std::fmt::Write as _;

const ABSENT: u32 = u32::MAX;

/// Reusable scanning state; one per thread (see [`crate::Engine::scan`]).
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) slots: Slots,
    pub(crate) marks: Marks,
    /// Keyword and list values: text and lower-case text of the scalar at hand.
    pub(crate) text: String,
    pub(crate) lower: String,
    /// The event's channel, lower-cased for routing.
    pub(crate) channel: String,
    /// Every value of the event, lower-cased and joined, for keyword scans.
    pub(crate) keywords: KeywordText,
}

impl Scratch {
    /// An empty scratch; it grows to the engine's size on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a new event for an engine with `slots` fields and `rules` rules.
    pub(crate) fn begin(&mut self, slots: usize, rules: usize, literals: usize) {
        self.slots.begin(slots);
        self.marks.begin(rules, literals);
        self.keywords.built = false;
    }
}

/// What separates two values in [`KeywordText`]: no keyword literal contains it.
pub(crate) const SEPARATOR: char = '\0';

/// The lower-case text of all of an event's scalar values, separated by
/// [`SEPARATOR`]: a keyword automaton scans it in one call rather than one per value
/// (events have tens of short values, and a call costs more than its bytes).
///
/// Once built for an event, it also serves each string field's lower-case text to
/// [`Slots::texts`], so a value is lower-cased once, not once for keywords and again
/// for its field's own scan.
#[derive(Debug, Default)]
pub(crate) struct KeywordText {
    joined: String,
    /// Per field position, where its lower-case text sits in `joined` (`NO_SPAN` for
    /// lists, whose elements sit there one after the other).
    spans: Vec<(u32, u32)>,
    built: bool,
}

const NO_SPAN: (u32, u32) = (u32::MAX, 0);

impl KeywordText {
    /// The joined text of `event`'s values, built on first use for each event.
    pub(crate) fn text(&mut self, event: &Event) -> &str {
        self.build(event);
        &self.joined
    }

    /// Builds the joined text for `event` unless already built.
    pub(crate) fn build(&mut self, event: &Event) {
        if self.built {
            return;
        }
        self.built = true;
        let Self { joined, spans, .. } = self;
        joined.clear();
        spans.clear();
        for (_, value) in &event.fields {
            if let Value::List(_) = value {
                spans.push(NO_SPAN);
                any_scalar(value, &mut |scalar| {
                    push_scalar_lower(scalar, joined);
                    joined.push(SEPARATOR);
                    false
                });
                continue;
            }
            let start = joined.len() as u32;
            push_scalar_lower(value, joined);
            spans.push((start, joined.len() as u32));
            joined.push(SEPARATOR);
        }
    }

    /// The lower-case text of the event's field at `position`, if the joined text is
    /// built and the field is a scalar.
    fn lower_of(&self, position: usize) -> Option<&str> {
        if !self.built {
            return None;
        }
        let &(start, end) = self.spans.get(position)?;
        self.joined.get(start as usize..end as usize)
    }
}

/// Appends a scalar's lower-case text.
fn push_scalar_lower(scalar: &Value, out: &mut String) {
    match scalar {
        Value::Str(string) => push_lower(string, out),
        // Numbers and booleans print as ASCII.
        _ => {
            let start = out.len();
            write_text(scalar, out);
            out[start..].make_ascii_lowercase();
        }
    }
}

/// Where each referenced field sits in the current event, and its cached texts.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    generation: u32,
    /// Index into `event.fields`, valid when `filled[slot] == generation`.
    position: Vec<u32>,
    filled: Vec<u32>,
    /// Whether the slot was filled through a rename (a direct field wins over it).
    alias: Vec<bool>,
    /// Generation at which `text`/`lower` were computed.
    cached: Vec<u32>,
    /// The text of non-string scalars (numbers, booleans).
    text: Vec<String>,
    /// The Unicode lower-case of the value's text.
    lower: Vec<String>,
}

impl Slots {
    fn begin(&mut self, slots: usize) {
        if self.position.len() < slots {
            self.position.resize(slots, ABSENT);
            self.filled.resize(slots, 0);
            self.alias.resize(slots, false);
            self.cached.resize(slots, 0);
            self.text.resize(slots, String::new());
            self.lower.resize(slots, String::new());
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: old stamps could collide with new ones.
            self.filled.fill(0);
            self.cached.fill(0);
            self.generation = 1;
        }
    }

    /// Records that `slot` is the event's field at `position`.
    #[inline]
    pub(crate) fn fill(&mut self, slot: u32, position: usize, alias: bool) {
        let s = slot as usize;
        // A filled slot keeps its value, except that a direct field replaces an alias
        // (renames apply only when the event lacks the taxonomy's own field).
        if self.filled[s] == self.generation && (alias || !self.alias[s]) {
            return;
        }
        self.filled[s] = self.generation;
        self.position[s] = position as u32;
        self.alias[s] = alias;
    }

    /// The event's value for `slot`, if present.
    #[inline]
    pub(crate) fn value<'e>(&self, event: &'e Event, slot: u32) -> Option<&'e Value> {
        let s = slot as usize;
        if self.filled[s] != self.generation {
            return None;
        }
        event
            .fields
            .get(self.position[s] as usize)
            .map(|(_, value)| value)
    }

    /// The original and lower-case text of a scalar slot value, computed once per event
    /// (or taken from `keywords` when that is built).
    pub(crate) fn texts<'a>(
        &'a mut self,
        event: &'a Event,
        slot: u32,
        keywords: &'a KeywordText,
    ) -> Option<(&'a str, &'a str)> {
        let value = self.value(event, slot)?;
        let s = slot as usize;
        if let Value::Str(original) = value {
            if let Some(lower) = keywords.lower_of(self.position[s] as usize) {
                return Some((original, lower));
            }
        }
        if self.cached[s] != self.generation {
            self.cached[s] = self.generation;
            let text = &mut self.text[s];
            text.clear();
            if value.as_str().is_none() {
                write_text(value, text);
            }
            let original = value.as_str().unwrap_or(text);
            lower_into(original, &mut self.lower[s]);
        }
        let original = match value {
            Value::Str(s) => s,
            _ => self.text[s].as_str(),
        };
        Some((original, self.lower[s].as_str()))
    }
}

/// Which rules are candidates for the current event.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    generation: u32,
    stamp: Vec<u32>,
    /// Per literal id: the generation at which the scan saw it.
    seen: Vec<u32>,
    pub(crate) candidates: Vec<u32>,
}

impl Marks {
    fn begin(&mut self, rules: usize, literals: usize) {
        if self.stamp.len() < rules {
            self.stamp.resize(rules, 0);
        }
        if self.seen.len() < literals {
            self.seen.resize(literals, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.fill(0);
            self.seen.fill(0);
            self.generation = 1;
        }
        self.candidates.clear();
    }

    /// Records that the scan saw literal `id`.
    #[inline]
    pub(crate) fn saw(&mut self, id: u32) {
        self.seen[id as usize] = self.generation;
    }

    /// Whether the scan saw literal `id` in the current event.
    #[inline]
    pub(crate) fn has_seen(&self, id: u32) -> bool {
        self.seen[id as usize] == self.generation
    }

    /// Makes `rule` a candidate (once).
    #[inline]
    pub(crate) fn mark(&mut self, rule: u32) {
        let stamp = &mut self.stamp[rule as usize];
        if *stamp != self.generation {
            *stamp = self.generation;
            self.candidates.push(rule);
        }
    }
}

/// A scalar's text as string matching sees it: exactly [`Value::to_text`], without
/// allocating. Lists are never passed here (their elements are).
pub(crate) fn write_text(value: &Value, out: &mut String) {
    match value {
        Value::Null => {}
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        // Event ids, process ids, ports: numbers are common enough that the
        // formatting machinery showed in profiles.
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Value::Str(s) => out.push_str(s),
        Value::List(_) => out.push_str(&value.to_text()),
    }
}

/// Fills the reused buffers with a scalar's text and its lower-case form, the two
/// strings every matcher compares against.
pub(crate) fn load_text(scalar: &Value, text: &mut String, lower: &mut String) {
    text.clear();
    write_text(scalar, text);
    lower_into(text, lower);
}

/// `text.to_lowercase()` into a reused buffer (ASCII fast path).
pub(crate) fn lower_into(text: &str, out: &mut String) {
    out.clear();
    push_lower(text, out);
}

/// Appends `text.to_lowercase()` to `out`.
fn push_lower(text: &str, out: &mut String) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        // Only the appended part: `out` may hold earlier values.
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&text.to_lowercase());
    }
}

/// Calls `f` on each scalar of a value (list elements, flattened) until it returns true.
pub(crate) fn any_scalar(value: &Value, f: &mut impl FnMut(&Value) -> bool) -> bool {
    match value {
        Value::List(items) => items.iter().any(|item| any_scalar(item, f)),
        scalar => f(scalar),
    }
}
