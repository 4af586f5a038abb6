//! Syslog ingest: SigmaHQ rules on parsed messages, the TCP and UDP listeners over
//! real sockets, and a real rsyslog forwarding to them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod listen;
mod rsyslog;
mod rules;

use rampart_event::Event;
use rampart_ingest::syslog::{BatchSink, Saturated};
use rampart_ingest::{Diagnostic, EventBatch};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// A sink that keeps what it is given; it can be told to block TCP deliveries until
/// released, or to refuse UDP ones.
#[derive(Default)]
pub(crate) struct Keep {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    events: Vec<Event>,
    seqs: Vec<u64>,
    diagnostics: Vec<Diagnostic>,
    blocked: bool,
    refuse_without_wait: bool,
}

impl Keep {
    pub(crate) fn blocked() -> Self {
        let keep = Keep::default();
        keep.state.lock().unwrap().blocked = true;
        keep
    }

    pub(crate) fn refusing() -> Self {
        let keep = Keep::default();
        keep.state.lock().unwrap().refuse_without_wait = true;
        keep
    }

    pub(crate) fn release(&self) {
        self.state.lock().unwrap().blocked = false;
        self.changed.notify_all();
    }

    pub(crate) fn events(&self) -> Vec<Event> {
        self.state.lock().unwrap().events.clone()
    }

    pub(crate) fn seqs(&self) -> Vec<u64> {
        self.state.lock().unwrap().seqs.clone()
    }

    pub(crate) fn diagnostics(&self) -> Vec<Diagnostic> {
        self.state.lock().unwrap().diagnostics.clone()
    }

    /// Waits until `done` holds for the events kept, at most `limit`; returns them.
    pub(crate) fn wait_for(&self, limit: Duration, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
        let deadline = Instant::now() + limit;
        let mut state = self.state.lock().unwrap();
        while !done(&state.events) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
        state.events.clone()
    }
}

impl BatchSink for Keep {
    fn deliver(&self, batch: EventBatch, wait: bool) -> Result<(), Saturated> {
        let mut state = self.state.lock().unwrap();
        if !wait && state.refuse_without_wait {
            return Err(Saturated);
        }
        while wait && state.blocked {
            state = self.changed.wait(state).unwrap();
        }
        state.seqs.push(batch.seq);
        state.events.extend(batch.events);
        self.changed.notify_all();
        Ok(())
    }

    fn diagnostic(&self, diagnostic: Diagnostic) {
        self.state.lock().unwrap().diagnostics.push(diagnostic);
        self.changed.notify_all();
    }
}
