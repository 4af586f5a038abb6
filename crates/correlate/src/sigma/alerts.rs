//! [`AlertCorrelator`]: the correlation engine fed straight from a detection loop.

use crate::sigma::{CorrelationEngine, CorrelationWarning, Fields};
use rampart_event::{Alert, Event};
use rampart_sigma::RuleSet;
use std::sync::Mutex;

/// An event's fields, falling back to its header for the names Sigma rules group by
/// (`Computer`, `ComputerName`, `Hostname`, `Channel`, `EventID`, `Provider_Name`) when
/// the reader did not flatten them into fields.
pub(crate) struct EventFields<'a>(pub(crate) &'a Event);

impl Fields for EventFields<'_> {
    fn field(&self, name: &str) -> Option<String> {
        if let Some(value) = self.0.get(name) {
            return Some(value.to_text());
        }
        let meta = &self.0.meta;
        match name {
            "Computer" | "ComputerName" | "Hostname" | "host.name" => {
                meta.computer.as_deref().map(str::to_string)
            }
            "Channel" => meta.channel.as_deref().map(str::to_string),
            "Provider_Name" => meta.provider.as_deref().map(str::to_string),
            "EventID" => meta.event_id.map(|id| id.to_string()),
            _ => None,
        }
    }
}

/// Correlation for a detection loop that may run on several threads.
///
/// Call [`AlertCorrelator::observe`] with every alert and the event it matched (in
/// roughly event-time order per host: windows are judged on event time, and an event
/// far older than what a group has seen no longer meets its window), then
/// [`AlertCorrelator::finish`] once. Correlation results come back as [`Alert`]s to be
/// written like any other. [`AlertCorrelator::suppressed`] tells which detection
/// alerts the rules' `generate: false` withholds from the output.
pub struct AlertCorrelator {
    engine: Mutex<CorrelationEngine>,
}

impl AlertCorrelator {
    /// A correlator for the correlation rules of `set` (None when it has none), with
    /// the warnings about references to unknown rules.
    pub fn new(set: &RuleSet) -> Option<(Self, Vec<CorrelationWarning>)> {
        if set.correlations.is_empty() {
            return None;
        }
        let (engine, warnings) = CorrelationEngine::new(&set.correlations, &set.rules);
        Some((
            AlertCorrelator {
                engine: Mutex::new(engine),
            },
            warnings,
        ))
    }

    /// Feeds one alert; returns the correlations that fired, as alerts. Alerts without
    /// an event time cannot take part and are ignored.
    pub fn observe(&self, alert: &Alert, event: &Event) -> Vec<Alert> {
        let Some(time) = alert.event.timestamp.or(event.meta.timestamp) else {
            return Vec::new();
        };
        let mut engine = match self.engine.lock() {
            Ok(engine) => engine,
            Err(poisoned) => poisoned.into_inner(),
        };
        engine
            .observe(&alert.rule_id, time, &EventFields(event))
            .iter()
            .map(|fired| fired.to_alert())
            .collect()
    }

    /// Whether any correlation takes this detection alert as input; a caller that must
    /// buffer alerts before [`AlertCorrelator::observe`] keeps only these.
    pub fn listens_to(&self, alert: &Alert) -> bool {
        match self.engine.lock() {
            Ok(engine) => engine.listens_to(&alert.rule_id),
            Err(poisoned) => poisoned.into_inner().listens_to(&alert.rule_id),
        }
    }

    /// Whether this detection alert is withheld by `generate: false`.
    pub fn suppressed(&self, alert: &Alert) -> bool {
        match self.engine.lock() {
            Ok(engine) => engine.is_suppressed(&alert.rule_id),
            Err(poisoned) => poisoned.into_inner().is_suppressed(&alert.rule_id),
        }
    }

    /// Closes all windows (end of input) and returns what fires then.
    pub fn finish(&self) -> Vec<Alert> {
        let mut engine = match self.engine.lock() {
            Ok(engine) => engine,
            Err(poisoned) => poisoned.into_inner(),
        };
        engine
            .finish()
            .iter()
            .map(|fired| fired.to_alert())
            .collect()
    }
}
