//! One YAML document into a rule, a correlation or a filter.

use crate::detection::{parse_detection, Placeholders};
use crate::diagnostic::{DiagnosticKind, Problem};
use crate::eval::parse_number;
use crate::model::{
    Aliases, AttackTags, CmpOp, Correlation, CorrelationCondition, CorrelationType, Filter,
    LogSource, Related, Rule,
};
use crate::yaml::{Node, NodeKind};
use rampart_event::Level;
use std::path::Path;

/// What a document turned out to be.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Rule(Box<Rule>),
    Correlation(Box<Correlation>),
    Filter(Box<Filter>),
}

/// Reads one (already merged) document.
pub(crate) fn parse_document(
    root: &Node,
    path: &Path,
    line: usize,
    placeholders: Placeholders<'_>,
) -> Result<Item, Problem> {
    if !matches!(root.kind, NodeKind::Map(_)) {
        return Err(Problem::new(
            DiagnosticKind::InvalidAttribute,
            root.line,
            format!(
                "a rule must be a map of attributes, not {}",
                root.type_name()
            ),
        ));
    }
    if let Some(correlation) = root.get("correlation") {
        return parse_correlation(root, correlation, path, line)
            .map(|c| Item::Correlation(Box::new(c)));
    }
    if let Some(filter) = root.get("filter").filter(|f| f.get("rules").is_some()) {
        return parse_filter(root, filter, path, line, placeholders)
            .map(|f| Item::Filter(Box::new(f)));
    }
    parse_rule(root, path, line, placeholders).map(|r| Item::Rule(Box::new(r)))
}

fn parse_rule(
    root: &Node,
    path: &Path,
    line: usize,
    placeholders: Placeholders<'_>,
) -> Result<Rule, Problem> {
    let title = required_text(root, "title")?;
    let detection_node = root.get("detection").ok_or_else(|| {
        Problem::new(
            DiagnosticKind::MissingAttribute,
            root.line,
            "the rule has no `detection`",
        )
    })?;
    let logsource = parse_logsource(root)?;
    let detection = parse_detection(detection_node, placeholders, &[])?;
    let tags = list(root, "tags")?;
    Ok(Rule {
        id: text(root, "id")?,
        name: text(root, "name")?,
        title,
        status: text(root, "status")?,
        level: level(root)?.unwrap_or(Level::Medium),
        description: text(root, "description")?,
        attack: attack_tags(&tags),
        tags,
        logsource,
        detection,
        falsepositives: list(root, "falsepositives")?,
        references: list(root, "references")?,
        author: text(root, "author")?,
        date: text(root, "date")?,
        modified: text(root, "modified")?,
        fields: list(root, "fields")?,
        related: related(root)?,
        scope: list(root, "scope")?,
        taxonomy: text(root, "taxonomy")?,
        path: path.to_path_buf(),
        line,
    })
}

fn parse_filter(
    root: &Node,
    filter: &Node,
    path: &Path,
    line: usize,
    placeholders: Placeholders<'_>,
) -> Result<Filter, Problem> {
    if root.get("logsource").is_none() {
        return Err(Problem::new(
            DiagnosticKind::MissingAttribute,
            root.line,
            "the filter has no `logsource`",
        ));
    }
    Ok(Filter {
        id: text(root, "id")?,
        title: required_text(root, "title")?,
        description: text(root, "description")?,
        date: text(root, "date")?,
        modified: text(root, "modified")?,
        expires: expiry(root)?,
        logsource: parse_logsource(root)?,
        rules: list(filter, "rules")?,
        detection: parse_detection(filter, placeholders, &["rules"])?,
        path: path.to_path_buf(),
        line,
    })
}

/// A filter's `expires` attribute: an ISO 8601 date (`YYYY-MM-DD`).
fn expiry(root: &Node) -> Result<Option<chrono::NaiveDate>, Problem> {
    let Some(written) = text(root, "expires")? else {
        return Ok(None);
    };
    chrono::NaiveDate::parse_from_str(written.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            let line = root.get("expires").map_or(root.line, |node| node.line);
            Problem::new(
                DiagnosticKind::InvalidAttribute,
                line,
                "`expires` must be a date written YYYY-MM-DD",
            )
        })
}

fn parse_correlation(
    root: &Node,
    node: &Node,
    path: &Path,
    line: usize,
) -> Result<Correlation, Problem> {
    let kind_node = node.get("type").ok_or_else(|| {
        Problem::new(
            DiagnosticKind::MissingAttribute,
            node.line,
            "the correlation has no `type`",
        )
    })?;
    let kind = match kind_node.as_str().unwrap_or_default() {
        "event_count" => CorrelationType::EventCount,
        "value_count" => CorrelationType::ValueCount,
        "temporal" => CorrelationType::Temporal,
        "temporal_ordered" => CorrelationType::TemporalOrdered,
        "value_sum" => CorrelationType::ValueSum,
        "value_avg" => CorrelationType::ValueAvg,
        "value_percentile" => CorrelationType::ValuePercentile,
        other => {
            return Err(Problem::new(
                DiagnosticKind::InvalidAttribute,
                kind_node.line,
                format!("unknown correlation type `{other}` (expected event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile)"),
            ))
        }
    };
    let rules = list(node, "rules")?;
    if rules.is_empty() {
        return Err(Problem::new(
            DiagnosticKind::MissingAttribute,
            node.line,
            "the correlation names no `rules`",
        ));
    }
    let timespan_node = node.get("timespan").ok_or_else(|| {
        Problem::new(
            DiagnosticKind::MissingAttribute,
            node.line,
            "the correlation has no `timespan`",
        )
    })?;
    let timespan_text = timespan_node.as_str().unwrap_or_default();
    let timespan_secs = parse_timespan(timespan_text).ok_or_else(|| {
        Problem::new(
            DiagnosticKind::InvalidAttribute,
            timespan_node.line,
            format!("timespan `{timespan_text}` is not a number followed by s, m, h, d, w, M or y"),
        )
    })?;
    let condition = match node.get("condition") {
        Some(condition) => Some(correlation_condition(condition)?),
        None => None,
    };
    let needs_condition = !matches!(
        kind,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    let needs_field = !matches!(
        kind,
        CorrelationType::EventCount | CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    match &condition {
        None if needs_condition => {
            return Err(Problem::new(
                DiagnosticKind::MissingAttribute,
                node.line,
                "this correlation type needs a `condition`",
            ))
        }
        Some(condition) if needs_field && condition.fields.is_empty() => {
            return Err(Problem::new(
                DiagnosticKind::MissingAttribute,
                node.line,
                "this correlation type needs `field` in its condition",
            ))
        }
        _ => {}
    }
    let generate = match node.get("generate").or_else(|| root.get("generate")) {
        None => false,
        Some(flag) => flag.as_bool().ok_or_else(|| {
            Problem::new(
                DiagnosticKind::InvalidAttribute,
                flag.line,
                "`generate` must be true or false",
            )
        })?,
    };
    let tags = list(root, "tags")?;
    Ok(Correlation {
        id: text(root, "id")?,
        name: text(root, "name")?,
        title: required_text(root, "title")?,
        status: text(root, "status")?,
        level: level(root)?,
        description: text(root, "description")?,
        author: text(root, "author")?,
        date: text(root, "date")?,
        modified: text(root, "modified")?,
        references: list(root, "references")?,
        falsepositives: list(root, "falsepositives")?,
        attack: attack_tags(&tags),
        tags,
        kind,
        rules,
        group_by: list(node, "group-by")?,
        timespan_secs,
        condition,
        aliases: aliases(node)?,
        generate,
        path: path.to_path_buf(),
        line,
    })
}

/// `30s`, `5m`, `1h`, `7d`, `2w`, `1M` (30 days), `1y` (365 days).
pub(crate) fn parse_timespan(text: &str) -> Option<u64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: u64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        'M' => 30 * 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    number.checked_mul(scale)
}

fn correlation_condition(node: &Node) -> Result<CorrelationCondition, Problem> {
    let NodeKind::Map(entries) = &node.kind else {
        return Err(Problem::new(
            DiagnosticKind::InvalidAttribute,
            node.line,
            "a correlation `condition` must be a map like `gte: 10`",
        ));
    };
    let mut condition = CorrelationCondition {
        fields: Vec::new(),
        tests: Vec::new(),
    };
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        if name == "field" {
            condition.fields = strings(value)?;
            continue;
        }
        let op = CmpOp::from_name(name).ok_or_else(|| {
            Problem::new(
                DiagnosticKind::InvalidAttribute,
                key.line,
                format!("unknown comparison `{name}` (expected gt, gte, lt, lte, eq or neq)"),
            )
        })?;
        let limit = value.as_str().and_then(parse_number).ok_or_else(|| {
            Problem::new(
                DiagnosticKind::InvalidAttribute,
                value.line,
                format!("`{name}` needs a number"),
            )
        })?;
        condition.tests.push((op, limit));
    }
    if condition.tests.is_empty() {
        return Err(Problem::new(
            DiagnosticKind::MissingAttribute,
            node.line,
            "the correlation condition has no comparison",
        ));
    }
    Ok(condition)
}

fn aliases(node: &Node) -> Result<Aliases, Problem> {
    let Some(aliases) = node.get("aliases") else {
        return Ok(Vec::new());
    };
    let invalid = |line| {
        Problem::new(
            DiagnosticKind::InvalidAttribute,
            line,
            "`aliases` must map each alias to `rule name: field` pairs",
        )
    };
    let NodeKind::Map(entries) = &aliases.kind else {
        return Err(invalid(aliases.line));
    };
    let mut result = Vec::new();
    for (alias, mapping) in entries {
        let NodeKind::Map(pairs) = &mapping.kind else {
            return Err(invalid(mapping.line));
        };
        let pairs = pairs
            .iter()
            .map(|(rule, field)| match (rule.as_str(), field.as_str()) {
                (Some(rule), Some(field)) => Ok((rule.to_string(), field.to_string())),
                _ => Err(invalid(rule.line)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        result.push((alias.as_str().unwrap_or_default().to_string(), pairs));
    }
    Ok(result)
}

fn parse_logsource(root: &Node) -> Result<LogSource, Problem> {
    let node = root.get("logsource").ok_or_else(|| {
        Problem::new(
            DiagnosticKind::MissingAttribute,
            root.line,
            "the rule has no `logsource`",
        )
    })?;
    if !matches!(node.kind, NodeKind::Map(_)) {
        return Err(Problem::new(
            DiagnosticKind::InvalidAttribute,
            node.line,
            "`logsource` must be a map (product, category, service)",
        ));
    }
    let lower = |key| text(node, key).map(|value| value.map(|v| v.to_lowercase()));
    Ok(LogSource {
        product: lower("product")?,
        category: lower("category")?,
        service: lower("service")?,
        definition: text(node, "definition")?,
    })
}

fn level(root: &Node) -> Result<Option<Level>, Problem> {
    match root.get("level") {
        None => Ok(None),
        Some(node) if node.is_null() => Ok(None),
        Some(node) => {
            let written = node.as_str().unwrap_or_default();
            written.parse::<Level>().map(Some).map_err(|error| {
                Problem::new(
                    DiagnosticKind::InvalidAttribute,
                    node.line,
                    error.to_string(),
                )
            })
        }
    }
}

fn related(root: &Node) -> Result<Vec<Related>, Problem> {
    let Some(node) = root.get("related") else {
        return Ok(Vec::new());
    };
    let invalid = |line| {
        Problem::new(
            DiagnosticKind::InvalidAttribute,
            line,
            "`related` must be a list of `id` and `type` maps",
        )
    };
    let NodeKind::Seq(items) = &node.kind else {
        return Err(invalid(node.line));
    };
    items
        .iter()
        .map(|item| {
            match (
                item.get("id").and_then(Node::as_str),
                item.get("type").and_then(Node::as_str),
            ) {
                (Some(id), Some(kind)) => Ok(Related {
                    id: id.to_string(),
                    kind: kind.to_string(),
                }),
                _ => Err(invalid(item.line)),
            }
        })
        .collect()
}

fn required_text(node: &Node, key: &str) -> Result<String, Problem> {
    text(node, key)?.ok_or_else(|| {
        Problem::new(
            DiagnosticKind::MissingAttribute,
            node.line,
            format!("the rule has no `{key}`"),
        )
    })
}

/// An optional scalar attribute.
fn text(node: &Node, key: &str) -> Result<Option<String>, Problem> {
    match node.get(key) {
        None => Ok(None),
        Some(value) if value.is_null() => Ok(None),
        Some(value) => value.as_str().map(|s| Some(s.to_string())).ok_or_else(|| {
            Problem::new(
                DiagnosticKind::InvalidAttribute,
                value.line,
                format!("`{key}` must be text, not {}", value.type_name()),
            )
        }),
    }
}

/// An optional list attribute; a single scalar counts as a list of one.
fn list(node: &Node, key: &str) -> Result<Vec<String>, Problem> {
    match node.get(key) {
        None => Ok(Vec::new()),
        Some(value) => strings(value).map_err(|_| {
            Problem::new(
                DiagnosticKind::InvalidAttribute,
                value.line,
                format!("`{key}` must be a list of text"),
            )
        }),
    }
}

fn strings(node: &Node) -> Result<Vec<String>, Problem> {
    let invalid = || {
        Problem::new(
            DiagnosticKind::InvalidAttribute,
            node.line,
            "expected text or a list of text",
        )
    };
    match &node.kind {
        NodeKind::Null => Ok(Vec::new()),
        NodeKind::Scalar { text, .. } => Ok(vec![text.clone()]),
        NodeKind::Seq(items) => items
            .iter()
            .filter(|item| !item.is_null())
            .map(|item| item.as_str().map(str::to_string).ok_or_else(invalid))
            .collect(),
        NodeKind::Map(_) => Err(invalid()),
    }
}

/// The ATT&CK ids among tags: `attack.t1059.001` → technique `T1059.001`,
/// `attack.s0002` → `S0002`, any other `attack.x_y` → tactic `x-y`.
pub fn attack_tags(tags: &[String]) -> AttackTags {
    let mut attack = AttackTags::default();
    for tag in tags {
        let lower = tag.trim().to_ascii_lowercase();
        let Some(name) = lower.strip_prefix("attack.") else {
            continue;
        };
        // An ATT&CK id is a letter prefix and at least four digits; the prefix says
        // what it names (T technique; S, G, C, M, A, D, DS data source, DET detection
        // strategy, TA tactic id). Anything else is a tactic's short name.
        let prefix_len = name.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (prefix, digits) = name.split_at(prefix_len);
        let is_id = digits.len() >= 4 && digits.bytes().take(4).all(|b| b.is_ascii_digit());
        let target = match prefix {
            "t" if is_id => &mut attack.techniques,
            "s" | "g" | "c" | "m" | "a" | "d" | "ds" | "det" | "ta" if is_id => {
                &mut attack.other_ids
            }
            _ => {
                push_unique(&mut attack.tactics, name.replace('_', "-"));
                continue;
            }
        };
        push_unique(target, name.to_ascii_uppercase());
    }
    attack
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}
