//! Inputs that are not HTTP requests: watched folders and syslog listeners, each on
//! std threads of its own, feeding the same queue as the HTTP routes.
//!
//! - A watched folder's batch is admitted (waiting while the queue is full: the
//!   watcher reads nothing ahead) and committed **with its file checkpoints in the
//!   same transaction** before the watcher reads on, so a restart resumes exactly
//!   after the last committed record: nothing read twice, nothing lost.
//! - Syslog over TCP waits for room and for the commit (backpressure: the reader
//!   stops reading); over UDP a batch that finds the queue full is dropped and
//!   counted by the listener (a datagram sender cannot be slowed down).

use crate::detection::Detection;
use crate::metrics::Metrics;
use rampart_ingest::syslog::{BatchSink, ListenOptions, Listener, Saturated};
use rampart_ingest::watch::{WatchBatch, WatchOptions, WatchSink, Watcher};
use rampart_ingest::{Diagnostic, EventBatch};
use rampart_store::Store;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The running non-HTTP inputs; [`Sources::stop`] ends them after their last commit.
pub struct Sources {
    stop: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
    listeners: Vec<Listener>,
}

impl Sources {
    /// Starts a watcher over `folders` (resuming from the checkpoints in `store`) and
    /// TCP and UDP syslog listeners on `syslog`.
    pub fn start(
        folders: &[PathBuf],
        syslog: Option<SocketAddr>,
        store: Box<dyn Store>,
        detection: Detection,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Sources> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut listeners = Vec::new();
        if let Some(addr) = syslog {
            let sink: Arc<dyn BatchSink> = Arc::new(SyslogSink {
                detection: detection.clone(),
                metrics: metrics.clone(),
                stop: stop.clone(),
            });
            listeners.push(rampart_ingest::syslog::listen_tcp(
                addr,
                ListenOptions::default(),
                sink.clone(),
            )?);
            listeners.push(rampart_ingest::syslog::listen_udp(
                addr,
                ListenOptions::default(),
                sink,
            )?);
        }
        let watcher = if folders.is_empty() {
            None
        } else {
            let mut watcher = Watcher::new(folders.to_vec(), WatchOptions::default(), move |key| {
                store.checkpoint(key).unwrap_or_else(|error| {
                    tracing::error!(
                        "checkpoint {key} not read: {}",
                        rampart_event::error_chain(&error)
                    );
                    None
                })
            });
            let stop = stop.clone();
            let mut sink = FolderSink {
                detection,
                metrics,
                stop: stop.clone(),
            };
            Some(
                std::thread::Builder::new()
                    .name("rampart-watch".into())
                    .spawn(move || watcher.run_until(&stop, &mut sink))?,
            )
        };
        Ok(Sources {
            stop,
            watcher,
            listeners,
        })
    }

    /// The addresses the syslog listeners bound (TCP, then UDP).
    pub fn syslog_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().map(Listener::local_addr).collect()
    }

    /// Stops the listeners (they deliver what they hold) and the watcher (after the
    /// batch it is committing), and waits for them.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for listener in self.listeners {
            listener.shutdown();
        }
        if let Some(watcher) = self.watcher {
            let _ = watcher.join();
        }
    }
}

struct FolderSink {
    detection: Detection,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
}

impl WatchSink for FolderSink {
    fn batch(&mut self, batch: WatchBatch) -> ControlFlow<()> {
        match self.detection.process_blocking(
            batch.events,
            batch.checkpoints,
            true,
            true,
            &self.stop,
        ) {
            Ok(_) => ControlFlow::Continue(()),
            Err(error) => {
                // Not committed: the batch is read again after a restart.
                tracing::warn!(
                    "watched file {} not committed: {error}",
                    rampart_event::terminal::escape(&batch.source)
                );
                ControlFlow::Break(())
            }
        }
    }

    fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.metrics.events_rejected.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "{}",
            rampart_event::terminal::escape(&diagnostic.to_string())
        );
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

struct SyslogSink {
    detection: Detection,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
}

impl BatchSink for SyslogSink {
    fn deliver(&self, batch: EventBatch, wait: bool) -> Result<(), Saturated> {
        self.detection
            .process_blocking(batch.events, Vec::new(), wait, wait, &self.stop)
            .map(|_| ())
            .map_err(|_| Saturated)
    }

    fn diagnostic(&self, diagnostic: Diagnostic) {
        self.metrics.events_rejected.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "{}",
            rampart_event::terminal::escape(&diagnostic.to_string())
        );
    }
}
