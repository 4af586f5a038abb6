//! Retro-hunts: indicators run over what was already seen — the events stored alerts
//! were raised on, as far as the alerts kept them (header, context and matched
//! fields), and files — through the hunt's own scan with the matcher alone (no rule),
//! so a retro-hunt of files finds exactly what a hunt with those indicators would
//! have, and one of stored alerts what of it their kept fields show.

use std::collections::HashSet;
use std::io;
use std::sync::Arc;

use rampart_event::{Alert, Event, Value};
use rampart_intel::matcher::Matcher;

use crate::hunt::{self, HuntOptions, HuntReport, Observer};
use crate::sink::VecSink;
use crate::source::{FileSource, VecSource};
use crate::{compile_rules, CompiledRules, Error};

/// What a retro-hunt found.
#[derive(Debug, Default)]
pub struct RetroReport {
    /// IoC alerts not already among the stored alerts given, in scan order (stored
    /// events first, then files), each once.
    pub alerts: Vec<Alert>,
    /// Events rebuilt from stored alerts and scanned (one per distinct event).
    pub stored_events: usize,
    /// The scan of the files.
    pub files: HuntReport,
}

/// The event a stored alert was raised on, as far as the alert kept it: its header,
/// its context fields and the fields its rule matched.
pub fn event_of_alert(alert: &Alert) -> Event {
    let mut event = Event {
        meta: alert.event.clone(),
        fields: Vec::with_capacity(alert.context.len() + alert.matched.len()),
    };
    for field in &alert.context {
        event.set(&field.field, Value::Str(field.value.as_str().into()));
    }
    for field in &alert.matched {
        if field.field != "keywords" && event.get(&field.field).is_none() {
            event.set(&field.field, Value::Str(field.value.as_str().into()));
        }
    }
    // A Windows record is known by its record id (`EventRecordID`), which the alert
    // keeps in its header: restored, an IoC alert on the rebuilt event has the id an
    // IoC alert on the record read from its file has. Other events are known by their
    // whole content, which an alert does not keep.
    if let (Some(record), Some(_)) = (alert.event.record_id, &alert.event.channel) {
        if event.get("EventRecordID").is_none() {
            event.set("EventRecordID", Value::Int(record as i64));
        }
    }
    event
}

/// Runs `matcher` over the events of `stored` alerts (each distinct event once) and
/// over `files`, and returns the IoC alerts that are not already in `stored`.
pub fn run(
    matcher: Arc<Matcher>,
    stored: &[Alert],
    files: &[FileSource],
    options: HuntOptions,
    observer: &dyn Observer,
) -> Result<RetroReport, RetroError> {
    let rules = matcher_only(matcher)?;
    let known: HashSet<&str> = stored.iter().map(|alert| alert.id.as_str()).collect();
    let mut seen_events = HashSet::new();
    let events: Vec<Event> = stored
        .iter()
        .map(event_of_alert)
        .filter(|event| seen_events.insert(event_identity(event)))
        .collect();
    let stored_events = events.len();

    let mut sink = VecSink::default();
    let source = [VecSource::new("stored alerts", events)];
    hunt::run(&rules, &source, &mut sink, options, observer).map_err(RetroError::Io)?;
    let files = hunt::run(&rules, files, &mut sink, options, observer).map_err(RetroError::Io)?;

    let mut emitted = HashSet::new();
    let alerts = sink
        .alerts
        .into_iter()
        .filter(|alert| !known.contains(alert.id.as_str()) && emitted.insert(alert.id.clone()))
        .collect();
    Ok(RetroReport {
        alerts,
        stored_events,
        files,
    })
}

/// A rule set with no rule, carrying `matcher`.
fn matcher_only(matcher: Arc<Matcher>) -> Result<CompiledRules, RetroError> {
    let (rules, _) = compile_rules(Default::default(), None).map_err(RetroError::Rules)?;
    let mut rules = Arc::try_unwrap(rules).map_err(|_| RetroError::Shared)?;
    rules.set_intel(Some(matcher));
    Ok(rules)
}

/// What makes two rebuilt events the same event: its header.
fn event_identity(event: &Event) -> String {
    let meta = &event.meta;
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        meta.timestamp,
        meta.computer,
        meta.channel,
        meta.provider,
        meta.event_id,
        meta.record_id,
        meta.source
    )
}

/// A retro-hunt that could not run.
#[derive(Debug, thiserror::Error)]
pub enum RetroError {
    /// The empty rule set could not be built.
    #[error("building the retro-hunt's scan")]
    Rules(#[source] Error),
    /// The freshly built rule set was shared (an internal error).
    #[error("internal error: the retro-hunt's rule set is shared")]
    Shared,
    /// Writing alerts failed.
    #[error("collecting the retro-hunt's alerts")]
    Io(#[source] io::Error),
}
