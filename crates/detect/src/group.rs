//! Rule units and groups: the rules that apply to one kind of event (one channel and
//! event id), with everything needed to find its candidates in one pass over the event.

use crate::compile::{Anchor, CompiledRule, FieldNames, Target};
use crate::scratch::{any_scalar, load_text, Scratch, SEPARATOR};
use aho_corasick::{packed, AhoCorasick, AhoCorasickKind};
use rampart_event::{Event, Value};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// A word-at-a-time multiplicative hash (the rustc "Fx" scheme) for field names:
/// they are short and not attacker-chosen in a way that matters here, so SipHash's
/// flooding resistance buys nothing, while hashing every field of every event is on
/// the hot path.
#[derive(Default)]
pub(crate) struct NameHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl NameHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for NameHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // Fold the well-mixed high bits into the low ones the table indexes with.
        self.0 ^ (self.0 >> 32)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }
}

pub(crate) type NameMap<K, V> = HashMap<K, V, BuildHasherDefault<NameHasher>>;

/// While building: literal id → pattern index, the patterns, their literal ids, and
/// each pattern's anchored rules.
type Literals = (NameMap<u32, usize>, Vec<String>, Vec<u32>, Vec<Vec<u32>>);

/// How a scan finds its literals in a text.
#[derive(Debug)]
enum Finder {
    /// Anywhere in the text.
    Search {
        automaton: AhoCorasick,
        /// A SIMD searcher for the same literals (small sets only): most values
        /// contain none of them, and it says so several times faster than walking the
        /// automaton byte by byte, which then runs only on values with some hit.
        gate: Option<packed::Searcher>,
    },
    /// As the whole text: literal → pattern index.
    Exact(NameMap<Box<str>, u32>),
}

/// Literal sets up to this size get a DFA: one table lookup per byte where the
/// default NFA may follow several failure links, for a build cost that stays small
/// (the thousands of command-line literals keep the NFA, whose DFA would cost more
/// to build than it saves on any input short of millions of events).
const DFA_PATTERNS: usize = 400;

/// All anchor literals of one target, in one automaton (or table).
#[derive(Debug)]
struct LiteralScan {
    /// `None` for keyword scans (every field of the event).
    slot: Option<u32>,
    finder: Finder,
    /// Pattern index → the literal's id, for recording that it occurred.
    ids: Vec<u32>,
    /// Pattern index → rules anchored on that literal.
    rules: Vec<Vec<u32>>,
}

impl LiteralScan {
    /// Marks the rules whose literal occurs in `text`, the Unicode lower-case of a
    /// value (see `compile::required_literal`).
    fn scan_text(&self, text: &str, marks: &mut crate::scratch::Marks) {
        match &self.finder {
            Finder::Search { automaton, gate } => {
                // No literal occurs before the gate's leftmost match: the walk starts
                // there.
                let start = match gate {
                    Some(gate) => match gate.find(text) {
                        Some(found) => found.start(),
                        None => return,
                    },
                    None => 0,
                };
                let input = aho_corasick::Input::new(text).range(start..);
                for hit in automaton.find_overlapping_iter(input) {
                    self.hit(hit.pattern().as_usize(), marks);
                }
            }
            Finder::Exact(table) => {
                // Equality also holds for the value trimmed (see `Leaf::matches`).
                let trimmed = rampart_sigma::trimmed_for(rampart_sigma::StringOp::Equals, text);
                for value in std::iter::once(text).chain(trimmed) {
                    if let Some(&pattern) = table.get(value) {
                        self.hit(pattern as usize, marks);
                    }
                }
            }
        }
    }

    /// Records that pattern `pattern` occurred and marks the rules it anchors.
    #[inline]
    fn hit(&self, pattern: usize, marks: &mut crate::scratch::Marks) {
        marks.saw(self.ids[pattern]);
        for &rule in &self.rules[pattern] {
            marks.mark(rule);
        }
    }
}

/// The rules routed through one logsource source (deduplicated: Sysmon event 1 and
/// Security 4688 share the process_creation unit), with their automata.
///
/// Automata belong to units rather than to routes so that a rule set is put into an
/// automaton once, however many routes share it; automata are built on first use, so a
/// hunt over Sysmon logs never pays for the sixty channels it does not contain.
#[derive(Debug, Default)]
pub(crate) struct Unit {
    pub(crate) rules: Vec<u32>,
    scans: OnceLock<Scans>,
}

impl Unit {
    pub(crate) fn new(mut rules: Vec<u32>) -> Self {
        rules.sort_unstable();
        rules.dedup();
        Self {
            rules,
            scans: OnceLock::new(),
        }
    }

    fn scans(&self, rules: &[CompiledRule]) -> &Scans {
        self.scans.get_or_init(|| Scans::build(&self.rules, rules))
    }

    /// Builds the unit's automata now rather than on first use.
    pub(crate) fn prepare(&self, rules: &[CompiledRule]) {
        self.scans(rules);
    }
}

/// The rules of one route (a channel and event id), and how to find which of them an
/// event can match.
#[derive(Debug, Default)]
pub(crate) struct Group {
    /// Every rule of the group, ascending.
    pub(crate) rules: Vec<u32>,
    /// The units whose rules make up the group.
    units: Vec<u32>,
    /// Event field name → (slot, filled through a rename).
    plan: NameMap<Box<str>, Vec<(u32, bool)>>,
    /// Rule field ← event field renames in force.
    pub(crate) renames: Vec<(String, String)>,
    /// Taxonomy fields computed from the event for this group's rules.
    pub(crate) conversions: Vec<crate::logsource::Conversion>,
}

impl Group {
    /// Builds the group of `units`, with the renames of the sources that routed them.
    pub(crate) fn build(
        units: Vec<u32>,
        renames: Vec<(String, String)>,
        all_units: &[Unit],
        rules: &[CompiledRule],
        fields: &FieldNames,
    ) -> Self {
        let mut members: Vec<u32> = units
            .iter()
            .flat_map(|&u| all_units[u as usize].rules.iter().copied())
            .collect();
        members.sort_unstable();
        members.dedup();
        let mut plan: NameMap<Box<str>, Vec<(u32, bool)>> = NameMap::default();
        let mut add = |name: &str, slot: u32, alias: bool| {
            let targets = plan.entry(name.into()).or_default();
            if !targets.contains(&(slot, alias)) {
                targets.push((slot, alias));
            }
        };
        for &index in &members {
            for &slot in &rules[index as usize].slots {
                let name = fields.name(slot);
                add(name, slot, false);
                for (rule_field, event_field) in &renames {
                    if rule_field == name {
                        add(event_field, slot, true);
                    }
                }
            }
        }
        Self {
            rules: members,
            units,
            plan,
            renames,
            conversions: Vec::new(),
        }
    }

    /// Locates the event's fields, then leaves in `scratch.marks.candidates` the rules
    /// that can match it, ascending.
    pub(crate) fn candidates(
        &self,
        event: &Event,
        scratch: &mut Scratch,
        rules: &[CompiledRule],
        units: &[Unit],
    ) {
        for (position, (name, _)) in event.fields.iter().enumerate() {
            if let Some(targets) = self.plan.get(&**name) {
                for &(slot, alias) in targets {
                    scratch.slots.fill(slot, position, alias);
                }
            }
        }
        // Keyword scans lower-case every value anyway: done first, the field scans
        // reuse that text instead of lower-casing their values again.
        if self
            .units
            .iter()
            .any(|&unit| units[unit as usize].scans(rules).keywords)
        {
            scratch.keywords.build(event);
        }
        for &unit in &self.units {
            let scans = units[unit as usize].scans(rules);
            for &rule in &scans.always {
                scratch.marks.mark(rule);
            }
            for &literal in &scans.forced {
                scratch.marks.saw(literal);
            }
            for scan in &scans.scans {
                match scan.slot {
                    Some(slot) => match scratch.slots.value(event, slot) {
                        None => {}
                        Some(value @ Value::List(_)) => scan_value(scan, value, scratch),
                        Some(_) => {
                            let Scratch {
                                slots,
                                marks,
                                keywords,
                                ..
                            } = &mut *scratch;
                            if let Some((_, lower)) = slots.texts(event, slot, keywords) {
                                scan.scan_text(lower, marks);
                            }
                        }
                    },
                    None => {
                        let Scratch {
                            keywords, marks, ..
                        } = &mut *scratch;
                        scan.scan_text(keywords.text(event), marks);
                    }
                }
            }
        }
        scratch.marks.candidates.sort_unstable();
    }
}

/// The automata of one group and the rules they cannot vouch for.
#[derive(Debug, Default)]
struct Scans {
    /// Rules with no usable anchor: always evaluated.
    always: Vec<u32>,
    /// Literals no automaton looks for (one failed to build): taken as always seen.
    forced: Vec<u32>,
    scans: Vec<LiteralScan>,
    /// Whether some scan looks at every value (keyword searches).
    keywords: bool,
}

impl Scans {
    fn build(members: &[u32], rules: &[CompiledRule]) -> Self {
        let mut always = Vec::new();
        let mut literals: NameMap<Target, Literals> = NameMap::default();
        for &index in members {
            let rule = &rules[index as usize];
            for literal in &rule.literals {
                add_literal(&mut literals, literal, None);
            }
            match &rule.anchors {
                None => always.push(index),
                Some(anchors) => {
                    for anchor in anchors {
                        add_literal(&mut literals, anchor, Some(index));
                    }
                }
            }
        }
        let mut scans = Vec::new();
        let mut targets: Vec<_> = literals.into_iter().collect();
        targets.sort_by_key(|(target, _)| match target {
            Target::Field(slot) => u64::from(*slot) * 2,
            Target::Exact(slot) => u64::from(*slot) * 2 + 1,
            Target::Keywords => u64::MAX,
        });
        let mut forced = Vec::new();
        for (target, (_, patterns, ids, owners)) in targets {
            // Keyword scans run once over all the event's values joined by a separator
            // (see `scratch::KeywordText`); a literal holding it could match across two
            // values, so such a set goes without the prefilter.
            if target == Target::Keywords && patterns.iter().any(|p| p.contains(SEPARATOR)) {
                always.extend(owners.into_iter().flatten());
                forced.extend(ids);
                continue;
            }
            let slot = match target {
                Target::Field(slot) | Target::Exact(slot) => Some(slot),
                Target::Keywords => None,
            };
            if let Target::Exact(_) = target {
                let table = patterns
                    .into_iter()
                    .enumerate()
                    .map(|(index, literal)| (literal.into_boxed_str(), index as u32))
                    .collect();
                scans.push(LiteralScan {
                    slot,
                    finder: Finder::Exact(table),
                    ids,
                    rules: owners,
                });
                continue;
            }
            // Literals are lower-case and the scan runs on lower-case text, so the
            // automaton needs no case folding (which would double its transitions).
            // No prefilter of the crate's own: on text dense with its candidate bytes
            // (the hex GUIDs of a security descriptor) it restarts every few bytes and
            // made scans three times slower, and the gate already skips clean values.
            let built = AhoCorasick::builder()
                .kind((patterns.len() <= DFA_PATTERNS).then_some(AhoCorasickKind::DFA))
                .prefilter(false)
                .build(&patterns);
            match built {
                Ok(automaton) => scans.push(LiteralScan {
                    slot,
                    finder: Finder::Search {
                        gate: packed::Config::new().builder().extend(&patterns).build(),
                        automaton,
                    },
                    ids,
                    rules: owners,
                }),
                // An automaton too large to build: its rules lose the prefilter only.
                Err(_) => {
                    always.extend(owners.into_iter().flatten());
                    forced.extend(ids);
                }
            }
        }
        always.sort_unstable();
        always.dedup();
        Self {
            always,
            forced,
            keywords: scans.iter().any(|scan| scan.slot.is_none()),
            scans,
        }
    }
}

/// Registers a literal to look for, and the rule it anchors (if any).
fn add_literal(literals: &mut NameMap<Target, Literals>, anchor: &Anchor, rule: Option<u32>) {
    let (index, patterns, ids, owners) = literals.entry(anchor.target).or_default();
    let at = *index.entry(anchor.id).or_insert_with(|| {
        patterns.push(anchor.literal.clone());
        ids.push(anchor.id);
        owners.push(Vec::new());
        patterns.len() - 1
    });
    if let Some(rule) = rule {
        if owners[at].last() != Some(&rule) {
            owners[at].push(rule);
        }
    }
}

/// Scans the lower-case text of every scalar of a value.
fn scan_value(scan: &LiteralScan, value: &Value, scratch: &mut Scratch) {
    let Scratch {
        text, lower, marks, ..
    } = scratch;
    any_scalar(value, &mut |scalar| {
        load_text(scalar, text, lower);
        scan.scan_text(lower, marks);
        false
    });
}
