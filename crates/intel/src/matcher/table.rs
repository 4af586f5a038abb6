//! Compact storage for a million indicator values: every string lives once in one
//! arena, and hash tables hold 12-byte slots (a span of the arena and a posting)
//! rather than owned strings, so the matcher's memory is close to the text it holds.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// A string in the [`Arena`]: its start and length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

/// Every string of the matcher, back to back.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    text: String,
}

impl Arena {
    /// Appends `text`; `None` once the arena would pass 4 GiB (u32 offsets).
    pub(crate) fn push(&mut self, text: &str) -> Option<Span> {
        let start = u32::try_from(self.text.len()).ok()?;
        let len = u32::try_from(text.len()).ok()?;
        start.checked_add(len)?;
        self.text.push_str(text);
        Some(Span { start, len })
    }

    /// The string at `span`.
    pub(crate) fn get(&self, span: Span) -> &str {
        let start = span.start as usize;
        self.text
            .get(start..start + span.len as usize)
            .unwrap_or_default()
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.text.capacity()
    }

    pub(crate) fn shrink(&mut self) {
        self.text.shrink_to_fit();
    }
}

/// A posting: one observable index, or (high bit set) an index into [`Postings`]'
/// lists when several observables share a value.
pub(crate) type Posting = u32;

const LIST_BIT: u32 = 1 << 31;

/// Lists of observables for values that several indicators share.
#[derive(Debug, Default)]
pub(crate) struct Postings {
    lists: Vec<Vec<u32>>,
}

impl Postings {
    /// `posting` with `observable` added.
    pub(crate) fn add(&mut self, posting: Posting, observable: u32) -> Posting {
        if posting & LIST_BIT != 0 {
            if let Some(list) = self.lists.get_mut((posting & !LIST_BIT) as usize) {
                list.push(observable);
            }
            posting
        } else {
            self.lists.push(vec![posting, observable]);
            (self.lists.len() - 1) as u32 | LIST_BIT
        }
    }

    /// The observables of `posting`.
    pub(crate) fn get<'a>(&'a self, posting: &'a Posting) -> &'a [u32] {
        if posting & LIST_BIT != 0 {
            self.lists
                .get((posting & !LIST_BIT) as usize)
                .map_or(&[], Vec::as_slice)
        } else {
            std::slice::from_ref(posting)
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.lists.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.lists.iter().map(|l| l.capacity() * 4).sum::<usize>()
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    value: Span,
    posting: Posting,
}

/// Values (in the arena) → postings.
#[derive(Default)]
pub(crate) struct ValueTable {
    table: HashTable<Slot>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for ValueTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueTable")
            .field("values", &self.table.len())
            .finish()
    }
}

impl ValueTable {
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Adds `observable` under `value`, storing the value in `arena` when it is new.
    /// Returns the value's span, or `None` when the arena is full.
    pub(crate) fn insert(
        &mut self,
        arena: &mut Arena,
        postings: &mut Postings,
        value: &str,
        observable: u32,
    ) -> Option<Span> {
        let hash = self.hasher.hash_one(value.as_bytes());
        let found = self
            .table
            .find_mut(hash, |slot| arena.get(slot.value) == value);
        if let Some(slot) = found {
            slot.posting = postings.add(slot.posting, observable);
            return Some(slot.value);
        }
        let span = arena.push(value)?;
        let hasher = &self.hasher;
        self.table.insert_unique(
            hash,
            Slot {
                value: span,
                posting: observable,
            },
            |slot| hasher.hash_one(arena.get(slot.value).as_bytes()),
        );
        Some(span)
    }

    /// The posting of `value`.
    pub(crate) fn get(&self, arena: &Arena, value: &str) -> Option<&Posting> {
        if self.table.is_empty() {
            return None;
        }
        let hash = self.hasher.hash_one(value.as_bytes());
        self.table
            .find(hash, |slot| arena.get(slot.value) == value)
            .map(|slot| &slot.posting)
    }

    pub(crate) fn bytes(&self) -> usize {
        self.table.capacity() * (std::mem::size_of::<Slot>() + 1)
    }

    pub(crate) fn shrink(&mut self, arena: &Arena) {
        let hasher = &self.hasher;
        self.table
            .shrink_to_fit(|slot| hasher.hash_one(arena.get(slot.value).as_bytes()));
    }
}

/// A set of strings (the allow-list), owned.
#[derive(Debug, Default)]
pub(crate) struct StringSet {
    set: hashbrown::HashSet<Box<str>>,
}

impl StringSet {
    pub(crate) fn insert(&mut self, value: &str) {
        self.set.insert(value.into());
    }

    pub(crate) fn contains(&self, value: &str) -> bool {
        !self.set.is_empty() && self.set.contains(value)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}
