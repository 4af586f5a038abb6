//! Retro-hunts: indicators run over what was already seen — the events stored alerts
//! were raised on, as far as the alerts kept them (header, context and matched
//! fields), and files — through the hunt's own scan with the matcher alone (no rule),
//! so a retro-hunt of files finds exactly what a hunt with those indicators would
//! have, and one of stored alerts what of it their kept fields show.
//!
//! Stored alerts are read page by page ([`StoredAlerts`]), each page's events scanned
//! before the next is read, so a store of any size is hunted in bounded memory; what
//! grows is only the list of hits. A hit is kept once, and only when the store does not
//! already hold it (one lookup by id per hit, not a set of every stored id).

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rampart_event::{Alert, Event, Value};
use rampart_ingest::{EventBatch, ReadStats, Sink};
use rampart_intel::matcher::Matcher;
use rampart_store::{SqliteStore, Store, StoreError};

use crate::hunt::{self, HuntOptions, HuntReport, Observer};
use crate::sink::VecSink;
use crate::source::{EventSource, FileSource, SourceError, VecSource};
use crate::{compile_rules, CompiledRules, Error};

/// What a retro-hunt found.
#[derive(Debug, Default)]
pub struct RetroReport {
    /// IoC alerts the store does not hold yet, in scan order (stored events first, then
    /// files), each once.
    pub alerts: Vec<Alert>,
    /// Stored alerts read.
    pub stored_alerts: u64,
    /// Events rebuilt from stored alerts and scanned (one per distinct event among
    /// neighbouring alerts).
    pub stored_events: u64,
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

/// The store's alerts as an [`EventSource`]: read page by page in the order they were
/// stored, each alert's event rebuilt ([`event_of_alert`]). The alerts of one event
/// (several rules on one record) are stored together, so an event already rebuilt
/// among the recent ones is scanned once; the memory of recent events is bounded, and
/// an event met again past it only costs a second scan (its hits are the same alerts,
/// kept once).
pub struct StoredAlerts {
    store: Mutex<SqliteStore>,
    name: String,
    page: usize,
    alerts: AtomicU64,
    events: AtomicU64,
    progress: Option<Box<dyn Fn(u64) + Send + Sync>>,
}

impl StoredAlerts {
    /// Alerts per page.
    pub const PAGE: usize = 1024;
    /// Distinct recent events remembered to scan each once.
    pub const RECENT_EVENTS: usize = 16_384;

    /// The alerts of `store`, read [`StoredAlerts::PAGE`] at a time.
    pub fn new(store: SqliteStore) -> Self {
        let name = format!("stored alerts of {}", store.path().display());
        StoredAlerts {
            store: Mutex::new(store),
            name,
            page: Self::PAGE,
            alerts: AtomicU64::new(0),
            events: AtomicU64::new(0),
            progress: None,
        }
    }

    /// Pages of `size` alerts (at least 1).
    pub fn with_page(mut self, size: usize) -> Self {
        self.page = size.max(1);
        self
    }

    /// Calls `progress` with the number of alerts of each page once it is scanned.
    pub fn with_progress(mut self, progress: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Alerts read so far.
    pub fn alerts_read(&self) -> u64 {
        self.alerts.load(Ordering::Relaxed)
    }

    /// Distinct events rebuilt and scanned so far.
    pub fn events_scanned(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Whether the store holds an alert of this id.
    pub fn holds(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().alert(id)?.is_some())
    }

    /// The store back.
    pub fn into_store(self) -> SqliteStore {
        self.store
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SqliteStore> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl EventSource for StoredAlerts {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&self, sink: &dyn Sink) -> Result<ReadStats, SourceError> {
        let mut after = 0;
        let mut seq = 0;
        let mut recent: HashSet<String> = HashSet::new();
        let mut stats = ReadStats::default();
        while !sink.stopped() {
            // The lock is held for the query only: the page is scanned without it.
            let page = self.lock().alerts_after(after, self.page)?;
            let Some(&(last, _)) = page.last() else {
                break;
            };
            after = last;
            let read = page.len() as u64;
            let mut events = Vec::with_capacity(page.len());
            for (_, alert) in &page {
                let event = event_of_alert(alert);
                if recent.len() >= Self::RECENT_EVENTS {
                    recent.clear();
                }
                if recent.insert(event_identity(&event)) {
                    events.push(event);
                }
            }
            drop(page);
            stats.events += events.len() as u64;
            self.events
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            let mut events = events.into_iter().peekable();
            while events.peek().is_some() {
                let batch: Vec<Event> = events.by_ref().take(VecSource::BATCH).collect();
                sink.events(EventBatch { seq, events: batch });
                seq += 1;
            }
            self.alerts.fetch_add(read, Ordering::Relaxed);
            if let Some(progress) = &self.progress {
                progress(read);
            }
        }
        Ok(stats)
    }
}

/// Runs `matcher` over the events of the `stored` alerts and over `files`, and returns
/// the IoC alerts the store does not hold yet.
pub fn run(
    matcher: Arc<Matcher>,
    stored: &StoredAlerts,
    files: &[FileSource],
    options: HuntOptions,
    observer: &dyn Observer,
) -> Result<RetroReport, RetroError> {
    let rules = matcher_only(matcher)?;
    let mut sink = VecSink::default();
    let stored_scan = hunt::run(
        &rules,
        std::slice::from_ref(stored),
        &mut sink,
        options,
        observer,
    )
    .map_err(RetroError::Io)?;
    if stored_scan.unreadable > 0 {
        return Err(RetroError::Stored);
    }
    let files = hunt::run(&rules, files, &mut sink, options, observer).map_err(RetroError::Io)?;

    let mut emitted = HashSet::new();
    let mut alerts = Vec::new();
    for alert in sink.alerts {
        if emitted.insert(alert.id.clone())
            && !stored.holds(&alert.id).map_err(RetroError::Store)?
        {
            alerts.push(alert);
        }
    }
    Ok(RetroReport {
        alerts,
        stored_alerts: stored.alerts_read(),
        stored_events: stored.events_scanned(),
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
    /// The stored alerts could not all be read (the observer was told why).
    #[error("reading the stored alerts")]
    Stored,
    /// Checking a hit against the store failed.
    #[error("looking up a hit in the store")]
    Store(#[source] StoreError),
}
