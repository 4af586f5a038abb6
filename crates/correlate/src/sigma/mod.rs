//! The runtime of Sigma correlation rules (spec v2.1): event_count, value_count,
//! temporal, temporal_ordered, value_sum, value_avg, value_percentile, with group-by,
//! timespan, aliases, chained correlations and `generate`.
//!
//! It runs over **event time** as a stream: the caller feeds every (rule, event) match
//! in roughly time order ([`CorrelationEngine::observe`]) and calls
//! [`CorrelationEngine::finish`] at the end. State is one window per (correlation,
//! group) and windows expire (see the `window` module for the exact windowing); once
//! more than [`GROUP_SOFT_LIMIT`] groups are open, a sweep every [`SWEEP_EVERY`]
//! observations drops groups whose window has passed, so memory stays bounded.
//!
//! Choices the spec leaves open, documented:
//! - An event lacking a `group-by` field (after aliasing) does not take part: grouping
//!   unrelated events under "no value" would invent correlations.
//! - `value_count` with several `field`s counts distinct value tuples; `value_sum` and
//!   `value_avg` ignore values that are not numbers.
//! - `value_percentile`: each value's share of the group's events in the window, in
//!   percent; the condition fires when some value's share satisfies it (`lte: 1` —
//!   "a value seen in at most 1 % of the events"), reporting the rarest share.
//! - `temporal` without a condition needs every referenced rule; with one, the count of
//!   distinct rules is tested. `temporal_ordered` needs the rules in the listed order,
//!   first to last within `timespan`.
//! - A correlation result feeds the correlations that reference it (chains); its fields
//!   are its group-by values, reachable through the parent's aliases by its `name`.

mod alerts;
mod window;

pub use alerts::AlertCorrelator;
pub(crate) use alerts::EventFields;

use crate::sigma::window::{Entry, Window};
use chrono::{DateTime, TimeDelta, Utc};
use rampart_event::{Alert, Event, EventMeta, Level, MatchedField};
use rampart_sigma::{CmpOp, Correlation, CorrelationType, Rule};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Observations between two checks for a sweep of expired groups.
pub const SWEEP_EVERY: u64 = 1024;

/// Open groups above which a check sweeps. Below it nothing is swept early: a sweep
/// judges windows against the newest time seen over *all* input, which runs ahead of a
/// group whose events come from a slower file of a parallel hunt; each group still
/// expires its own events as they arrive, and `finish` judges what is left.
pub const GROUP_SOFT_LIMIT: usize = 4096;

/// Chains deeper than this stop feeding (guards against reference cycles).
const MAX_CHAIN_DEPTH: usize = 16;

/// Field values of whatever matched: an event, or a correlation result.
pub trait Fields {
    /// The value of a field, as text.
    fn field(&self, name: &str) -> Option<String>;
}

impl Fields for Event {
    fn field(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| v.to_text())
    }
}

impl Fields for Vec<(String, String)> {
    fn field(&self, name: &str) -> Option<String> {
        self.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationAlert {
    /// The correlation's id (else name, else title).
    pub id: String,
    /// Its name, when it has one.
    pub name: Option<String>,
    /// Title.
    pub title: String,
    /// Level (the correlation's, else medium).
    pub level: Level,
    /// `event_count`, `temporal`, ….
    pub kind: String,
    /// The group-by fields and the group's values.
    pub group: Vec<(String, String)>,
    /// First event of the window.
    pub first_seen: DateTime<Utc>,
    /// Last event of the window (when it fired).
    pub last_seen: DateTime<Utc>,
    /// Events in the window.
    pub events: usize,
    /// The aggregate the condition tested (count, distinct values, sum, average, share).
    pub value: f64,
    /// The referenced rules that contributed, by reference as written.
    pub rules: Vec<String>,
    /// ATT&CK technique ids of the correlation's tags.
    pub techniques: Vec<String>,
    /// ATT&CK tactic shortnames of its tags.
    pub tactics: Vec<String>,
    /// Tags as written.
    pub tags: Vec<String>,
}

impl CorrelationAlert {
    /// As an [`Alert`] for stores and outputs: the group values and the aggregate are
    /// the matched fields; a `Computer`/`ComputerName`/`Hostname` group value is the host.
    pub fn to_alert(&self) -> Alert {
        let host = ["Computer", "ComputerName", "Hostname", "host.name"]
            .iter()
            .find_map(|f| self.group.field(f));
        let mut matched: Vec<MatchedField> = self
            .group
            .iter()
            .map(|(field, value)| MatchedField {
                field: field.clone(),
                value: value.clone(),
            })
            .collect();
        matched.push(MatchedField {
            field: self.kind.clone(),
            value: self.value.to_string(),
        });
        let mut alert = Alert {
            id: String::new(),
            rule_id: self.id.clone(),
            rule_title: self.title.clone(),
            level: self.level,
            status: None,
            techniques: self.techniques.clone(),
            tactics: self.tactics.clone(),
            tags: self.tags.clone(),
            event: EventMeta {
                source: format!("correlation:{}", self.id).into(),
                timestamp: Some(self.last_seen),
                computer: host.map(Into::into),
                ..EventMeta::default()
            },
            matched,
            context: Vec::new(),
            intel: None,
        };
        // No single event: the id comes from the rule, host, time and group values.
        alert.id = alert.stable_id();
        alert
    }
}

/// A problem with a correlation that does not stop the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationWarning {
    /// The correlation (id, name or title).
    pub correlation: String,
    /// What is wrong.
    pub message: String,
}

struct Compiled {
    def: Correlation,
    key: String,
    span: TimeDelta,
    /// Fire as soon as the condition holds (sliding) rather than at window close.
    early: bool,
    windows: HashMap<Vec<String>, Window>,
}

/// Runs a set of correlation rules over a stream of rule matches.
pub struct CorrelationEngine {
    correlations: Vec<Compiled>,
    /// Reference (rule id, rule name, correlation id/name) → (correlation, rule index).
    listeners: HashMap<String, Vec<(usize, usize)>>,
    /// Rule id → rule name, for alias lookup.
    names: HashMap<String, String>,
    suppressed: HashSet<String>,
    watermark: Option<DateTime<Utc>>,
    observed: u64,
}

impl CorrelationEngine {
    /// Compiles `correlations`; `rules` are the detection rules they may reference by
    /// id or name. Unknown references are reported and never match.
    pub fn new(correlations: &[Correlation], rules: &[Rule]) -> (Self, Vec<CorrelationWarning>) {
        let mut warnings = Vec::new();
        let mut by_name: HashMap<String, String> = HashMap::new();
        let mut names = HashMap::new();
        let mut known: HashSet<String> = HashSet::new();
        for rule in rules {
            let id = rule.alert_id();
            if let Some(name) = &rule.name {
                by_name.insert(name.clone(), id.clone());
                names.insert(id.clone(), name.clone());
            }
            known.insert(id);
        }
        let mut compiled = Vec::new();
        let mut correlation_keys: HashMap<String, usize> = HashMap::new();
        for (index, def) in correlations.iter().enumerate() {
            let key = def
                .id
                .clone()
                .or_else(|| def.name.clone())
                .unwrap_or_else(|| def.title.clone());
            for alias in [def.id.as_ref(), def.name.as_ref()].into_iter().flatten() {
                correlation_keys.insert(alias.clone(), index);
            }
            // Rule text may ask for more seconds than a TimeDelta holds: such a window
            // never closes, which is what the author meant.
            let span = i64::try_from(def.timespan_secs)
                .ok()
                .and_then(TimeDelta::try_seconds)
                .unwrap_or(TimeDelta::MAX);
            let early = match def.kind {
                CorrelationType::Temporal | CorrelationType::TemporalOrdered => true,
                CorrelationType::EventCount
                | CorrelationType::ValueCount
                | CorrelationType::ValueSum => def.condition.as_ref().is_some_and(|c| {
                    c.tests
                        .iter()
                        .all(|(op, _)| matches!(op, CmpOp::Gt | CmpOp::Gte))
                }),
                CorrelationType::ValueAvg | CorrelationType::ValuePercentile => false,
            };
            compiled.push(Compiled {
                def: def.clone(),
                key,
                span,
                early,
                windows: HashMap::new(),
            });
        }
        let mut listeners: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        let mut suppressed = HashSet::new();
        let mut generated = HashSet::new();
        for (c, correlation) in compiled.iter().enumerate() {
            for (r, reference) in correlation.def.rules.iter().enumerate() {
                let target = if let Some(&child) = correlation_keys.get(reference) {
                    compiled[child].key.clone()
                } else if let Some(id) = by_name.get(reference) {
                    id.clone()
                } else if known.contains(reference) {
                    reference.clone()
                } else {
                    warnings.push(CorrelationWarning {
                        correlation: correlation.key.clone(),
                        message: format!("references unknown rule or correlation `{reference}`"),
                    });
                    reference.clone()
                };
                if !correlation_keys.contains_key(reference) {
                    if correlation.def.generate {
                        generated.insert(target.clone());
                    } else {
                        suppressed.insert(target.clone());
                    }
                }
                listeners.entry(target).or_default().push((c, r));
            }
        }
        suppressed.retain(|id| !generated.contains(id));
        let engine = CorrelationEngine {
            correlations: compiled,
            listeners,
            names,
            suppressed,
            watermark: None,
            observed: 0,
        };
        (engine, warnings)
    }

    /// Whether a detection rule's own alerts should be withheld: it is referenced by a
    /// correlation with `generate: false` (the default) and by none with `generate: true`.
    pub fn is_suppressed(&self, rule_id: &str) -> bool {
        self.suppressed.contains(rule_id)
    }

    /// Whether any correlation listens to this detection rule's alerts; only those
    /// need to be fed to [`CorrelationEngine::observe`].
    pub fn listens_to(&self, rule_id: &str) -> bool {
        self.listeners.contains_key(rule_id)
    }

    /// Number of correlations.
    pub fn len(&self) -> usize {
        self.correlations.len()
    }

    /// Whether there are no correlations.
    pub fn is_empty(&self) -> bool {
        self.correlations.is_empty()
    }

    /// Groups currently holding state, over all correlations.
    pub fn open_groups(&self) -> usize {
        self.correlations.iter().map(|c| c.windows.len()).sum()
    }

    /// Feeds one match of rule `rule_id` at event time `time`; returns the correlations
    /// that fired (including chained ones).
    pub fn observe(
        &mut self,
        rule_id: &str,
        time: DateTime<Utc>,
        fields: &dyn Fields,
    ) -> Vec<CorrelationAlert> {
        let mut fired = Vec::new();
        self.observed += 1;
        if self.watermark.is_none_or(|w| time > w) {
            self.watermark = Some(time);
        }
        if self.observed.is_multiple_of(SWEEP_EVERY) && self.open_groups() > GROUP_SOFT_LIMIT {
            fired.extend(self.sweep());
        }
        let name = self.names.get(rule_id).cloned();
        self.feed(rule_id, name.as_deref(), time, fields, 0, &mut fired);
        fired
    }

    /// Moves the engine's notion of "now" forward to `now` (when later than the newest
    /// event time observed) and sweeps every correlation: tumbling windows that ended
    /// before it are judged, sliding ones drop what expired. For a caller that
    /// guarantees nothing older than `now` is observed afterwards (a watermark), this
    /// fires exactly what later observations or [`CorrelationEngine::finish`] would.
    pub fn advance(&mut self, now: DateTime<Utc>) -> Vec<CorrelationAlert> {
        if self.watermark.is_none_or(|w| now > w) {
            self.watermark = Some(now);
        }
        self.sweep()
    }

    /// Every field name an observation may be asked for: group-by and condition fields
    /// and what aliases map them to. A caller that keeps a match for later needs only
    /// these fields of its event.
    pub fn wanted_fields(&self) -> Vec<String> {
        let mut wanted: Vec<String> = Vec::new();
        for correlation in &self.correlations {
            let def = &correlation.def;
            wanted.extend(def.group_by.iter().cloned());
            if let Some(condition) = &def.condition {
                wanted.extend(condition.fields.iter().cloned());
            }
            for (_, map) in &def.aliases {
                wanted.extend(map.iter().map(|(_, field)| field.clone()));
            }
        }
        wanted.sort();
        wanted.dedup();
        wanted
    }

    /// Closes every window still open (end of stream) and returns what fires then.
    pub fn finish(&mut self) -> Vec<CorrelationAlert> {
        let mut fired = Vec::new();
        for c in 0..self.correlations.len() {
            let groups: Vec<Vec<String>> = self.correlations[c].windows.keys().cloned().collect();
            for group in groups {
                if let Some(window) = self.correlations[c].windows.remove(&group) {
                    if let Some(alert) = self.judge(c, &group, &window) {
                        self.chain(alert, &mut fired);
                    }
                }
            }
        }
        fired
    }

    fn feed(
        &mut self,
        reference: &str,
        name: Option<&str>,
        time: DateTime<Utc>,
        fields: &dyn Fields,
        depth: usize,
        fired: &mut Vec<CorrelationAlert>,
    ) {
        if depth > MAX_CHAIN_DEPTH {
            return;
        }
        let Some(targets) = self.listeners.get(reference).cloned() else {
            return;
        };
        for (c, rule_index) in targets {
            if let Some(alert) = self.step(c, rule_index, name, time, fields) {
                fired.push(alert.clone());
                let group = alert.group.clone();
                let child_name = alert.name.clone();
                self.feed(
                    &alert.id,
                    child_name.as_deref(),
                    alert.last_seen,
                    &group,
                    depth + 1,
                    fired,
                );
            }
        }
    }

    /// Feeds a fired alert to its parents (used when windows close outside `observe`).
    fn chain(&mut self, alert: CorrelationAlert, fired: &mut Vec<CorrelationAlert>) {
        fired.push(alert.clone());
        let group = alert.group.clone();
        let name = alert.name.clone();
        self.feed(
            &alert.id,
            name.as_deref(),
            alert.last_seen,
            &group,
            1,
            fired,
        );
    }

    /// One observation for correlation `c`, from its referenced rule `rule_index`.
    fn step(
        &mut self,
        c: usize,
        rule_index: usize,
        name: Option<&str>,
        time: DateTime<Utc>,
        fields: &dyn Fields,
    ) -> Option<CorrelationAlert> {
        let correlation = &self.correlations[c];
        let def = &correlation.def;
        let mut group = Vec::with_capacity(def.group_by.len());
        for field in &def.group_by {
            group.push(fields.field(&aliased(def, name, field))?);
        }
        let value = match def.kind {
            CorrelationType::ValueCount
            | CorrelationType::ValueSum
            | CorrelationType::ValueAvg
            | CorrelationType::ValuePercentile => {
                let wanted = def
                    .condition
                    .as_ref()
                    .map(|c| c.fields.as_slice())
                    .unwrap_or(&[]);
                let mut parts = Vec::with_capacity(wanted.len());
                for field in wanted {
                    parts.push(fields.field(&aliased(def, name, field))?);
                }
                Some(parts.join("\u{1f}"))
            }
            _ => None,
        };
        let (span, early, steps) = (correlation.span, correlation.early, def.rules.len());
        let ordered = def.kind == CorrelationType::TemporalOrdered;
        let rules_here: Vec<usize> = def
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| *r == &def.rules[rule_index])
            .map(|(i, _)| i)
            .collect();
        let mut closed = None;
        {
            let window = self.correlations[c]
                .windows
                .entry(group.clone())
                .or_default();
            if early {
                window.expire(time, span);
            } else if window.opened.is_some_and(|open| time - open > span) {
                closed = Some(std::mem::take(window));
            }
            if window.opened.is_none() {
                window.opened = Some(time);
            }
            if ordered {
                window.best_start.resize(steps, None);
                // Later steps first, so one event never serves two consecutive steps.
                for &position in rules_here.iter().rev() {
                    let start = if position == 0 {
                        Some(time)
                    } else {
                        window.best_start[position - 1].filter(|s| time - *s <= span)
                    };
                    if let Some(start) = start {
                        let best = &mut window.best_start[position];
                        if best.is_none_or(|b| start > b) {
                            *best = Some(start);
                        }
                    }
                }
            }
            window.push(Entry {
                time,
                rule: rule_index,
                value,
            });
        }
        if let Some(old) = closed {
            // A tumbling window ended before this event; its verdict comes first.
            let verdict = self.judge(c, &group, &old);
            if verdict.is_some() {
                return verdict;
            }
        }
        if early {
            let window = self.correlations[c].windows.get(&group)?;
            let alert = self.judge(c, &group, window)?;
            self.correlations[c].windows.remove(&group);
            return Some(alert);
        }
        None
    }

    /// Tests a window against the correlation's condition.
    fn judge(&self, c: usize, group: &[String], window: &Window) -> Option<CorrelationAlert> {
        let correlation = &self.correlations[c];
        let def = &correlation.def;
        let tests = def
            .condition
            .as_ref()
            .map(|c| c.tests.as_slice())
            .unwrap_or(&[]);
        let holds = |value: f64| tests.iter().all(|(op, limit)| op.holds(value, *limit));
        let value = match def.kind {
            CorrelationType::EventCount => Some(window.count() as f64).filter(|v| holds(*v)),
            CorrelationType::ValueCount => {
                Some(window.distinct_values() as f64).filter(|v| holds(*v))
            }
            CorrelationType::Temporal => {
                let distinct = window.distinct_rules() as f64;
                let needed = distinct_references(def) as f64;
                let ok = if tests.is_empty() {
                    distinct >= needed
                } else {
                    holds(distinct)
                };
                ok.then_some(distinct)
            }
            CorrelationType::TemporalOrdered => window
                .best_start
                .last()
                .copied()
                .flatten()
                .map(|_| def.rules.len() as f64),
            CorrelationType::ValueSum => {
                let numbers: Vec<f64> = window.numbers().collect();
                (!numbers.is_empty())
                    .then(|| numbers.iter().sum::<f64>())
                    .filter(|v| holds(*v))
            }
            CorrelationType::ValueAvg => {
                let numbers: Vec<f64> = window.numbers().collect();
                (!numbers.is_empty())
                    .then(|| numbers.iter().sum::<f64>() / numbers.len() as f64)
                    .filter(|v| holds(*v))
            }
            CorrelationType::ValuePercentile => window
                .shares()
                .into_iter()
                .map(|(_, share)| share)
                .find(|share| holds(*share)),
        }?;
        let (first_seen, last_seen) = window.span()?;
        let mut rules: Vec<String> = window
            .entries
            .iter()
            .map(|e| def.rules[e.rule].clone())
            .collect();
        rules.sort();
        rules.dedup();
        Some(CorrelationAlert {
            id: correlation.key.clone(),
            name: def.name.clone(),
            title: def.title.clone(),
            level: def.level.unwrap_or(Level::Medium),
            kind: kind_name(def.kind).to_string(),
            group: def
                .group_by
                .iter()
                .cloned()
                .zip(group.iter().cloned())
                .collect(),
            first_seen,
            last_seen,
            events: window.count(),
            value,
            rules,
            techniques: def.attack.techniques.clone(),
            tactics: def.attack.tactics.clone(),
            tags: def.tags.clone(),
        })
    }

    /// Judges tumbling windows that ended before the watermark and drops sliding ones
    /// that are empty or entirely expired.
    fn sweep(&mut self) -> Vec<CorrelationAlert> {
        let Some(now) = self.watermark else {
            return Vec::new();
        };
        let mut fired = Vec::new();
        for c in 0..self.correlations.len() {
            let span = self.correlations[c].span;
            let early = self.correlations[c].early;
            let mut closed = Vec::new();
            self.correlations[c].windows.retain(|group, window| {
                if early {
                    window.expire(now, span);
                    !window.entries.is_empty()
                } else if window.opened.is_some_and(|open| now - open > span) {
                    closed.push((group.clone(), std::mem::take(window)));
                    false
                } else {
                    true
                }
            });
            for (group, window) in closed {
                if let Some(alert) = self.judge(c, &group, &window) {
                    self.chain(alert, &mut fired);
                }
            }
        }
        fired
    }
}

/// The field a group-by (or value) name stands for in events of rule `name`.
fn aliased(def: &Correlation, name: Option<&str>, field: &str) -> String {
    def.aliases
        .iter()
        .find(|(alias, _)| alias == field)
        .and_then(|(_, map)| {
            let name = name?;
            map.iter()
                .find(|(rule, _)| rule == name)
                .map(|(_, f)| f.clone())
        })
        .unwrap_or_else(|| field.to_string())
}

fn distinct_references(def: &Correlation) -> usize {
    let mut refs: Vec<&String> = def.rules.iter().collect();
    refs.sort();
    refs.dedup();
    refs.len()
}

fn kind_name(kind: CorrelationType) -> &'static str {
    match kind {
        CorrelationType::EventCount => "event_count",
        CorrelationType::ValueCount => "value_count",
        CorrelationType::Temporal => "temporal",
        CorrelationType::TemporalOrdered => "temporal_ordered",
        CorrelationType::ValueSum => "value_sum",
        CorrelationType::ValueAvg => "value_avg",
        CorrelationType::ValuePercentile => "value_percentile",
    }
}
