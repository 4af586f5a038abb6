//! An IoC hit as an [`Alert`], so that it is stored, written, correlated and grouped
//! into incidents like a rule's.
//!
//! - `rule_id` is `intel:<indicator id>`, and the alert id derives from it and the
//!   event as a rule alert's does (the same hit is the same alert in every run).
//! - `rule_title`: `IoC <kind> <value>` (value cut at 120 characters, `+ N more` for an
//!   indicator of several observables) and `from <source>`.
//! - `level` from the confidence ([`level_for_confidence`]).
//! - `techniques`: the ATT&CK technique ids the intelligence names (`T…`, upper-case);
//!   tags: `intel`, `intel.<kind>` and `attack.<id>` for every ATT&CK id it names.
//! - `matched`: each field the indicator's values were found in, with its value.
//! - `intel`: indicator id, source, name, confidence, labels, observables with their
//!   fields, and the context (actors, malware, ATT&CK ids, reports).

use super::Hit;
use rampart_event::{Alert, AlertIntel, AlertObservable, Event, Level, MatchedField};

/// What the `rule_id` of an IoC alert starts with.
pub const IOC_RULE_PREFIX: &str = "intel:";

/// The longest indicator value a title shows, in characters.
const TITLE_VALUE_CHARS: usize = 120;

/// An IoC alert's level: `high` from confidence 80, `medium` from 50, `low` below;
/// `medium` when the feed gives no confidence (MISP events without a threat level,
/// plain lists): an IoC a team chose to load deserves a look, not a page.
pub fn level_for_confidence(confidence: Option<u8>) -> Level {
    match confidence {
        Some(c) if c >= 80 => Level::High,
        Some(c) if c >= 50 => Level::Medium,
        Some(_) => Level::Low,
        None => Level::Medium,
    }
}

impl Hit<'_> {
    /// The alert this hit raises on `event`; `full_event` keeps every field of the
    /// event as context, as `--full-event` does for rule alerts.
    pub fn to_alert(&self, event: &Event, full_event: bool) -> Alert {
        let rule_id = format!("{IOC_RULE_PREFIX}{}", self.id());
        let observables: Vec<_> = self.observables().collect();
        let context = self.context();
        let mut title = String::from("IoC");
        if let Some(first) = observables.first() {
            title.push(' ');
            title.push_str(first.kind.name());
            title.push(' ');
            let shown: String = first.value.chars().take(TITLE_VALUE_CHARS).collect();
            let cut = shown.len() < first.value.len();
            title.push_str(&shown);
            if cut {
                title.push('…');
            }
            if observables.len() > 1 {
                title.push_str(&format!(" + {} more", observables.len() - 1));
            }
        }
        title.push_str(" from ");
        title.push_str(self.source());
        let techniques: Vec<String> = context
            .attack_ids
            .iter()
            .map(|id| id.trim().to_ascii_uppercase())
            .filter(|id| is_technique_id(id))
            .fold(Vec::new(), |mut all, id| {
                if !all.contains(&id) {
                    all.push(id);
                }
                all
            });
        let mut tags = vec!["intel".to_string()];
        for observable in &observables {
            let tag = format!("intel.{}", observable.kind.name());
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        for id in &context.attack_ids {
            let tag = format!("attack.{}", id.trim().to_ascii_lowercase());
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let matched = self
            .found
            .iter()
            .map(|found| MatchedField {
                field: found.field.clone(),
                value: found.event_value.clone(),
            })
            .fold(Vec::new(), |mut all: Vec<MatchedField>, field| {
                if !all.contains(&field) {
                    all.push(field);
                }
                all
            });
        let intel = AlertIntel {
            indicator_id: self.id().to_string(),
            source: self.source().to_string(),
            name: self.name().map(str::to_string),
            confidence: self.confidence(),
            labels: self.labels().to_vec(),
            observables: self
                .found
                .iter()
                .map(|found| AlertObservable {
                    kind: found.kind.name().to_string(),
                    value: found.value.clone(),
                    field: found.field.clone(),
                })
                .collect(),
            actors: context.actors.clone(),
            malware: context.malware.clone(),
            attack_ids: context.attack_ids.clone(),
            reports: context.reports.clone(),
        };
        Alert {
            id: rampart_event::alert_id(&rule_id, event),
            rule_id,
            rule_title: title,
            level: level_for_confidence(self.confidence()),
            status: None,
            techniques,
            tactics: Vec::new(),
            tags,
            event: event.meta.clone(),
            matched,
            context: rampart_event::context_fields(event, full_event),
            intel: Some(Box::new(intel)),
        }
    }
}

/// `T1059` or `T1059.001`.
fn is_technique_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = rest.split_once('.').unwrap_or((rest, "000"));
    main.len() == 4 && sub.len() == 3 && main.bytes().chain(sub.bytes()).all(|b| b.is_ascii_digit())
}
