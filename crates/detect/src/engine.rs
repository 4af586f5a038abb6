//! The engine: rules compiled once, grouped by route, scanned per event.

use crate::compile::{compile_rule, CompiledRule, FieldNames};
use crate::eval::{matched_fields, rule_matches, suppressing_filter};
use crate::group::{Group, NameMap, Unit};
use crate::logsource::{converted, Conversion, LogsourceKey, LogsourceMap};
use crate::scratch::Scratch;
use rampart_event::{Alert, Event, Value};
use rampart_sigma::{Filter, Rule, RuleSet};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many matches of one rule one filter suppressed (the rule's condition held, the
/// filter's did not), since the engine was compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressedCount {
    /// The rule's alert id.
    pub rule: String,
    /// The filter's `id`, if it has one.
    pub filter_id: Option<String>,
    /// The filter's title.
    pub filter_title: String,
    /// The filter's file.
    pub filter_path: PathBuf,
    /// Suppressed matches.
    pub count: u64,
}

/// One (rule, filter) pair's suppression counter.
#[derive(Debug)]
struct Suppression {
    rule: String,
    filter: usize,
    count: AtomicU64,
}

/// Something worth telling about one rule while compiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileDiagnostic {
    /// The rule's alert id (its `id`, else its file name).
    pub rule: String,
    /// The rule's file.
    pub path: PathBuf,
    /// 1-based line of the rule's document.
    pub line: usize,
    /// What kind of problem.
    pub kind: CompileDiagnosticKind,
    /// A sentence for the rule author.
    pub message: String,
}

/// The kinds of [`CompileDiagnostic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CompileDiagnosticKind {
    /// The rule could not be compiled and will never alert.
    Rejected,
    /// The logsource map does not know the rule's logsource: the rule runs only on
    /// events from channels the map does not name (or that have no channel).
    UnknownLogsource,
}

/// A group's identity: its units, renames and conversions (equal keys share one group).
type GroupKey = (Vec<u32>, Vec<(String, String)>, Vec<Conversion>);

/// Which group an event goes to.
#[derive(Debug, Default)]
struct Router {
    /// Lower-case channel → its groups.
    channels: NameMap<String, ChannelRoute>,
}

#[derive(Debug, Default)]
struct ChannelRoute {
    by_event_id: NameMap<u32, u32>,
    other: u32,
}

/// Group 0 holds every rule whose logsource the map does not know; it serves events
/// that are not Windows event-log records (no channel, no provider): zeek, proxy,
/// cloud or Linux logs as JSON lines.
const UNROUTED: u32 = 0;

/// Group 1 serves Windows event-log records of a channel the map does not name: only
/// the unmapped rules of `product: windows` can apply to them. A zeek or AWS rule
/// whose condition is a bare `not selection` would otherwise fire on every such record.
const UNKNOWN_CHANNEL: u32 = 1;

impl Router {
    fn route(&self, event: &Event, buffer: &mut String) -> u32 {
        let channel = event
            .meta
            .channel
            .as_deref()
            .or_else(|| event.get("Channel").and_then(Value::as_str));
        let Some(channel) = channel.filter(|c| !c.is_empty()) else {
            // Records of ETW providers converted to EVTX can have an empty channel;
            // their provider still says they are Windows records.
            return if event.meta.provider.is_some() {
                UNKNOWN_CHANNEL
            } else {
                UNROUTED
            };
        };
        buffer.clear();
        buffer.push_str(channel);
        buffer.make_ascii_lowercase();
        let Some(route) = self.channels.get(buffer.as_str()) else {
            return UNKNOWN_CHANNEL;
        };
        event_id(event)
            .and_then(|id| route.by_event_id.get(&id).copied())
            .unwrap_or(route.other)
    }
}

/// The event id: the header's, else an `EventID` field.
fn event_id(event: &Event) -> Option<u32> {
    event.meta.event_id.or_else(|| match event.get("EventID")? {
        Value::Int(id) => u32::try_from(*id).ok(),
        Value::Str(text) => text.trim().parse().ok(),
        _ => None,
    })
}

/// A compiled Sigma rule set. Cheap to share between threads (`Send + Sync`); each
/// thread scans with its own [`Scratch`].
#[derive(Debug)]
pub struct Engine {
    rules: Vec<CompiledRule>,
    /// For each compiled rule, its index in the [`RuleSet`] it was compiled from.
    origin: Vec<usize>,
    fields: FieldNames,
    units: Vec<Unit>,
    groups: Vec<Group>,
    router: Router,
    /// Counters of suppressed matches, one per (rule, active filter) pair.
    suppressions: Vec<Suppression>,
    /// The filters of the rule set (id, title, file), for reporting the counters.
    filters: Vec<(Option<String>, String, PathBuf)>,
}

impl Engine {
    /// Compiles the rules (and the filters that apply to them) of `set`, routed with
    /// `map`. A rule that cannot be compiled becomes a diagnostic; the rest compile.
    /// Expired filters (see [`Filter::is_active`]) are left out. A match a filter
    /// excludes gives no alert and is counted ([`Engine::suppressed`]).
    pub fn compile(set: &RuleSet, map: &LogsourceMap) -> (Engine, Vec<CompileDiagnostic>) {
        let mut diagnostics = Vec::new();
        let mut fields = FieldNames::default();
        let mut rules = Vec::with_capacity(set.rules.len());
        let mut origin = Vec::with_capacity(set.rules.len());
        let mut suppressions = Vec::new();
        let today = rampart_sigma::filter::today();
        for (index, rule) in set.rules.iter().enumerate() {
            let filters: Vec<(&Filter, u32)> = set
                .filters
                .iter()
                .enumerate()
                .filter(|(_, f)| f.active_on(today) && filter_applies(f, rule))
                .map(|(at, f)| {
                    suppressions.push(Suppression {
                        rule: rule.alert_id(),
                        filter: at,
                        count: AtomicU64::new(0),
                    });
                    (f, (suppressions.len() - 1) as u32)
                })
                .collect();
            match compile_rule(rule, &filters, &mut fields) {
                Ok(compiled) => {
                    rules.push(compiled);
                    origin.push(index);
                }
                Err(error) => {
                    diagnostics.push(diagnostic(rule, CompileDiagnosticKind::Rejected, error.0))
                }
            }
        }

        // Route every rule to the sources its logsource selects.
        let sources = map.sources();
        let mut source_rules: Vec<Vec<u32>> = vec![Vec::new(); sources.len()];
        let mut unmapped = Vec::new();
        let mut unmapped_windows = Vec::new();
        // Rules share a few dozen logsources; scoring each against every source once
        // per rule was a tenth of compiling.
        let mut routes: HashMap<LogsourceKey, Vec<usize>> = HashMap::new();
        for (index, compiled) in rules.iter().enumerate() {
            let rule = &set.rules[origin[index]];
            let key = LogsourceKey::new(
                rule.logsource.product.as_deref(),
                rule.logsource.category.as_deref(),
                rule.logsource.service.as_deref(),
            );
            if !routes.contains_key(&key) {
                routes.insert(key.clone(), map.sources_for(&key));
            }
            let picked = &routes[&key];
            if picked.is_empty() {
                unmapped.push(index as u32);
                let windows = key
                    .product
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case("windows"));
                let runs_on = if windows {
                    unmapped_windows.push(index as u32);
                    "Windows records of channels the map does not name and events with no channel"
                } else {
                    "events that are not Windows event-log records (no channel, no provider)"
                };
                diagnostics.push(CompileDiagnostic {
                    rule: compiled.alert.rule_id.clone(),
                    path: compiled.path.clone(),
                    line: compiled.line,
                    kind: CompileDiagnosticKind::UnknownLogsource,
                    message: format!(
                        "logsource {} is not in the logsource map: the rule runs only on {runs_on}",
                        describe(&key)
                    ),
                });
            }
            for &source in picked {
                source_rules[source].push(index as u32);
            }
        }

        // One unit per distinct rule list (unit 0: the unmapped rules; unit 1: those of
        // them for Windows).
        let mut units = vec![Unit::new(unmapped), Unit::new(unmapped_windows)];
        let mut unit_ids: HashMap<Vec<u32>, u32> = HashMap::new();
        let unit_of: Vec<Option<u32>> = source_rules
            .into_iter()
            .map(|list| {
                if list.is_empty() {
                    return None;
                }
                let next = units.len() as u32;
                let id = *unit_ids.entry(list.clone()).or_insert(next);
                if id == next {
                    units.push(Unit::new(list));
                }
                Some(id)
            })
            .collect();

        // Each channel: a group for every event id some source names, and one for the
        // rest; equal (units, renames) share a group.
        let channels: Vec<String> = map
            .channels()
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let names = |source: &crate::Source, channel: &str| {
            (source.channels.as_ref())
                .is_some_and(|list| list.iter().any(|c| c.eq_ignore_ascii_case(channel)))
        };
        // A source without channels serves every channel the map names for its
        // product: a rule naming only `product: windows` is not for Linux syslog.
        let same_product = |a: &crate::Source, b: &crate::Source| match (
            &a.logsource.product,
            &b.logsource.product,
        ) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        };
        let serves = |source: &crate::Source, channel: &str| match source.channels {
            Some(_) => names(source, channel),
            None => sources
                .iter()
                .any(|other| same_product(source, other) && names(other, channel)),
        };
        // Records of channels the map does not name get the unmapped Windows rules and
        // the sources that serve every channel (rules naming only `product: windows`).
        let mut unknown_channel = vec![1];
        let mut unknown_renames = BTreeSet::new();
        for (source, unit) in sources.iter().zip(&unit_of) {
            if let (None, None, Some(unit)) = (&source.channels, &source.event_ids, unit) {
                unknown_channel.push(*unit);
                unknown_renames.extend(source.rename.iter().cloned());
            }
        }
        let mut groups = vec![
            Group::build(vec![0], Vec::new(), &units, &rules, &fields),
            Group::build(
                unknown_channel,
                unknown_renames.into_iter().collect(),
                &units,
                &rules,
                &fields,
            ),
        ];
        let mut seen: HashMap<GroupKey, u32> = HashMap::new();
        let mut group_of = |picked: &[usize]| -> u32 {
            let mut members: Vec<u32> = picked.iter().filter_map(|&s| unit_of[s]).collect();
            members.sort_unstable();
            members.dedup();
            let renames: BTreeSet<(String, String)> = picked
                .iter()
                .filter(|&&s| unit_of[s].is_some())
                .flat_map(|&s| sources[s].rename.iter().cloned())
                .collect();
            let mut conversions: Vec<Conversion> = picked
                .iter()
                .filter(|&&s| unit_of[s].is_some())
                .flat_map(|&s| sources[s].convert.iter().cloned())
                .collect();
            conversions.dedup();
            let key = (members, renames.into_iter().collect(), conversions);
            if let Some(&id) = seen.get(&key) {
                return id;
            }
            let id = groups.len() as u32;
            let mut group = Group::build(key.0.clone(), key.1.clone(), &units, &rules, &fields);
            group.conversions = key.2.clone();
            groups.push(group);
            seen.insert(key, id);
            id
        };
        let mut router = Router::default();
        for channel in &channels {
            let here: Vec<usize> = (0..sources.len())
                .filter(|&s| serves(&sources[s], channel))
                .collect();
            let any: Vec<usize> = here
                .iter()
                .copied()
                .filter(|&s| sources[s].event_ids.is_none())
                .collect();
            let mut route = ChannelRoute {
                other: group_of(&any),
                ..ChannelRoute::default()
            };
            let ids: BTreeSet<u32> = here
                .iter()
                .flat_map(|&s| sources[s].event_ids.iter().flatten().copied())
                .collect();
            for id in ids {
                let mut picked = any.clone();
                picked.extend(here.iter().copied().filter(|&s| {
                    sources[s]
                        .event_ids
                        .as_ref()
                        .is_some_and(|list| list.contains(&id))
                }));
                route.by_event_id.insert(id, group_of(&picked));
            }
            router.channels.insert(channel.clone(), route);
        }
        let engine = Engine {
            rules,
            origin,
            fields,
            units,
            groups,
            router,
            suppressions,
            filters: set
                .filters
                .iter()
                .map(|f| (f.id.clone(), f.title.clone(), f.path.clone()))
                .collect(),
        };
        (engine, diagnostics)
    }

    /// Builds every route's automata now. They are otherwise built the first time an
    /// event needs them, which keeps compiling cheap when the input uses few channels;
    /// call this for a predictable first-event latency (a long-running service).
    pub fn prepare_all(&self) {
        for unit in &self.units {
            unit.prepare(&self.rules);
        }
    }

    /// How many matches each active filter suppressed on each rule it applies to, since
    /// the engine was compiled (scans on every thread add up). Pairs that suppressed
    /// nothing are listed too, with a count of 0.
    pub fn suppressed(&self) -> Vec<SuppressedCount> {
        self.suppressions
            .iter()
            .map(|s| {
                let (id, title, path) = &self.filters[s.filter];
                SuppressedCount {
                    rule: s.rule.clone(),
                    filter_id: id.clone(),
                    filter_title: title.clone(),
                    filter_path: path.clone(),
                    count: s.count.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// How many rules compiled.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// How many distinct rule groups (routes) the engine built.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// A scratch sized for this engine.
    pub fn scratch(&self) -> Scratch {
        let mut scratch = Scratch::new();
        scratch.begin(
            self.fields.len(),
            self.rules.len(),
            self.fields.literal_count(),
        );
        scratch
    }

    /// Runs every rule that can match `event` and passes one [`Alert`] per matching
    /// rule to `out`, in rule-set order.
    pub fn scan(&self, event: &Event, scratch: &mut Scratch, out: &mut impl FnMut(Alert)) {
        let group = &self.groups[self.router.route(event, &mut scratch.channel) as usize];
        if group.rules.is_empty() {
            return;
        }
        let converted_event;
        let event = if group.conversions.is_empty() {
            event
        } else {
            converted_event = converted(event, &group.conversions);
            &converted_event
        };
        scratch.begin(
            self.fields.len(),
            self.rules.len(),
            self.fields.literal_count(),
        );
        group.candidates(event, scratch, &self.rules, &self.units);
        let mut next = 0;
        while let Some(&index) = scratch.marks.candidates.get(next) {
            next += 1;
            let rule = &self.rules[index as usize];
            if rule_matches(rule, event, scratch) {
                if !rule.filters.is_empty() {
                    if let Some(counter) = suppressing_filter(rule, event, scratch) {
                        self.suppressions[counter as usize]
                            .count
                            .fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                }
                let matched = matched_fields(rule, event, scratch, &self.fields);
                let template = &rule.alert;
                out(Alert {
                    id: rampart_event::alert_id(&template.rule_id, event),
                    rule_id: template.rule_id.clone(),
                    rule_title: template.title.clone(),
                    level: template.level,
                    status: template.status.clone(),
                    techniques: template.techniques.clone(),
                    tactics: template.tactics.clone(),
                    tags: template.tags.clone(),
                    event: event.meta.clone(),
                    matched,
                    // Copied only for matching events: the hunt reads millions of
                    // events and raises alerts on few.
                    context: rampart_event::context_fields(event, false),
                    intel: None,
                });
            }
        }
    }

    /// The rules (indices into the compiled [`RuleSet`]'s `rules`) that `event` is
    /// routed to, before any prefilter: what a rule-by-rule engine would run.
    pub fn routed_rules(&self, event: &Event) -> Vec<usize> {
        let mut buffer = String::new();
        let group = &self.groups[self.router.route(event, &mut buffer) as usize];
        group
            .rules
            .iter()
            .map(|&r| self.origin[r as usize])
            .collect()
    }

    /// The event as the routed rules see it: with each renamed field (e.g. Security
    /// 4688's `NewProcessName`) also present under the taxonomy's name (`Image`) when
    /// the event lacks that name. For testing and explaining matches.
    pub fn renamed_view(&self, event: &Event) -> Event {
        let mut buffer = String::new();
        let group = &self.groups[self.router.route(event, &mut buffer) as usize];
        let mut view = converted(event, &group.conversions);
        let event = &view.clone();
        for (rule_field, event_field) in &group.renames {
            if view.get(rule_field).is_none() {
                if let Some(value) = event.get(event_field) {
                    view.fields
                        .push((rule_field.as_str().into(), value.clone()));
                }
            }
        }
        view
    }

    /// The rules (indices into the compiled [`RuleSet`]'s `rules`) that pass the
    /// literal prefilter for `event` and so are evaluated in full.
    pub fn candidate_rules(&self, event: &Event, scratch: &mut Scratch) -> Vec<usize> {
        self.prefilter(event, scratch);
        scratch
            .marks
            .candidates
            .iter()
            .map(|&r| self.origin[r as usize])
            .collect()
    }

    /// How many routed rules were evaluated and how many skipped by the literal
    /// prefilter for `event` (for measuring the prefilter).
    pub fn candidate_stats(&self, event: &Event, scratch: &mut Scratch) -> (usize, usize) {
        let group = self.prefilter(event, scratch);
        let evaluated = scratch.marks.candidates.len();
        (evaluated, group.rules.len() - evaluated)
    }

    /// Routes `event` and runs the literal prefilter, leaving the candidate rules in
    /// `scratch`; returns the group the event was routed to.
    fn prefilter(&self, event: &Event, scratch: &mut Scratch) -> &Group {
        let group = &self.groups[self.router.route(event, &mut scratch.channel) as usize];
        scratch.begin(
            self.fields.len(),
            self.rules.len(),
            self.fields.literal_count(),
        );
        if group.conversions.is_empty() {
            group.candidates(event, scratch, &self.rules, &self.units);
        } else {
            let event = converted(event, &group.conversions);
            group.candidates(&event, scratch, &self.rules, &self.units);
        }
        group
    }
}

/// Whether a Sigma filter applies to a rule: it names the rule (by id or name) and its
/// logsource attributes, where set, are the rule's.
fn filter_applies(filter: &Filter, rule: &Rule) -> bool {
    let named = filter.rules.iter().any(|r| {
        rule.id.as_deref() == Some(r.as_str()) || rule.name.as_deref() == Some(r.as_str())
    });
    let same = |mine: &Option<String>, theirs: &Option<String>| match mine {
        None => true,
        Some(mine) => theirs
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(mine)),
    };
    named
        && same(&filter.logsource.product, &rule.logsource.product)
        && same(&filter.logsource.category, &rule.logsource.category)
        && same(&filter.logsource.service, &rule.logsource.service)
}

fn diagnostic(rule: &Rule, kind: CompileDiagnosticKind, message: String) -> CompileDiagnostic {
    CompileDiagnostic {
        rule: rule.alert_id(),
        path: rule.path.clone(),
        line: rule.line,
        kind,
        message,
    }
}

fn describe(key: &LogsourceKey) -> String {
    let parts: Vec<String> = [
        ("product", &key.product),
        ("category", &key.category),
        ("service", &key.service),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}: {v}")))
    .collect();
    if parts.is_empty() {
        "(empty)".to_owned()
    } else {
        format!("{{{}}}", parts.join(", "))
    }
}
