//! Sigma filters (meta-filters): applying them to the rules they name, and writing
//! suppressions as filters.
//!
//! A filter adds its searches to each rule it applies to, and the rule's condition
//! becomes `(rule condition) and (filter condition)`, as pySigma does. An excluding
//! filter therefore writes `condition: not selection`.
//!
//! A filter may carry the custom attribute `expires: YYYY-MM-DD`: from that day on it
//! no longer applies, and loading it gives an [`Expired`](crate::DiagnosticKind::Expired)
//! warning. [`suppression_filter`] writes the filter that suppresses one alert's
//! pattern: the rule's matches whose fields have exactly the given values.

use crate::model::{Condition, Filter, LogSource, Rule, RuleSet};
use chrono::NaiveDate;
use rampart_event::{Alert, CUT_MARK};
use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Today's date (UTC), the day [`Filter::is_active`] checks expiry against.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

impl Filter {
    /// Whether the filter still applies on `day`: it has no `expires` date, or that
    /// date is later than `day` (a filter expiring on the 5th applies on the 4th).
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.expires.is_none_or(|expires| day < expires)
    }

    /// [`Filter::active_on`] today (UTC).
    pub fn is_active(&self) -> bool {
        self.active_on(today())
    }

    /// Whether the filter names the rule (by id or name) and their log sources agree
    /// (every attribute the filter sets, the rule sets to the same value).
    pub fn applies_to(&self, rule: &Rule) -> bool {
        let named = self.rules.iter().any(|reference| {
            rule.id.as_deref() == Some(reference.as_str())
                || rule.name.as_deref() == Some(reference.as_str())
        });
        named && logsource_covers(&self.logsource, &rule.logsource)
    }
}

fn logsource_covers(filter: &LogSource, rule: &LogSource) -> bool {
    let agrees =
        |wanted: &Option<String>, actual: &Option<String>| wanted.is_none() || wanted == actual;
    agrees(&filter.product, &rule.product)
        && agrees(&filter.category, &rule.category)
        && agrees(&filter.service, &rule.service)
}

impl Rule {
    /// Adds a filter's searches and condition to this rule. The filter's searches are
    /// renamed `<prefix>.<name>` so they cannot clash with the rule's own.
    pub fn apply_filter(&mut self, filter: &Filter, prefix: &str) {
        let rename = |name: &str| format!("{prefix}.{name}");
        for (name, search) in &filter.detection.searches {
            self.detection.searches.push((rename(name), search.clone()));
        }
        let mut extra = filter.detection.condition.clone();
        rename_searches(&mut extra, &rename);
        let own = std::mem::replace(&mut self.detection.condition, Condition::And(Vec::new()));
        self.detection.condition = Condition::And(vec![own, extra]);
    }
}

fn rename_searches(condition: &mut Condition, rename: &dyn Fn(&str) -> String) {
    match condition {
        Condition::Search(name) => *name = rename(name),
        Condition::Not(inner) => rename_searches(inner, rename),
        Condition::And(items) | Condition::Or(items) => items
            .iter_mut()
            .for_each(|item| rename_searches(item, rename)),
        Condition::OneOf(selector) | Condition::AllOf(selector) => selector
            .names
            .iter_mut()
            .for_each(|name| *name = rename(name)),
    }
}

impl RuleSet {
    /// Applies every active filter (see [`Filter::is_active`]) to the rules it names;
    /// returns how many (filter, rule) pairs were applied.
    pub fn apply_filters(&mut self) -> usize {
        let mut applied = 0;
        let today = today();
        for (index, filter) in self.filters.iter().enumerate() {
            if !filter.active_on(today) {
                continue;
            }
            let prefix = format!("filter{index}");
            for rule in self.rules.iter_mut().filter(|rule| filter.applies_to(rule)) {
                rule.apply_filter(filter, &prefix);
                applied += 1;
            }
        }
        applied
    }
}

/// Why a suppression filter cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SuppressionError {
    /// No field to match on: the filter would suppress every match of the rule.
    #[error("a suppression needs at least one field")]
    NoFields,
    /// The rule id is empty.
    #[error("a suppression needs the id of the rule it applies to")]
    NoRule,
    /// A field name Sigma cannot express as a plain field: empty, or with a `|`,
    /// which would be read as a modifier.
    #[error("field name {0:?} cannot be used in a filter (empty or containing `|`)")]
    FieldName(String),
    /// A field asked for that the alert does not carry (among its matched and context
    /// fields).
    #[error("the alert has no field {0:?}")]
    MissingField(String),
    /// A field whose value the alert carries only cut short: a filter on it would
    /// never match.
    #[error("the alert keeps field {0:?} only cut short; it cannot be matched exactly")]
    CutValue(String),
}

/// A suppression written as a Sigma 2.1 filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionFilter {
    /// The filter's `id` (a random UUID, version 4).
    pub id: String,
    /// A file name for it (`mf_suppress_<id without dashes>.yml`, as the specification
    /// asks: lower-case letters, digits and `_`, with the `mf_` prefix).
    pub file_name: String,
    /// The YAML document.
    pub yaml: String,
}

/// Writes the Sigma 2.1 filter that suppresses matches of `rule_id` whose `fields`
/// have exactly these values (a field named twice matches either value), with the
/// reason as its description, the author, today's `date` and, if given, the custom
/// attribute `expires`.
///
/// Every value is written as a YAML double-quoted string (control and line-break
/// characters escaped) and Sigma-escaped (`*`, `?` and `\` preceded by `\`), so any
/// text an attacker put into an event reads back as that exact text, never as a
/// wildcard, a modifier or YAML structure. The `logsource` is empty: the filter
/// names its rule by id, so it applies whatever that rule's log source.
pub fn suppression_filter(
    rule_id: &str,
    fields: &[(String, String)],
    reason: &str,
    author: &str,
    expires: Option<NaiveDate>,
) -> Result<SuppressionFilter, SuppressionError> {
    if rule_id.trim().is_empty() {
        return Err(SuppressionError::NoRule);
    }
    if fields.is_empty() {
        return Err(SuppressionError::NoFields);
    }
    // Fields in first-seen order, each with its values (a name twice means either).
    let mut grouped: Vec<(&str, Vec<&str>)> = Vec::new();
    for (name, value) in fields {
        if name.is_empty() || name.contains('|') {
            return Err(SuppressionError::FieldName(name.clone()));
        }
        match grouped.iter_mut().find(|(seen, _)| *seen == name.as_str()) {
            Some((_, values)) => {
                if !values.contains(&value.as_str()) {
                    values.push(value.as_str());
                }
            }
            None => grouped.push((name.as_str(), vec![value.as_str()])),
        }
    }
    let id = random_uuid(rule_id, fields);
    let mut yaml = String::new();
    let quoted = yaml_quoted;
    let _ = writeln!(yaml, "title: {}", quoted(&format!("Suppress {rule_id}")));
    let _ = writeln!(yaml, "id: {id}");
    if !reason.is_empty() {
        let _ = writeln!(yaml, "description: {}", quoted(reason));
    }
    if !author.is_empty() {
        let _ = writeln!(yaml, "author: {}", quoted(author));
    }
    let _ = writeln!(yaml, "date: {}", today().format("%Y-%m-%d"));
    if let Some(expires) = expires {
        let _ = writeln!(yaml, "expires: {}", expires.format("%Y-%m-%d"));
    }
    yaml.push_str("logsource: {}\nfilter:\n    rules:\n");
    let _ = writeln!(yaml, "        - {}", quoted(rule_id));
    yaml.push_str("    selection:\n");
    for (name, values) in grouped {
        let key = quoted(name);
        if let [value] = values.as_slice() {
            let _ = writeln!(yaml, "        {key}: {}", quoted(&sigma_escaped(value)));
        } else {
            let _ = writeln!(yaml, "        {key}:");
            for value in values {
                let _ = writeln!(yaml, "            - {}", quoted(&sigma_escaped(value)));
            }
        }
    }
    yaml.push_str("    condition: not selection\n");
    let file_name = format!("mf_suppress_{}.yml", id.replace('-', ""));
    Ok(SuppressionFilter {
        id,
        file_name,
        yaml,
    })
}

/// The Sigma string that matches exactly `text`: wildcards and the escape character
/// escaped.
fn sigma_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as a YAML double-quoted scalar: `"` and `\` escaped, and every character
/// outside YAML's printable set, or that YAML treats as a line break or a byte-order
/// mark, written as an escape.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..
                if !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                out.push(c)
            }
            // Everything left is below U+10000.
            c => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// A version 4 UUID: 122 bits from the standard library's randomly keyed hasher
/// (seeded by the operating system), mixed with what the filter is about.
fn random_uuid(rule_id: &str, fields: &[(String, String)]) -> String {
    let state = RandomState::new();
    let mut bytes = [0u8; 16];
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    for (half, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = state.hash_one((half, nanos, rule_id, fields));
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The fields of `alert` a suppression matches on: the named ones (looked up among its
/// matched fields, then its context fields), or, with no names, every field that made
/// the rule match (keyword matches have no field and are left out).
pub fn alert_fields(
    alert: &Alert,
    names: &[String],
) -> Result<Vec<(String, String)>, SuppressionError> {
    if names.is_empty() {
        let fields: Vec<(String, String)> = alert
            .matched
            .iter()
            .filter(|m| m.field != "keywords")
            .map(|m| (m.field.clone(), m.value.clone()))
            .collect();
        return if fields.is_empty() {
            Err(SuppressionError::NoFields)
        } else {
            Ok(fields)
        };
    }
    let mut fields = Vec::with_capacity(names.len());
    for name in names {
        let matched: Vec<&str> = alert
            .matched
            .iter()
            .filter(|m| &m.field == name)
            .map(|m| m.value.as_str())
            .collect();
        if !matched.is_empty() {
            fields.extend(matched.into_iter().map(|v| (name.clone(), v.to_owned())));
            continue;
        }
        let Some(context) = alert.context.iter().find(|c| &c.field == name) else {
            return Err(SuppressionError::MissingField(name.clone()));
        };
        if context.value.ends_with(CUT_MARK) {
            return Err(SuppressionError::CutValue(name.clone()));
        }
        fields.push((name.clone(), context.value.clone()));
    }
    Ok(fields)
}

/// Writes the filter into `dir` (created if missing) under its file name, through a
/// temporary file renamed into place, so a reader never sees half a filter. Returns
/// the file's path.
pub fn write_suppression(dir: &Path, filter: &SuppressionFilter) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(&filter.file_name);
    let partial = dir.join(format!(".{}.partial", filter.file_name));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)?;
    let written = file
        .write_all(filter.yaml.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&partial, &path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    Ok(path)
}

/// The filters in the files under `dir` (a missing folder has none), with the
/// diagnostics of loading them.
pub fn suppressions(dir: &Path) -> (Vec<Filter>, Vec<crate::Diagnostic>) {
    if !dir.exists() {
        return (Vec::new(), Vec::new());
    }
    let (set, diagnostics) = crate::load_rules(&[dir.to_path_buf()]);
    (set.filters, diagnostics)
}

/// Removes the suppression with this `id` from `dir`: deletes the file that holds it,
/// when that file holds nothing else. Returns the deleted file, `None` when no filter
/// of that id is there.
pub fn remove_suppression(dir: &Path, id: &str) -> Result<Option<PathBuf>, RemoveError> {
    if !dir.exists() {
        return Ok(None);
    }
    let (set, _) = crate::load_rules(&[dir.to_path_buf()]);
    let Some(filter) = set.filters.iter().find(|f| f.id.as_deref() == Some(id)) else {
        return Ok(None);
    };
    let path = filter.path.clone();
    let others = set.filters.iter().filter(|f| f.path == path).count() - 1
        + set.rules.iter().filter(|r| r.path == path).count()
        + set.correlations.iter().filter(|c| c.path == path).count();
    if others > 0 {
        return Err(RemoveError::Shared(path));
    }
    std::fs::remove_file(&path).map_err(|source| RemoveError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(Some(path))
}

/// Why a suppression could not be removed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoveError {
    /// Its file holds other rules or filters too: edit it by hand.
    #[error("{} holds other documents besides the filter; edit it by hand", .0.display())]
    Shared(PathBuf),
    /// The file could not be deleted.
    #[error("cannot delete {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
