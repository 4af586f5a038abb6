//! One Sigma rule into its compiled form: interned fields, pre-lowered patterns, an
//! index-based condition, and the literals that must occur for the rule to match.
//!
//! The anchors are what make scanning cheap: a rule is evaluated only when one of its
//! anchor literals occurs in the right field (or, for equality patterns, is the
//! field's whole value), so almost every rule is skipped by a single Aho-Corasick pass
//! (or table lookup) per field. They are derived from the condition so that
//! they are *necessary*: `a and b` needs a's (or b's) anchors, `a or b` needs one of
//! a's or b's, `not a` needs nothing we can look for, so it is always evaluated.

use crate::glob::Glob;
use memchr::memmem;
use rampart_event::{Level, MatchedField};
use rampart_sigma::{trimmed_for, Condition, FieldPattern, Rule, Search, StringOp, ValuePattern};
use std::collections::HashMap;
use std::path::PathBuf;

/// Field names referenced by rules, interned to dense slot numbers.
#[derive(Debug, Default)]
pub(crate) struct FieldNames {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
    /// Every literal that some leaf needs, per target, numbered densely so that the
    /// scan can record which ones occurred in a per-event array.
    literals: HashMap<(Target, String), u32>,
}

impl FieldNames {
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        if let Some(&slot) = self.index.get(name) {
            return slot;
        }
        let slot = self.names.len() as u32;
        self.names.push(name.into());
        self.index.insert(name.into(), slot);
        slot
    }

    /// The id of a literal needed in `target`.
    pub(crate) fn literal(&mut self, target: Target, literal: String) -> u32 {
        let next = self.literals.len() as u32;
        *self.literals.entry((target, literal)).or_insert(next)
    }

    pub(crate) fn literal_count(&self) -> usize {
        self.literals.len()
    }

    pub(crate) fn name(&self, slot: u32) -> &str {
        &self.names[slot as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// One string test, ready to run against a value's text.
#[derive(Debug, Clone)]
pub(crate) enum Leaf {
    /// Equals / contains / starts with / ends with; `needle` is lower-cased unless
    /// `cased`, and is then compared with the lower-cased value.
    Text {
        op: StringOp,
        needle: Box<str>,
        cased: bool,
    },
    /// A `contains`, with its substring searcher built once: building one per test
    /// (what `str::contains` does) cost as much as the search.
    Contains {
        finder: Box<memmem::Finder<'static>>,
        cased: bool,
    },
    /// A glob with inner wildcards.
    Glob { glob: Glob, cased: bool },
    /// A regular expression, run on the original text (its flags say the case).
    Regex(regex::Regex),
    /// A pattern that can never match (a regex the sigma crate did not compile).
    Never,
}

impl Leaf {
    fn new(pattern: &ValuePattern) -> Self {
        let cased = pattern.case_sensitive;
        match pattern.op {
            StringOp::Regex => match &pattern.regex {
                Some(regex) => Leaf::Regex(regex.clone()),
                // The sigma crate always compiles regexes; without one the reference
                // evaluator never matches, and neither does an impossible needle.
                None => Leaf::Never,
            },
            StringOp::Wildcard => Leaf::Glob {
                glob: Glob::new(&pattern.glob_parts(), !cased),
                cased,
            },
            op => {
                let needle: Box<str> = if cased {
                    pattern.text.as_str().into()
                } else {
                    pattern.text.to_lowercase().into()
                };
                match op {
                    StringOp::Contains => Leaf::Contains {
                        finder: Box::new(memmem::Finder::new(needle.as_bytes()).into_owned()),
                        cased,
                    },
                    op => Leaf::Text { op, needle, cased },
                }
            }
        }
    }

    /// Whether the leaf matches a value whose text is `original` (and `lower`).
    pub(crate) fn matches(&self, original: &str, lower: &str) -> bool {
        if self.matches_as_written(original, lower) {
            return true;
        }
        // Padded Windows values (`NtLmSsp `) compare trimmed, as in the reference
        // (`rampart_sigma::trimmed_for`); ASCII whitespace sits at the same ends of
        // the lower-case text.
        let op = match self {
            Leaf::Text { op, .. } => *op,
            Leaf::Glob { .. } => StringOp::Wildcard,
            Leaf::Contains { .. } | Leaf::Regex(_) | Leaf::Never => return false,
        };
        match (trimmed_for(op, original), trimmed_for(op, lower)) {
            (Some(original), Some(lower)) => self.matches_as_written(original, lower),
            _ => false,
        }
    }

    fn matches_as_written(&self, original: &str, lower: &str) -> bool {
        match self {
            Leaf::Text { op, needle, cased } => {
                let hay = if *cased { original } else { lower };
                match op {
                    StringOp::Equals => hay == &**needle,
                    StringOp::Contains => hay.contains(&**needle),
                    StringOp::StartsWith => hay.starts_with(&**needle),
                    StringOp::EndsWith => hay.ends_with(&**needle),
                    StringOp::Wildcard | StringOp::Regex => hay == &**needle,
                }
            }
            Leaf::Contains { finder, cased } => {
                let hay = if *cased { original } else { lower };
                finder.find(hay.as_bytes()).is_some()
            }
            Leaf::Glob { glob, cased } => glob.matches(if *cased { original } else { lower }),
            Leaf::Regex(regex) => regex.is_match(original),
            Leaf::Never => false,
        }
    }
}

/// The shortest literal worth looking for, in bytes.
const MIN_LITERAL: usize = 3;

/// The longest literal the automata look for, in bytes.
const MAX_LITERAL: usize = 20;

/// A lower-case literal that must occur in a value for `pattern` to match it.
///
/// The scan looks for literals ASCII-case-insensitively in an ASCII value, and in the
/// Unicode lower-case of any other value, so it sees exactly what the reference's
/// `to_lowercase` comparison sees. A case-sensitive pattern qualifies only when ASCII,
/// where lower-casing cannot depend on context (Greek final sigma). Regexes give none
/// here (see [`regex_literals`]).
fn required_literal(pattern: &ValuePattern) -> Option<String> {
    let literal = match pattern.op {
        StringOp::Regex => return None,
        StringOp::Wildcard => pattern
            .glob_parts()
            .into_iter()
            .filter_map(|part| match part {
                rampart_sigma::GlobPart::Literal(text) => Some(text.to_lowercase()),
                _ => None,
            })
            .max_by_key(String::len)?,
        _ => pattern.text.to_lowercase(),
    };
    // ASCII literals shorter than three bytes (`\\`, `.`, `-`) occur in nearly every
    // value: looking for them costs more than checking their leaves directly. A
    // non-ASCII character is rare in Windows telemetry, and selective on its own
    // (the Cyrillic look-alike letters of homoglyph rules).
    if (literal.len() < MIN_LITERAL && literal.is_ascii())
        || (!literal.is_ascii() && pattern.case_sensitive)
    {
        return None;
    }
    // Any part of the literal is as necessary as the whole, and long literals
    // (PowerShell script fragments) would make automata slow to build for little
    // selectivity. The end is kept: paths and registry keys share their beginnings
    // (`c:\windows\system32\`, `hklm\software\microsoft\`), and a shared prefix
    // made the rule a candidate on nearly every event.
    Some(literal_tail(&literal).to_owned())
}

/// The last `MAX_LITERAL` bytes of a literal (on a character boundary): any part of a
/// necessary literal is necessary too.
fn literal_tail(literal: &str) -> &str {
    let mut start = literal.len().saturating_sub(MAX_LITERAL);
    while !literal.is_char_boundary(start) {
        start += 1;
    }
    &literal[start..]
}

/// Most literals a regex anchor set may hold: more would mostly be case variants that
/// lower-casing did not merge, and cost more to scan for than the regex.
const MAX_REGEX_LITERALS: usize = 32;

/// How many tails of a regex sequence are tried for anchors.
const MAX_REGEX_TAILS: usize = 64;

/// Lower-case literals one of which every match of a regex pattern contains, or
/// `None` when no such set is selective enough to look for.
///
/// Candidates are the literals matches start with, those they end with, and, for a
/// regex that is a sequence, those each tail of the sequence starts with (a match
/// contains a match of every tail): `\.exe\s+[^"]{0,64}werfaultsecure` is looked for
/// by `werfaultsecure`, not by the `.exe` of nearly every command line.
///
/// Case-insensitive regexes fold case by Unicode rules (`s` also matches `ſ`): the
/// extracted literals list every such variant, and lower-casing them keeps each one
/// findable in the lower-cased value, so the set stays necessary. Only `Σ`, whose
/// lower case depends on its neighbours, cannot be lower-cased alone.
fn regex_literals(pattern: &ValuePattern) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    use regex_syntax::hir::{Hir, HirKind};
    if pattern.op != StringOp::Regex || pattern.regex.is_none() {
        return None;
    }
    let hir = regex_syntax::Parser::new().parse(&pattern.text).ok()?;
    let set = |kind, hir: &Hir| -> Option<Vec<String>> {
        let seq = Extractor::new().kind(kind).extract(hir);
        let mut out = Vec::new();
        for literal in seq.literals()? {
            let text = std::str::from_utf8(literal.as_bytes()).ok()?;
            if text.contains('Σ') {
                return None;
            }
            let lower = text.to_lowercase();
            if lower.len() < MIN_LITERAL {
                return None;
            }
            out.push(literal_tail(&lower).to_owned());
        }
        out.sort_unstable();
        out.dedup();
        (!out.is_empty() && out.len() <= MAX_REGEX_LITERALS).then_some(out)
    };
    let mut sets = vec![
        set(ExtractKind::Prefix, &hir),
        set(ExtractKind::Suffix, &hir),
    ];
    if let HirKind::Concat(items) = hir.kind() {
        // Each tail is extracted afresh: bounded, so that a hostile rule with a very
        // long sequence cannot make compiling quadratic.
        for start in 1..items.len().min(MAX_REGEX_TAILS) {
            sets.push(set(
                ExtractKind::Prefix,
                &Hir::concat(items[start..].to_vec()),
            ));
        }
    }
    // Longer shortest literal first (up to a point), then fewer literals.
    sets.into_iter().flatten().max_by_key(|set| {
        let shortest = set.iter().map(String::len).min().unwrap_or(0);
        (shortest.min(12), std::cmp::Reverse(set.len()))
    })
}

/// The lower-case value an equality pattern needs the whole field to have.
///
/// Looked up in a table, not searched for, so it has no minimum length: `EventID: 16`
/// and `Provider_Name: Security` (which as a substring hit every Security record) are
/// exact and selective anchors. As with [`required_literal`], a case-sensitive value
/// qualifies only when ASCII.
fn exact_literal(pattern: &ValuePattern) -> Option<String> {
    if pattern.op != StringOp::Equals || (pattern.case_sensitive && !pattern.text.is_ascii()) {
        return None;
    }
    Some(pattern.text.to_lowercase())
}

/// A leaf of a field item, with the literal the scan looks for on its behalf.
#[derive(Debug, Clone)]
pub(crate) struct FieldLeaf {
    pub(crate) leaf: Leaf,
    /// The id of a literal that must occur in the field for the leaf to match: when
    /// the scan did not see it, the leaf is false without looking at the value.
    pub(crate) literal: Option<u32>,
    /// The leaf is a case-insensitive `contains` of exactly that literal, or a
    /// case-insensitive equality looked up as a whole value, so on a single (non-list)
    /// value the literal occurring *is* the match.
    pub(crate) exact_on_hit: bool,
}

/// What one field of a map must satisfy.
#[derive(Debug, Clone)]
pub(crate) enum ItemTest {
    /// Any of the string leaves matches some scalar of the value.
    Any(Vec<FieldLeaf>),
    /// `|fieldref`: compared with another field of the same event, located through its
    /// own slot so that renames apply to it too.
    FieldRef {
        other: u32,
        op: StringOp,
        cased: bool,
    },
    /// Everything else (null, exists, CIDR, numbers, times, `neq`)
    /// is rare enough to run through the sigma crate's own evaluator.
    Delegate(FieldPattern),
}

/// One `field: pattern` item of a map.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) slot: u32,
    pub(crate) test: ItemTest,
}

/// A compiled search identifier.
#[derive(Debug, Clone)]
pub(crate) enum CompiledSearch {
    Keywords(Vec<Leaf>),
    AllKeywords(Vec<Vec<Leaf>>),
    Maps(Vec<Vec<Item>>),
}

/// A condition over search indices.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Search(u32),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// Where an anchor literal must occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    /// In the value of this field slot.
    Field(u32),
    /// As the whole (lower-case) value of this field slot: equality patterns, looked
    /// up in a hash table rather than searched for.
    Exact(u32),
    /// In any field value (keyword searches).
    Keywords,
}

/// One necessary literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Anchor {
    pub(crate) target: Target,
    pub(crate) literal: String,
    /// The literal's id (see [`FieldNames::literal`]).
    pub(crate) id: u32,
    /// How rarely the anchor is expected to hit, 0 (nearly always) to 8.
    pub(crate) rank: u8,
}

impl Anchor {
    fn new(target: Target, literal: String, fields: &mut FieldNames) -> Self {
        let rank = match target {
            // An event id is what routed the event: every event of the route has it.
            Target::Exact(slot) if fields.name(slot) == "EventID" => 1,
            // A whole value is far rarer than the same text inside values.
            Target::Exact(_) => (2 * literal.len()).clamp(2, 8),
            Target::Field(_) | Target::Keywords => literal.len().min(8),
        } as u8;
        Self {
            target,
            id: fields.literal(target, literal.clone()),
            literal,
            rank,
        }
    }
}

/// A set of anchors at least one of which must occur.
#[derive(Debug, Clone)]
struct AnchorSet {
    anchors: Vec<Anchor>,
}

impl AnchorSet {
    /// How selective the set is: the rank of its weakest anchor first, then fewer
    /// anchors.
    fn quality(&self) -> (u8, std::cmp::Reverse<usize>) {
        let weakest = self.anchors.iter().map(|a| a.rank).min().unwrap_or(8);
        (weakest, std::cmp::Reverse(self.anchors.len()))
    }

    fn best(sets: impl Iterator<Item = AnchorSet>) -> Option<AnchorSet> {
        sets.max_by_key(AnchorSet::quality)
    }

    fn union(sets: impl Iterator<Item = Option<AnchorSet>>) -> Option<AnchorSet> {
        let mut anchors = Vec::new();
        for set in sets {
            anchors.extend(set?.anchors);
        }
        anchors.sort_by_key(|a| a.id);
        anchors.dedup();
        Some(AnchorSet { anchors })
    }
}

/// What an alert of this rule carries besides the event.
#[derive(Debug, Clone)]
pub(crate) struct AlertTemplate {
    pub(crate) rule_id: String,
    pub(crate) title: String,
    pub(crate) level: Level,
    pub(crate) status: Option<String>,
    pub(crate) techniques: Vec<String>,
    pub(crate) tactics: Vec<String>,
    pub(crate) tags: Vec<String>,
}

/// One filter's condition on one rule.
#[derive(Debug, Clone)]
pub(crate) struct FilterCheck {
    /// Which suppression counter of the engine counts the matches it suppresses.
    pub(crate) counter: u32,
    pub(crate) condition: Cond,
}

/// A rule, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) alert: AlertTemplate,
    pub(crate) searches: Vec<CompiledSearch>,
    /// The rule's own condition (without its filters).
    pub(crate) condition: Cond,
    /// The filters that apply to it, each checked after the rule's own condition held:
    /// the first one whose condition fails suppresses the match (counted, no alert).
    pub(crate) filters: Vec<FilterCheck>,
    /// Searches that appear outside any `not`: the ones whose fields an alert reports.
    pub(crate) positive: Vec<u32>,
    /// Necessary literals; `None` when the rule must always be evaluated.
    pub(crate) anchors: Option<Vec<Anchor>>,
    /// Every field slot the rule reads.
    pub(crate) slots: Vec<u32>,
    /// Every field literal its leaves need (the scan must look for all of them).
    pub(crate) literals: Vec<Anchor>,
    pub(crate) path: PathBuf,
    pub(crate) line: usize,
}

/// Why a rule could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompileError(pub(crate) String);

/// Compiles one rule, with the filters (extra searches and conditions) that apply to it,
/// each given with the engine's counter of the matches it suppresses.
pub(crate) fn compile_rule(
    rule: &Rule,
    filters: &[(&rampart_sigma::Filter, u32)],
    fields: &mut FieldNames,
) -> Result<CompiledRule, CompileError> {
    // Search names are qualified by where they come from (0 = the rule, n = its n-th
    // filter) so that a filter's `selection` never shadows the rule's.
    let mut compiled: Vec<(CompiledSearch, Option<AnchorSet>)> = Vec::new();
    let mut qualified: HashMap<String, u32> = HashMap::new();
    let mut slots = Vec::new();
    let mut literals = Vec::new();
    let detections =
        std::iter::once(&rule.detection).chain(filters.iter().map(|(f, _)| &f.detection));
    for (prefix, detection) in detections.enumerate() {
        for (name, search) in &detection.searches {
            qualified.insert(format!("{prefix}:{name}"), compiled.len() as u32);
            compiled.push(compile_search(search, fields, &mut slots, &mut literals));
        }
    }

    let condition = convert_condition(&rule.detection.condition, 0, &qualified)?;
    let mut checks = Vec::with_capacity(filters.len());
    for (n, (filter, counter)) in filters.iter().enumerate() {
        checks.push(FilterCheck {
            counter: *counter,
            condition: convert_condition(&filter.detection.condition, n + 1, &qualified)?,
        });
    }
    // The prefilter's literals come from the rule's own condition only: a match that
    // a filter suppresses must still be evaluated, so that it is counted.
    let anchors = cond_anchors(&condition, &compiled).map(|set| set.anchors);
    let mut positive = Vec::new();
    positive_searches(&condition, false, &mut positive);
    for check in &checks {
        positive_searches(&check.condition, false, &mut positive);
    }
    positive.sort_unstable();
    positive.dedup();
    slots.sort_unstable();
    slots.dedup();
    Ok(CompiledRule {
        alert: AlertTemplate {
            rule_id: rule.alert_id(),
            title: rule.title.clone(),
            level: rule.level,
            status: rule.status.clone(),
            techniques: rule.attack.techniques.clone(),
            tactics: rule.attack.tactics.clone(),
            tags: rule.tags.clone(),
        },
        searches: compiled.into_iter().map(|(search, _)| search).collect(),
        condition,
        filters: checks,
        positive,
        anchors,
        slots,
        literals,
        path: rule.path.clone(),
        line: rule.line,
    })
}

fn compile_search(
    search: &Search,
    fields: &mut FieldNames,
    slots: &mut Vec<u32>,
    literals: &mut Vec<Anchor>,
) -> (CompiledSearch, Option<AnchorSet>) {
    match search {
        Search::Keywords(patterns) => (
            CompiledSearch::Keywords(patterns.iter().map(Leaf::new).collect()),
            keyword_anchors(patterns, fields),
        ),
        Search::AllKeywords(groups) => (
            CompiledSearch::AllKeywords(
                groups
                    .iter()
                    .map(|group| group.iter().map(Leaf::new).collect())
                    .collect(),
            ),
            AnchorSet::best(
                groups
                    .iter()
                    .filter_map(|group| keyword_anchors(group, fields)),
            ),
        ),
        Search::Maps(maps) => {
            let mut compiled = Vec::with_capacity(maps.len());
            let mut map_anchors = Vec::with_capacity(maps.len());
            for map in maps {
                let mut items = Vec::with_capacity(map.0.len());
                let mut item_anchors = Vec::new();
                for item in &map.0 {
                    let slot = fields.intern(&item.field);
                    slots.push(slot);
                    let test = match &item.pattern {
                        FieldPattern::Any(patterns) => {
                            let mut leaves = Vec::with_capacity(patterns.len());
                            let mut anchors = Vec::with_capacity(patterns.len());
                            let mut all_anchored = true;
                            for pattern in patterns {
                                let leaf = Leaf::new(pattern);
                                let (target, found) = match exact_literal(pattern) {
                                    Some(value) => (Target::Exact(slot), Some(value)),
                                    None => (Target::Field(slot), required_literal(pattern)),
                                };
                                let Some(literal) = found else {
                                    // A regex needs one of the literals its matches
                                    // start (or end) with: anchors, though none of them
                                    // alone decides the leaf.
                                    match regex_literals(pattern) {
                                        Some(needed) => {
                                            for literal in needed {
                                                let anchor = Anchor::new(target, literal, fields);
                                                literals.push(anchor.clone());
                                                anchors.push(anchor);
                                            }
                                        }
                                        None => all_anchored = false,
                                    }
                                    leaves.push(FieldLeaf {
                                        leaf,
                                        literal: None,
                                        exact_on_hit: false,
                                    });
                                    continue;
                                };
                                // Case-insensitive equality, or a contains of the whole
                                // literal: seeing the literal is seeing the match.
                                let exact_on_hit = !pattern.case_sensitive
                                    && match target {
                                        Target::Exact(_) => true,
                                        _ => {
                                            pattern.op == StringOp::Contains
                                                && pattern.text.to_lowercase() == literal
                                        }
                                    };
                                let anchor = Anchor::new(target, literal, fields);
                                let id = anchor.id;
                                literals.push(anchor.clone());
                                anchors.push(anchor);
                                leaves.push(FieldLeaf {
                                    leaf,
                                    literal: Some(id),
                                    exact_on_hit,
                                });
                            }
                            if all_anchored && !anchors.is_empty() {
                                item_anchors.push(AnchorSet { anchors });
                            }
                            ItemTest::Any(leaves)
                        }
                        FieldPattern::FieldRef {
                            field,
                            op,
                            case_sensitive,
                        } => {
                            let other = fields.intern(field);
                            slots.push(other);
                            ItemTest::FieldRef {
                                other,
                                op: *op,
                                cased: *case_sensitive,
                            }
                        }
                        other => ItemTest::Delegate(other.clone()),
                    };
                    items.push(Item { slot, test });
                }
                map_anchors.push(AnchorSet::best(item_anchors.into_iter()));
                compiled.push(items);
            }
            (
                CompiledSearch::Maps(compiled),
                AnchorSet::union(map_anchors.into_iter()),
            )
        }
    }
}

fn keyword_anchors(patterns: &[ValuePattern], fields: &mut FieldNames) -> Option<AnchorSet> {
    let anchors: Option<Vec<Anchor>> = patterns
        .iter()
        .map(|p| {
            let literal = required_literal(p)?;
            Some(Anchor::new(Target::Keywords, literal, fields))
        })
        .collect();
    anchors.map(|anchors| AnchorSet { anchors })
}

fn convert_condition(
    condition: &Condition,
    prefix: usize,
    names: &HashMap<String, u32>,
) -> Result<Cond, CompileError> {
    let search = |name: &str| {
        names
            .get(&format!("{prefix}:{name}"))
            .map(|&index| Cond::Search(index))
            .ok_or_else(|| CompileError(format!("condition names unknown search `{name}`")))
    };
    Ok(match condition {
        Condition::Search(name) => search(name)?,
        Condition::Not(inner) => Cond::Not(Box::new(convert_condition(inner, prefix, names)?)),
        Condition::And(items) => Cond::And(
            items
                .iter()
                .map(|item| convert_condition(item, prefix, names))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Or(items) => Cond::Or(
            items
                .iter()
                .map(|item| convert_condition(item, prefix, names))
                .collect::<Result<_, _>>()?,
        ),
        Condition::OneOf(selector) => Cond::Or(
            selector
                .names
                .iter()
                .map(|name| search(name))
                .collect::<Result<_, _>>()?,
        ),
        Condition::AllOf(selector) => Cond::And(
            selector
                .names
                .iter()
                .map(|name| search(name))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn cond_anchors(
    cond: &Cond,
    searches: &[(CompiledSearch, Option<AnchorSet>)],
) -> Option<AnchorSet> {
    match cond {
        Cond::Search(index) => searches.get(*index as usize)?.1.clone(),
        Cond::Not(_) => None,
        Cond::And(items) => {
            AnchorSet::best(items.iter().filter_map(|item| cond_anchors(item, searches)))
        }
        Cond::Or(items) => AnchorSet::union(items.iter().map(|item| cond_anchors(item, searches))),
    }
}

fn positive_searches(cond: &Cond, negated: bool, out: &mut Vec<u32>) {
    match cond {
        Cond::Search(index) if !negated => out.push(*index),
        Cond::Search(_) => {}
        Cond::Not(inner) => positive_searches(inner, !negated, out),
        Cond::And(items) | Cond::Or(items) => {
            for item in items {
                positive_searches(item, negated, out);
            }
        }
    }
}

/// The matched field/value pairs an alert reports for one true search.
pub(crate) fn push_matched(out: &mut Vec<MatchedField>, field: &str, value: String) {
    if !out.iter().any(|m| m.field == field && m.value == value) {
        out.push(MatchedField {
            field: field.to_owned(),
            value,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex(text: &str) -> ValuePattern {
        ValuePattern {
            op: StringOp::Regex,
            text: text.to_owned(),
            regex: regex::Regex::new(text).ok(),
            case_sensitive: !text.starts_with("(?i)"),
        }
    }

    #[test]
    fn regex_literals_are_what_every_match_contains() {
        let set = |text: &str| regex_literals(&regex(text));
        // Alternation: one literal per branch, lower-cased.
        assert_eq!(
            set("(Invoke|IEX)-Expression"),
            Some(vec![
                "iex-expression".to_owned(),
                "invoke-expression".to_owned()
            ])
        );
        // Case-insensitive: Unicode folding adds `ſ` (long s) for `s`; lower-casing
        // keeps it, as the lower-cased value would.
        assert_eq!(
            set("(?i)set.*&&"),
            Some(vec!["set".to_owned(), "ſet".to_owned()])
        );
        // A leading wildcard: the literals matches end with.
        assert_eq!(
            set(r".*\\mimikatz\.exe"),
            Some(vec!["\\mimikatz.exe".to_owned()])
        );
        // Inside a sequence: the tail's literal, not the common `.exe` it starts with.
        assert_eq!(
            set(r"\.exe\s+[^x]{0,64}werfault\.exe\s+\d+"),
            Some(vec!["werfault.exe".to_owned()])
        );
        // Nothing long enough at either end.
        assert_eq!(set("^a.*b$"), None);
        assert_eq!(set(r"\d+"), None);
        // Context-dependent lower case.
        assert_eq!(set("ΣΑΣ.*"), None);
    }
}
