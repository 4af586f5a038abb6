//! Scanning a batch of events with the calling thread's scratch buffers.

use crate::CompiledRules;
use rampart_detect::Scratch;
use rampart_event::{Alert, Event};
use std::cell::RefCell;

/// How a batch is scanned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Alerts keep every field of their event (`--full-event`), not only its context
    /// fields.
    pub full_event: bool,
    /// Every match goes to [`Scanned::alerts`] as the engine found it: `generate:
    /// false` is ignored and nothing is set aside for correlation (testing single
    /// rules on samples).
    pub all_matches: bool,
}

/// What one batch's scan found.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Alerts to emit, in event order and, per event, rule-set order then IoC hits
    /// (indicator load order); alerts that a correlation's `generate: false` withholds
    /// are not among them.
    pub alerts: Vec<Alert>,
    /// Alerts some correlation takes as input, each with its event, for a correlator
    /// (withheld ones included).
    pub for_correlation: Vec<(Alert, Event)>,
}

thread_local! {
    /// Each scanning thread's buffers, kept from batch to batch: a fresh scratch per
    /// batch (arrays per field, rule and literal, zeroed) cost page faults that showed
    /// as a quarter of a run's time in the kernel once batches got small. The engine
    /// sizes the scratch to itself on every event, so one scratch serves a reloaded
    /// rule set too.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

impl CompiledRules {
    /// Scans `events` on the calling thread (any thread: each keeps its own scratch).
    pub fn scan_events(&self, events: &[Event], options: ScanOptions) -> Scanned {
        let mut scanned = Scanned::default();
        self.scan_into(events, options, &mut scanned);
        scanned
    }

    /// Like [`CompiledRules::scan_events`], appending to `scanned`.
    pub fn scan_into(&self, events: &[Event], options: ScanOptions, scanned: &mut Scanned) {
        let Scanned {
            alerts,
            for_correlation,
        } = scanned;
        let correlations = self.has_correlations() && !options.all_matches;
        SCRATCH.with(|cell| {
            // A sink re-entering the scan on this thread would find the scratch taken;
            // it gets a scratch of its own rather than a panic.
            let mut own;
            let mut borrowed = cell.try_borrow_mut();
            let scratch: &mut Scratch = match &mut borrowed {
                Ok(scratch) => scratch,
                Err(_) => {
                    own = Scratch::new();
                    &mut own
                }
            };
            for event in events {
                let first = alerts.len();
                self.engine.scan(event, scratch, &mut |mut alert| {
                    if options.full_event {
                        alert.context = rampart_event::context_fields(event, true);
                    }
                    alerts.push(alert)
                });
                if let Some(matcher) = self.intel() {
                    // IoC hits: after the rules, on the same event while it is in cache.
                    matcher.scan(event, &mut |hit| {
                        alerts.push(hit.to_alert(event, options.full_event))
                    });
                }
                if correlations && alerts.len() > first {
                    // Only alerts a correlation listens to are kept, with their event.
                    for alert in &alerts[first..] {
                        if self.listens_to(alert) {
                            for_correlation.push((alert.clone(), event.clone()));
                        }
                    }
                    // `generate: false` withholds the base rules' own alerts.
                    let mut index = 0;
                    alerts.retain(|alert| {
                        index += 1;
                        index <= first || !self.suppressed(alert)
                    });
                }
            }
        });
    }
}
