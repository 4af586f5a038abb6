//! The `detection` section: search identifiers into [`Search`]es, values into patterns,
//! and the condition checked against the searches.

use crate::condition::{parse_condition, resolve, ResolveError};
use crate::diagnostic::{DiagnosticKind, Problem};
use crate::eval::parse_number;
use crate::model::{
    CmpOp, Condition, Detection, FieldItem, FieldMap, FieldPattern, Search, StringOp, ValuePattern,
};
use crate::modifiers::{
    apply, parse_key, parse_sigma_string, stage_pieces, Kind, Modifiers, Piece, Stage, Transform,
};
use crate::yaml::{Node, NodeKind};
use ipnet::IpNet;
use std::net::IpAddr;

/// Looks up the values of an `|expand` placeholder.
pub(crate) type Placeholders<'a> = &'a dyn Fn(&str) -> Option<Vec<String>>;

/// Parses a `detection` map (or a filter's `filter` map, whose `rules` key is skipped).
pub(crate) fn parse_detection(
    node: &Node,
    placeholders: Placeholders<'_>,
    skip: &[&str],
) -> Result<Detection, Problem> {
    let NodeKind::Map(entries) = &node.kind else {
        return Err(Problem::new(
            DiagnosticKind::InvalidAttribute,
            node.line,
            format!(
                "`detection` must be a map of searches and a condition, not {}",
                node.type_name()
            ),
        ));
    };
    let mut searches = Vec::new();
    let mut condition_node = None;
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            return Err(Problem::new(
                DiagnosticKind::InvalidAttribute,
                key.line,
                "a search name must be a string",
            ));
        };
        if name == "condition" {
            condition_node = Some(value);
        } else if name == "timeframe" {
            return Err(Problem::new(
                DiagnosticKind::Unsupported,
                key.line,
                "`timeframe` belongs to the old aggregation syntax; write a correlation rule",
            ));
        } else if !skip.contains(&name) {
            searches.push((name.to_string(), parse_search(name, value, placeholders)?));
        }
    }
    let condition_node = condition_node.ok_or_else(|| {
        Problem::new(
            DiagnosticKind::MissingAttribute,
            node.line,
            "`detection` has no `condition`",
        )
    })?;
    let names: Vec<&str> = searches.iter().map(|(name, _)| name.as_str()).collect();
    let condition = parse_conditions(condition_node, &names)?;
    Ok(Detection {
        searches,
        condition,
    })
}

/// A condition, or a list of conditions joined with `or`.
fn parse_conditions(node: &Node, names: &[&str]) -> Result<Condition, Problem> {
    let texts: Vec<&Node> = match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut conditions = Vec::new();
    for text_node in texts {
        let Some(text) = text_node.as_str() else {
            return Err(Problem::new(
                DiagnosticKind::InvalidCondition,
                text_node.line,
                "a condition must be a string",
            ));
        };
        let mut condition = parse_condition(text).map_err(|error| {
            let kind = if error.unsupported {
                DiagnosticKind::Unsupported
            } else {
                DiagnosticKind::InvalidCondition
            };
            Problem::new(kind, text_node.line, format!("condition `{text}`: {error}"))
        })?;
        resolve(&mut condition, names).map_err(|error| {
            let message = match error {
                ResolveError::UnknownSearch(name) => {
                    format!("condition `{text}` names `{name}`, which is not a search of this rule")
                }
                ResolveError::EmptySelection(pattern) => {
                    format!("condition `{text}`: `{pattern}` selects no search of this rule")
                }
            };
            Problem::new(DiagnosticKind::UnknownSearch, text_node.line, message)
        })?;
        conditions.push(condition);
    }
    match conditions.len() {
        0 => Err(Problem::new(
            DiagnosticKind::MissingAttribute,
            node.line,
            "the condition list is empty",
        )),
        1 => Ok(conditions.remove(0)),
        _ => Ok(Condition::Or(conditions)),
    }
}

/// One search identifier: a map, a list of maps, or a keyword list.
fn parse_search(
    name: &str,
    node: &Node,
    placeholders: Placeholders<'_>,
) -> Result<Search, Problem> {
    match &node.kind {
        NodeKind::Map(entries) => {
            if let Some(keyword_key) = keyword_key(entries) {
                return parse_keyword_map(name, node, keyword_key, placeholders);
            }
            Ok(Search::Maps(vec![parse_map(node, placeholders)?]))
        }
        NodeKind::Seq(items)
            if items
                .iter()
                .all(|item| matches!(item.kind, NodeKind::Map(_)))
                && !items.is_empty() =>
        {
            let maps = items
                .iter()
                .map(|item| parse_map(item, placeholders))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Search::Maps(maps))
        }
        NodeKind::Seq(items) => {
            if items.is_empty() {
                return Err(Problem::new(
                    DiagnosticKind::InvalidValue,
                    node.line,
                    format!("search `{name}` is an empty list"),
                ));
            }
            let mut patterns = Vec::new();
            for item in items {
                patterns.extend(keyword_patterns(item, &plain_modifiers(), placeholders)?);
            }
            Ok(Search::Keywords(patterns))
        }
        NodeKind::Scalar { .. } => Ok(Search::Keywords(keyword_patterns(
            node,
            &plain_modifiers(),
            placeholders,
        )?)),
        NodeKind::Null => Err(Problem::new(
            DiagnosticKind::InvalidValue,
            node.line,
            format!("search `{name}` is empty"),
        )),
    }
}

fn plain_modifiers() -> Modifiers {
    Modifiers {
        kind: Kind::Plain,
        transforms: Vec::new(),
        all: false,
        cased: false,
        neq: false,
    }
}

/// The key of a keyword map (`'|all': [...]`): a single key with no field name.
fn keyword_key(entries: &[(Node, Node)]) -> Option<&Node> {
    match entries {
        [(key, _)]
            if key
                .as_str()
                .is_some_and(|k| k.is_empty() || k.starts_with('|')) =>
        {
            Some(key)
        }
        _ => None,
    }
}

fn parse_keyword_map(
    name: &str,
    node: &Node,
    key: &Node,
    placeholders: Placeholders<'_>,
) -> Result<Search, Problem> {
    let key_text = key.as_str().unwrap_or_default();
    let (_, modifiers) = parse_key(key_text, key.line)?;
    if modifiers.kind != Kind::Plain || modifiers.neq {
        return Err(Problem::new(
            DiagnosticKind::InvalidModifier,
            key.line,
            format!("keywords of `{name}` take only string modifiers, not `{key_text}`"),
        ));
    }
    let value = node.get(key_text).unwrap_or(node);
    let items: Vec<&Node> = match &value.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![value],
    };
    let mut groups = Vec::new();
    for item in items {
        groups.push(keyword_patterns(item, &modifiers, placeholders)?);
    }
    if modifiers.all {
        Ok(Search::AllKeywords(groups))
    } else {
        Ok(Search::Keywords(groups.into_iter().flatten().collect()))
    }
}

/// Keywords are searched for anywhere in a value, so they are implicitly `contains`.
fn keyword_patterns(
    node: &Node,
    modifiers: &Modifiers,
    placeholders: Placeholders<'_>,
) -> Result<Vec<ValuePattern>, Problem> {
    let Some(text) = node.as_str() else {
        return Err(Problem::new(
            DiagnosticKind::InvalidValue,
            node.line,
            format!("a keyword must be a string, not {}", node.type_name()),
        ));
    };
    let mut modifiers = modifiers.clone();
    modifiers.transforms.push(Transform::Contains);
    string_patterns(text, &modifiers, placeholders, node.line)
}

/// One map: every key is a field test, all must hold.
fn parse_map(node: &Node, placeholders: Placeholders<'_>) -> Result<FieldMap, Problem> {
    let NodeKind::Map(entries) = &node.kind else {
        return Err(Problem::new(
            DiagnosticKind::InvalidValue,
            node.line,
            "expected a map of fields",
        ));
    };
    if entries.is_empty() {
        return Err(Problem::new(
            DiagnosticKind::InvalidValue,
            node.line,
            "an empty map selects nothing",
        ));
    }
    let mut items = Vec::new();
    for (key, value) in entries {
        let Some(key_text) = key.as_str() else {
            return Err(Problem::new(
                DiagnosticKind::InvalidValue,
                key.line,
                "a field name must be a string",
            ));
        };
        let (field, modifiers) = parse_key(key_text, key.line)?;
        if field.is_empty() {
            return Err(Problem::new(
                DiagnosticKind::Unsupported,
                key.line,
                format!("keyword key `{key_text}` mixed with field keys in one map; give the keywords their own search"),
            ));
        }
        for pattern in field_patterns(key_text, &modifiers, value, placeholders)? {
            items.push(FieldItem {
                field: field.clone(),
                pattern,
            });
        }
    }
    Ok(FieldMap(items))
}

/// The tests for one `key: value(s)` entry; several when `|all` splits them.
fn field_patterns(
    key: &str,
    modifiers: &Modifiers,
    value: &Node,
    placeholders: Placeholders<'_>,
) -> Result<Vec<FieldPattern>, Problem> {
    let line = value.line;
    let values: Vec<&Node> = match &value.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![value],
    };
    if values.is_empty() {
        return Err(Problem::new(
            DiagnosticKind::InvalidValue,
            line,
            format!("`{key}` has an empty value list"),
        ));
    }
    if let Some(null) = values.iter().find(|v| v.is_null()) {
        if values.len() > 1 {
            return Err(Problem::new(
                DiagnosticKind::InvalidValue,
                null.line,
                format!("`{key}`: null cannot be part of a value list; give it its own search"),
            ));
        }
        if !modifiers.is_empty() {
            return Err(Problem::new(
                DiagnosticKind::InvalidModifier,
                line,
                format!("`{key}`: null takes no modifiers"),
            ));
        }
        return Ok(vec![FieldPattern::Null]);
    }
    let mut per_value = Vec::new();
    for value in &values {
        if !matches!(value.kind, NodeKind::Scalar { .. }) {
            return Err(Problem::new(
                DiagnosticKind::InvalidValue,
                value.line,
                format!(
                    "`{key}`: a value must be a string or number, not {}",
                    value.type_name()
                ),
            ));
        }
        per_value.push(value_pattern(key, modifiers, value, placeholders)?);
    }
    let patterns = if modifiers.all {
        per_value
    } else {
        vec![merge(per_value)]
    };
    Ok(if modifiers.neq {
        patterns
            .into_iter()
            .map(|p| FieldPattern::Not(Box::new(p)))
            .collect()
    } else {
        patterns
    })
}

/// Joins per-value patterns of the same kind into one OR.
fn merge(patterns: Vec<FieldPattern>) -> FieldPattern {
    let mut iter = patterns.into_iter();
    let Some(mut merged) = iter.next() else {
        return FieldPattern::Any(Vec::new());
    };
    for next in iter {
        match (&mut merged, next) {
            (FieldPattern::Any(all), FieldPattern::Any(more)) => all.extend(more),
            (FieldPattern::Cidr(all), FieldPattern::Cidr(more)) => all.extend(more),
            (FieldPattern::Numeric(all), FieldPattern::Numeric(more)) => all.extend(more),
            (FieldPattern::Time { tests, .. }, FieldPattern::Time { tests: more, .. }) => {
                tests.extend(more)
            }
            // Every value of one key has the same modifiers, hence the same kind; the
            // only other kinds (exists, fieldref) take one value.
            (_, other) => merged = other,
        }
    }
    merged
}

/// The test for one written value.
fn value_pattern(
    key: &str,
    modifiers: &Modifiers,
    node: &Node,
    placeholders: Placeholders<'_>,
) -> Result<FieldPattern, Problem> {
    let line = node.line;
    let text = node.as_str().unwrap_or_default();
    let invalid = |message: String| {
        Problem::new(
            DiagnosticKind::InvalidValue,
            line,
            format!("`{key}`: {message}"),
        )
    };
    let number = || parse_number(text).ok_or_else(|| invalid(format!("`{text}` is not a number")));
    Ok(match modifiers.kind {
        Kind::Plain => FieldPattern::Any(string_patterns(text, modifiers, placeholders, line)?),
        Kind::Regex { i, m, s } => {
            FieldPattern::Any(vec![regex_pattern(text, i, m, s).map_err(|error| {
                Problem::new(
                    DiagnosticKind::InvalidRegex,
                    line,
                    format!("`{key}`: regular expression `{text}` does not compile: {error}"),
                )
            })?])
        }
        Kind::Cidr => FieldPattern::Cidr(vec![parse_network(text)
            .ok_or_else(|| invalid(format!("`{text}` is not a network (CIDR) or address")))?]),
        Kind::Exists => FieldPattern::Exists(
            node.as_bool()
                .ok_or_else(|| invalid(format!("`|exists` takes true or false, not `{text}`")))?,
        ),
        Kind::FieldRef => {
            let op = match modifiers.transforms.first() {
                Some(Transform::Contains) => StringOp::Contains,
                Some(Transform::StartsWith) => StringOp::StartsWith,
                Some(Transform::EndsWith) => StringOp::EndsWith,
                _ => StringOp::Equals,
            };
            FieldPattern::FieldRef {
                field: text.to_string(),
                op,
                case_sensitive: modifiers.cased,
            }
        }
        Kind::Compare(op) => FieldPattern::Numeric(vec![(op, number()?)]),
        Kind::Time(part, op) => FieldPattern::Time {
            part,
            tests: vec![(op.unwrap_or(CmpOp::Eq), number()?)],
        },
    })
}

fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// `\w`, `\d`, `\s` (and their negations) and `\b`/`\B` as PCRE means them by
/// default, the flavour Sigma specifies: ASCII classes, where the regex crate's are
/// Unicode. Besides matching what rule authors test against, the ASCII classes keep
/// the automata small: `\w{1,64}` over Unicode is tens of thousands of states, which
/// overflow the lazy DFA's cache and send every search to a slower engine.
fn pcre_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // Depth of `[...]` classes (the regex crate nests them) and whether the class
    // just opened, where a `]` is a literal.
    let mut depth = 0usize;
    let mut opened = false;
    while let Some(c) = chars.next() {
        let just_opened = std::mem::take(&mut opened);
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push(c);
                    break;
                };
                let posix = match next.to_ascii_lowercase() {
                    'w' => Some("word"),
                    'd' => Some("digit"),
                    's' => Some("space"),
                    _ => None,
                };
                let negated = next.is_ascii_uppercase();
                match (posix, depth > 0) {
                    (Some(class), true) => {
                        out.push_str(if negated { "[:^" } else { "[:" });
                        out.push_str(class);
                        out.push_str(":]");
                    }
                    (Some(class), false) => {
                        out.push_str(if negated { "[^[:" } else { "[[:" });
                        out.push_str(class);
                        out.push_str(":]]");
                    }
                    (None, false) if next == 'b' || next == 'B' => {
                        out.push_str("(?-u:\\");
                        out.push(next);
                        out.push(')');
                    }
                    _ => {
                        out.push(c);
                        out.push(next);
                    }
                }
            }
            '[' => {
                out.push(c);
                if depth > 0 && chars.peek() == Some(&':') {
                    // A POSIX class `[:name:]` inside a class: copied whole.
                    for posix in chars.by_ref() {
                        out.push(posix);
                        if posix == ']' {
                            break;
                        }
                    }
                    continue;
                }
                depth += 1;
                opened = true;
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            ']' if depth > 0 && !just_opened => {
                depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A `|re` value: the expression led by its flags, compiled.
pub(crate) fn regex_pattern(
    text: &str,
    i: bool,
    m: bool,
    s: bool,
) -> Result<ValuePattern, regex::Error> {
    let flags: String = [(i, 'i'), (m, 'm'), (s, 's')]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, flag)| *flag)
        .collect();
    let text = pcre_perl_classes(text);
    let full = if flags.is_empty() {
        text
    } else {
        format!("(?{flags}){text}")
    };
    let regex = regex::RegexBuilder::new(&full)
        .size_limit(1 << 22)
        .build()?;
    Ok(ValuePattern {
        op: StringOp::Regex,
        text: full,
        regex: Some(regex),
        case_sensitive: !i,
    })
}

/// A string value through its transformations into one or more patterns.
pub(crate) fn string_patterns(
    text: &str,
    modifiers: &Modifiers,
    placeholders: Placeholders<'_>,
    line: usize,
) -> Result<Vec<ValuePattern>, Problem> {
    let mut stages = vec![Stage::Text(parse_sigma_string(text))];
    for transform in &modifiers.transforms {
        let mut next = Vec::new();
        for stage in stages {
            next.extend(apply(*transform, stage, placeholders, line)?);
        }
        stages = next;
    }
    let mut patterns: Vec<ValuePattern> = Vec::with_capacity(stages.len());
    for stage in stages {
        let pattern = classify(&stage_pieces(stage), modifiers.cased);
        let duplicate = patterns
            .iter()
            .any(|p| p.op == pattern.op && p.text == pattern.text);
        if !duplicate {
            patterns.push(pattern);
        }
    }
    Ok(patterns)
}

/// Folds leading and trailing `*` into the cheapest string operation.
pub(crate) fn classify(pieces: &[Piece], case_sensitive: bool) -> ValuePattern {
    let leading = pieces.iter().take_while(|p| **p == Piece::AnyRun).count();
    let trailing = pieces[leading..]
        .iter()
        .rev()
        .take_while(|p| **p == Piece::AnyRun)
        .count();
    let middle = &pieces[leading..pieces.len() - trailing];
    let literal: Option<String> = middle
        .iter()
        .map(|p| match p {
            Piece::Char(c) => Some(*c),
            _ => None,
        })
        .collect();
    let (op, text) = match literal {
        Some(text) => {
            let op = match (leading > 0, trailing > 0) {
                (true, true) => StringOp::Contains,
                (true, false) => StringOp::EndsWith,
                (false, true) => StringOp::StartsWith,
                (false, false) => StringOp::Equals,
            };
            (op, text)
        }
        None => (StringOp::Wildcard, glob_text(pieces)),
    };
    ValuePattern {
        op,
        text,
        regex: None,
        case_sensitive,
    }
}

/// The canonical glob text: wildcards bare, literal `*`, `?` and `\` escaped.
fn glob_text(pieces: &[Piece]) -> String {
    let mut text = String::with_capacity(pieces.len() + 4);
    let mut previous_any_run = false;
    for piece in pieces {
        match piece {
            Piece::AnyRun if previous_any_run => continue,
            Piece::AnyRun => text.push('*'),
            Piece::AnyChar => text.push('?'),
            Piece::Char(c @ ('*' | '?' | '\\')) => {
                text.push('\\');
                text.push(*c);
            }
            Piece::Char(c) => text.push(*c),
        }
        previous_any_run = *piece == Piece::AnyRun;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{pcre_perl_classes, regex_pattern};

    #[test]
    fn perl_classes_become_ascii_as_in_pcre() {
        for (pcre, ours) in [
            (r"-k\s\w{1,64}", r"-k[[:space:]][[:word:]]{1,64}"),
            (r"\W\D\S", r"[^[:word:]][^[:digit:]][^[:space:]]"),
            (r"[\w.-]+", r"[[:word:].-]+"),
            (r"[^\d\s]", r"[^[:digit:][:space:]]"),
            (r"[\W]", r"[[:^word:]]"),
            (r"\bnet\B", r"(?-u:\b)net(?-u:\B)"),
            (r"C:\\Windows\\w", r"C:\\Windows\\w"),
            (r"[]\w]", r"[][:word:]]"),
            (r"[^]\w]x\w", r"[^][:word:]]x[[:word:]]"),
            (r"[[:alpha:]\d]", r"[[:alpha:][:digit:]]"),
            (r"\p{L}\x41\.", r"\p{L}\x41\."),
            ("trailing\\", "trailing\\"),
        ] {
            assert_eq!(pcre_perl_classes(pcre), ours, "{pcre}");
        }
    }

    #[test]
    fn ascii_classes_match_as_pcre_does() {
        let word = regex_pattern(r"^\w+$", false, false, false)
            .ok()
            .and_then(|p| p.regex);
        let word = word.as_ref();
        assert_eq!(word.map(|r| r.is_match("abc_09")), Some(true));
        // PCRE's \w (without UCP) is ASCII: an accented letter is not a word character.
        assert_eq!(word.map(|r| r.is_match("é")), Some(false));
        let boundary = regex_pattern(r"\bnet\b", true, false, false)
            .ok()
            .and_then(|p| p.regex);
        assert_eq!(
            boundary.as_ref().map(|r| r.is_match("C:\\> NET user")),
            Some(true)
        );
        assert_eq!(
            boundary.as_ref().map(|r| r.is_match("internet")),
            Some(false)
        );
    }
}
