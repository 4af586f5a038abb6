//! Evaluating a compiled rule against the current event.
//!
//! Semantics mirror the sigma crate's reference evaluator exactly (the differential
//! test holds us to it); only the mechanics differ: fields come from pre-located
//! slots, lower-case text is computed once per field and event, and patterns were
//! lower-cased at compile time.

use crate::compile::{push_matched, CompiledRule, CompiledSearch, Cond, Item, ItemTest, Leaf};
use crate::scratch::{any_scalar, load_text, Scratch};
use rampart_event::{Event, MatchedField, Value};
use rampart_sigma::StringOp;

/// Whether `rule` matches `event`.
pub(crate) fn rule_matches(rule: &CompiledRule, event: &Event, scratch: &mut Scratch) -> bool {
    cond_matches(rule, &rule.condition, event, scratch)
}

/// The counter of the first filter of `rule` that excludes `event` (the rule's own
/// condition having held), if any.
pub(crate) fn suppressing_filter(
    rule: &CompiledRule,
    event: &Event,
    scratch: &mut Scratch,
) -> Option<u32> {
    rule.filters
        .iter()
        .find(|check| !cond_matches(rule, &check.condition, event, scratch))
        .map(|check| check.counter)
}

fn cond_matches(rule: &CompiledRule, cond: &Cond, event: &Event, scratch: &mut Scratch) -> bool {
    match cond {
        Cond::Search(index) => search_matches(&rule.searches[*index as usize], event, scratch),
        Cond::Not(inner) => !cond_matches(rule, inner, event, scratch),
        Cond::And(items) => items
            .iter()
            .all(|item| cond_matches(rule, item, event, scratch)),
        Cond::Or(items) => items
            .iter()
            .any(|item| cond_matches(rule, item, event, scratch)),
    }
}

fn search_matches(search: &CompiledSearch, event: &Event, scratch: &mut Scratch) -> bool {
    match search {
        CompiledSearch::Keywords(leaves) => keyword_hit(leaves, event, scratch).is_some(),
        CompiledSearch::AllKeywords(groups) => groups
            .iter()
            .all(|group| keyword_hit(group, event, scratch).is_some()),
        CompiledSearch::Maps(maps) => maps
            .iter()
            .any(|items| items.iter().all(|item| item_matches(item, event, scratch))),
    }
}

/// The index of the first event field whose value some keyword matches.
fn keyword_hit(leaves: &[Leaf], event: &Event, scratch: &mut Scratch) -> Option<usize> {
    let Scratch { text, lower, .. } = scratch;
    event.fields.iter().position(|(_, value)| {
        any_scalar(value, &mut |scalar| {
            load_text(scalar, text, lower);
            leaves.iter().any(|leaf| leaf.matches(text, lower))
        })
    })
}

fn item_matches(item: &Item, event: &Event, scratch: &mut Scratch) -> bool {
    match &item.test {
        ItemTest::Delegate(pattern) => {
            pattern.matches(scratch.slots.value(event, item.slot), event)
        }
        ItemTest::FieldRef { other, op, cased } => {
            let (Some(value), Some(reference)) = (
                scratch.slots.value(event, item.slot),
                scratch.slots.value(event, *other),
            ) else {
                return false;
            };
            any_scalar(value, &mut |scalar| {
                let text = scalar.to_text();
                !matches!(scalar, Value::Null)
                    && any_scalar(reference, &mut |other| {
                        !matches!(other, Value::Null)
                            && compare(*op, &text, &other.to_text(), *cased)
                    })
            })
        }
        ItemTest::Any(leaves) => match scratch.slots.value(event, item.slot) {
            // A null value is no value, not an empty string: no pattern matches it.
            None | Some(Value::Null) => false,
            Some(Value::List(_)) => {
                let Some(value) = scratch.slots.value(event, item.slot) else {
                    return false;
                };
                let Scratch {
                    text, lower, marks, ..
                } = scratch;
                any_scalar(value, &mut |scalar| {
                    if matches!(scalar, Value::Null) {
                        return false;
                    }
                    load_text(scalar, text, lower);
                    leaves.iter().any(|leaf| {
                        leaf.literal.is_none_or(|id| marks.has_seen(id))
                            && leaf.leaf.matches(text, lower)
                    })
                })
            }
            Some(_) => {
                // The scan already looked for every leaf's literal in this value: a
                // leaf whose literal did not occur is false, and a plain contains
                // whose literal did is true; only the rest compare text.
                let mut unsure = false;
                for leaf in leaves {
                    match leaf.literal {
                        Some(id) if !scratch.marks.has_seen(id) => {}
                        Some(_) if leaf.exact_on_hit => return true,
                        _ => unsure = true,
                    }
                }
                if !unsure {
                    return false;
                }
                let marks_seen = |id: Option<u32>, marks: &crate::scratch::Marks| {
                    id.is_none_or(|id| marks.has_seen(id))
                };
                let Scratch {
                    slots,
                    marks,
                    keywords,
                    ..
                } = scratch;
                match slots.texts(event, item.slot, keywords) {
                    Some((original, lower)) => leaves.iter().any(|leaf| {
                        marks_seen(leaf.literal, marks) && leaf.leaf.matches(original, lower)
                    }),
                    None => false,
                }
            }
        },
    }
}

/// `value op text` for field references, exactly as the reference compares them.
fn compare(op: StringOp, value: &str, text: &str, cased: bool) -> bool {
    if !cased {
        return compare(op, &value.to_lowercase(), &text.to_lowercase(), true);
    }
    match op {
        StringOp::Equals | StringOp::Wildcard | StringOp::Regex => value == text,
        StringOp::Contains => value.contains(text),
        StringOp::StartsWith => value.starts_with(text),
        StringOp::EndsWith => value.ends_with(text),
    }
}

/// The fields and values of the rule's true searches (those not under a `not`), for
/// the alert. Only called for matching rules, so it may allocate.
pub(crate) fn matched_fields(
    rule: &CompiledRule,
    event: &Event,
    scratch: &mut Scratch,
    names: &crate::compile::FieldNames,
) -> Vec<MatchedField> {
    let mut out = Vec::new();
    for &index in &rule.positive {
        match &rule.searches[index as usize] {
            CompiledSearch::Keywords(leaves) => {
                if let Some(position) = keyword_hit(leaves, event, scratch) {
                    push_matched(&mut out, "keywords", event.fields[position].1.to_text());
                }
            }
            CompiledSearch::AllKeywords(groups) => {
                let hits: Option<Vec<usize>> = groups
                    .iter()
                    .map(|g| keyword_hit(g, event, scratch))
                    .collect();
                for position in hits.into_iter().flatten() {
                    push_matched(&mut out, "keywords", event.fields[position].1.to_text());
                }
            }
            CompiledSearch::Maps(maps) => {
                let matched = maps
                    .iter()
                    .find(|items| items.iter().all(|item| item_matches(item, event, scratch)));
                for item in matched.into_iter().flatten() {
                    if let Some(value) = scratch.slots.value(event, item.slot) {
                        push_matched(&mut out, names.name(item.slot), value.to_text());
                    }
                }
            }
        }
    }
    out
}
