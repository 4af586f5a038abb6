//! The reference evaluator: a rule against one event, written for obviousness.
//!
//! The compiled matcher in `rampart-detect` is tested against this code, so it favours
//! being plainly right over being fast: every comparison lower-cases both sides, every
//! search is evaluated when the condition asks for it.

use crate::model::{
    CmpOp, Condition, FieldItem, FieldMap, FieldPattern, GlobPart, Rule, Search, StringOp,
    TimePart, ValuePattern,
};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use rampart_event::{Event, Value};
use std::net::IpAddr;

impl Rule {
    /// Whether the event satisfies the rule's detection (log source is not checked:
    /// routing events to rules is the caller's business).
    pub fn matches(&self, event: &Event) -> bool {
        let detection = &self.detection;
        detection.condition.eval(&|name| {
            detection
                .search(name)
                .is_some_and(|search| search.matches(event))
        })
    }
}

impl Condition {
    /// Evaluates the condition, asking `search` whether each named search matched.
    ///
    /// Quantifiers use the names their [`crate::Selector`] resolved to; an empty
    /// selection makes `1 of` false and `all of` true.
    pub fn eval(&self, search: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Condition::Search(name) => search(name),
            Condition::Not(inner) => !inner.eval(search),
            Condition::And(items) => items.iter().all(|item| item.eval(search)),
            Condition::Or(items) => items.iter().any(|item| item.eval(search)),
            Condition::OneOf(selector) => selector.names.iter().any(|name| search(name)),
            Condition::AllOf(selector) => selector.names.iter().all(|name| search(name)),
        }
    }
}

impl Search {
    /// Whether the event satisfies this search.
    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Search::Keywords(patterns) => keyword_matches(patterns, event),
            Search::AllKeywords(groups) => groups.iter().all(|group| keyword_matches(group, event)),
            Search::Maps(maps) => maps.iter().any(|map| map.matches(event)),
        }
    }
}

/// Keywords look at every field value of the event.
fn keyword_matches(patterns: &[ValuePattern], event: &Event) -> bool {
    event.fields.iter().any(|(_, value)| {
        scalars(value).any(|scalar| {
            let text = scalar.to_text();
            patterns.iter().any(|pattern| pattern.matches(&text))
        })
    })
}

impl FieldMap {
    /// Whether every item holds.
    pub fn matches(&self, event: &Event) -> bool {
        self.0.iter().all(|item| item.matches(event))
    }
}

impl FieldItem {
    /// Whether the event's field satisfies the pattern.
    pub fn matches(&self, event: &Event) -> bool {
        self.pattern.matches(event.get(&self.field), event)
    }
}

impl FieldPattern {
    /// Whether a field's value (`None` when the event lacks the field) satisfies the
    /// pattern; `event` is needed by field references.
    pub fn matches(&self, value: Option<&Value>, event: &Event) -> bool {
        match self {
            FieldPattern::Exists(expected) => value.is_some() == *expected,
            FieldPattern::Null => value.is_none_or(is_null),
            FieldPattern::Not(inner) => value.is_some() && !inner.matches(value, event),
            // A null value is no value: no string, number or reference matches it.
            _ => value.is_some_and(|value| {
                scalars(value).any(|scalar| !is_null(scalar) && self.matches_scalar(scalar, event))
            }),
        }
    }

    fn matches_scalar(&self, value: &Value, event: &Event) -> bool {
        match self {
            FieldPattern::Any(patterns) => {
                let text = value.to_text();
                patterns.iter().any(|pattern| pattern.matches(&text))
            }
            FieldPattern::FieldRef {
                field,
                op,
                case_sensitive,
            } => event.get(field).is_some_and(|other| {
                let text = value.to_text();
                scalars(other).any(|other| {
                    !is_null(other) && compare(*op, &text, &other.to_text(), *case_sensitive)
                })
            }),
            FieldPattern::Cidr(nets) => value
                .to_text()
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| nets.iter().any(|net| net.contains(&ip))),
            FieldPattern::Numeric(tests) => {
                number(value).is_some_and(|n| tests.iter().any(|(op, limit)| op.holds(n, *limit)))
            }
            FieldPattern::Time { part, tests } => time_part(value, *part)
                .is_some_and(|n| tests.iter().any(|(op, limit)| op.holds(n, *limit))),
            FieldPattern::Exists(_) | FieldPattern::Null | FieldPattern::Not(_) => {
                self.matches(Some(value), event)
            }
        }
    }
}

/// A value's scalars: the value itself, or a list's elements (nested lists flattened).
fn scalars(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::List(items) => Box::new(items.iter().flat_map(scalars)),
        other => Box::new(std::iter::once(other)),
    }
}

/// Sigma's `null`: no value at all. `''` is a value of its own (the specification
/// defines the two apart, and SigmaHQ rules filter on both in one rule), so an empty
/// string is not null; an empty list, which holds no value, is.
///
/// An empty EVTX data element is read as `''`. SigmaHQ's rules disagree about such an
/// element: `win_firewall_as_add_rule` filters `ApplicationPath: ''` apart from
/// `null`, while `create_remote_thread_win_hktl_cactustorch` expects an empty Sysmon
/// `StartModule` to be `null` (on the sample corpus that rule's one alert is lost).
/// The specification's reading is kept; reading empty elements as null would undo the
/// firewall rule's filter instead.
fn is_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::List(items) => items.is_empty(),
        _ => false,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(text) => parse_number(text),
        _ => None,
    }
}

/// A number as telemetry writes it: decimal, or hexadecimal with `0x`.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|n| n as f64),
        None => text.parse::<f64>().ok().filter(|n| n.is_finite()),
    }
}

fn time_part(value: &Value, part: TimePart) -> Option<f64> {
    let text = value.to_text();
    let text = text.trim();
    let time: NaiveDateTime = DateTime::parse_from_rfc3339(text)
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(Default::default()))
        })
        .ok()?;
    let n = match part {
        TimePart::Minute => time.minute(),
        TimePart::Hour => time.hour(),
        TimePart::Day => time.day(),
        TimePart::Week => time.iso_week().week(),
        TimePart::Month => time.month(),
        TimePart::Year => u32::try_from(time.year()).ok()?,
    };
    Some(f64::from(n))
}

impl CmpOp {
    /// Parses a comparison modifier name.
    pub fn from_name(name: &str) -> Option<CmpOp> {
        Some(match name {
            "lt" => CmpOp::Lt,
            "lte" => CmpOp::Lte,
            "gt" => CmpOp::Gt,
            "gte" => CmpOp::Gte,
            "eq" => CmpOp::Eq,
            "neq" => CmpOp::Neq,
            _ => return None,
        })
    }
}

impl ValuePattern {
    /// Whether the pattern matches a field value's text.
    ///
    /// Windows writes some values padded (Security 4624 `LogonProcessName` is
    /// `NtLmSsp `) and rule authors write what they read, so equality, globs,
    /// startswith and endswith also hold when they hold for the value with its
    /// surrounding (resp. leading, trailing) ASCII whitespace trimmed. Contains and
    /// regular expressions see the value as written, where spaces can be meant.
    pub fn matches(&self, value: &str) -> bool {
        self.matches_as_written(value)
            || trimmed_for(self.op, value).is_some_and(|trimmed| self.matches_as_written(trimmed))
    }

    fn matches_as_written(&self, value: &str) -> bool {
        match self.op {
            StringOp::Regex => self.regex.as_ref().is_some_and(|re| re.is_match(value)),
            StringOp::Wildcard => {
                let parts = self.glob_parts();
                if self.case_sensitive {
                    glob_matches(&parts, value)
                } else {
                    let lowered: Vec<GlobPart> = parts
                        .into_iter()
                        .map(|part| match part {
                            GlobPart::Literal(text) => GlobPart::Literal(text.to_lowercase()),
                            other => other,
                        })
                        .collect();
                    glob_matches(&lowered, &value.to_lowercase())
                }
            }
            op => compare(op, value, &self.text, self.case_sensitive),
        }
    }

    /// The glob of a `Wildcard` pattern, split into literal runs and wildcards. For
    /// other ops, the whole text as one literal.
    pub fn glob_parts(&self) -> Vec<GlobPart> {
        if self.op != StringOp::Wildcard {
            return vec![GlobPart::Literal(self.text.clone())];
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = self.text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => literal.push(chars.next().unwrap_or('\\')),
                '*' | '?' => {
                    if !literal.is_empty() {
                        parts.push(GlobPart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(if c == '*' {
                        GlobPart::AnyRun
                    } else {
                        GlobPart::AnyChar
                    });
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            parts.push(GlobPart::Literal(literal));
        }
        parts
    }
}

/// `value op text` for the plain string operations.
fn compare(op: StringOp, value: &str, text: &str, case_sensitive: bool) -> bool {
    if !case_sensitive {
        return compare(op, &value.to_lowercase(), &text.to_lowercase(), true);
    }
    match op {
        StringOp::Equals => value == text,
        StringOp::Contains => value.contains(text),
        StringOp::StartsWith => value.starts_with(text),
        StringOp::EndsWith => value.ends_with(text),
        // Field references and literals never carry these; treat the text literally.
        StringOp::Wildcard | StringOp::Regex => value == text,
    }
}

/// The value as `op` also compares it, with surrounding ASCII whitespace trimmed
/// (see [`ValuePattern::matches`]); `None` when that is the value itself or `op`
/// sees only the value as written.
pub fn trimmed_for(op: StringOp, value: &str) -> Option<&str> {
    let trimmed = match op {
        StringOp::Equals | StringOp::Wildcard => value.trim_ascii(),
        StringOp::StartsWith => value.trim_ascii_start(),
        StringOp::EndsWith => value.trim_ascii_end(),
        StringOp::Contains | StringOp::Regex => return None,
    };
    (trimmed.len() != value.len()).then_some(trimmed)
}

/// One position of a glob, for matching.
#[derive(Clone, Copy, PartialEq)]
enum GlobToken {
    Char(char),
    AnyRun,
    AnyChar,
}

/// Glob matching that backtracks only to the last `*`: O(pattern × value) at worst,
/// whatever the input.
fn glob_matches(parts: &[GlobPart], value: &str) -> bool {
    let tokens: Vec<GlobToken> = parts
        .iter()
        .flat_map(|part| match part {
            GlobPart::Literal(text) => text.chars().map(GlobToken::Char).collect(),
            GlobPart::AnyRun => vec![GlobToken::AnyRun],
            GlobPart::AnyChar => vec![GlobToken::AnyChar],
        })
        .collect();
    let value: Vec<char> = value.chars().collect();
    let (mut t, mut v) = (0, 0);
    // The last `*` seen, and where in the value its run currently ends.
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        match tokens.get(t) {
            Some(GlobToken::AnyChar) => (t, v) = (t + 1, v + 1),
            Some(GlobToken::Char(c)) if *c == value[v] => (t, v) = (t + 1, v + 1),
            Some(GlobToken::AnyRun) => {
                star = Some((t, v));
                t += 1;
            }
            _ => match star {
                Some((star_at, run_end)) => {
                    star = Some((star_at, run_end + 1));
                    (t, v) = (star_at + 1, run_end + 1);
                }
                None => return false,
            },
        }
    }
    tokens[t..].iter().all(|token| *token == GlobToken::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> ValuePattern {
        ValuePattern {
            op: StringOp::Wildcard,
            text: text.into(),
            regex: None,
            case_sensitive: true,
        }
    }

    #[test]
    fn globs() {
        let cases = [
            ("a*b?c", "aXXbYc", true),
            ("a*b?c", "abc", false),
            (
                "*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("*a*a*b", "xxaxxaxxb", true),
            ("\\*x*", "*xyz", true),
            ("\\*x*", "axyz", false),
            ("a\\\\*", "a\\bc", true),
            ("*", "", true),
            ("?", "", false),
            ("a*", "b", false),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(
                glob(pattern).matches(value),
                expected,
                "{pattern} ~ {value}"
            );
        }
    }
}
