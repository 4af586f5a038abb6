//! Automatic response: the responder thread and the runner inside the service.
//!
//! After each commit the committer hands the alerts new to the store and the
//! incidents the batch created or grew to the **responder thread** (a bounded channel:
//! a responder that falls behind slows commits rather than dropping work). It matches
//! them against the loaded playbooks' triggers and starts a run per match
//! (`respond::auto`: one live run per playbook and subject, so a grown incident never
//! starts the same playbook twice). The engine's **runner** (its own threads, its own
//! store connection) sends the runs' steps; the queue is the store, so runs survive
//! a restart. Playbooks are read again with the rules (SIGHUP, reload API); a run keeps
//! the playbook it started with. At shutdown the responder finishes what the last
//! commits handed it, then the runner finishes the sends in flight and stops.

use rampart_correlate::Incident;
use rampart_enrich::PyramidClassifier;
use rampart_event::Alert;
use rampart_respond::auto::{start_for_batch, stored_alerts_of, AutoStarter};
use rampart_respond::engine::{Actions, Runner, RunnerConfig};
use rampart_respond::playbook::{load_paths, Playbook, Severity};
use rampart_store::SqliteStore;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

/// Batches waiting for the responder at most, besides the one it works on.
const WAITING: usize = 64;

/// How the service responds, when it does: the caller builds the connectors.
#[derive(Clone)]
pub struct RespondSetup {
    /// Playbook files and folders (read again at every reload).
    pub playbooks: Vec<PathBuf>,
    /// The connectors steps are prepared and sent with.
    pub actions: Arc<dyn Actions>,
    /// Pyramid-of-pain levels for triggers that ask for them.
    pub pyramid: Arc<PyramidClassifier>,
    /// The runner's threads, limits and polling.
    pub runner: RunnerConfig,
}

impl std::fmt::Debug for RespondSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RespondSetup")
            .field("playbooks", &self.playbooks)
            .field("runner", &self.runner)
            .finish_non_exhaustive()
    }
}

/// What the committer hands the responder.
pub enum Work {
    /// Alerts new to the store and incidents created or grown by one commit.
    Batch {
        /// The alerts.
        alerts: Vec<Alert>,
        /// The incidents.
        incidents: Vec<Incident>,
    },
    /// Playbooks read again.
    Playbooks(Vec<Arc<Playbook>>),
    /// Finish and stop.
    Stop,
}

/// The committer's end of the responder's channel.
pub type WorkSender = mpsc::SyncSender<Work>;

/// The running responder: its threads and the way to reload and stop them.
pub struct Responder {
    sender: Mutex<WorkSender>,
    paths: Vec<PathBuf>,
    starter: Mutex<Option<JoinHandle<()>>>,
    runner: Mutex<Option<JoinHandle<()>>>,
    stop_runner: Arc<AtomicBool>,
}

/// Reads the playbooks, logging what was wrong with the rest.
fn load(paths: &[PathBuf]) -> Vec<Arc<Playbook>> {
    let set = load_paths(paths);
    for diagnostic in &set.diagnostics {
        let line = diagnostic.to_string();
        let text = rampart_event::terminal::escape(&line);
        match diagnostic.severity {
            Severity::Error => tracing::warn!("playbook left out: {text}"),
            _ => tracing::info!("playbook: {text}"),
        }
    }
    tracing::info!(
        playbooks = set.playbooks.len(),
        files = set.files,
        "playbooks loaded"
    );
    set.playbooks
        .into_iter()
        .map(|loaded| Arc::new(loaded.playbook))
        .collect()
}

impl Responder {
    /// Loads the playbooks, opens the responder's and the runner's store connections
    /// and starts both threads. Returns the responder and the committer's sender.
    pub(crate) fn start(
        setup: &RespondSetup,
        store: &std::path::Path,
    ) -> Result<(Responder, WorkSender), crate::ServeError> {
        let playbooks = load(&setup.playbooks);
        let mut starter_store = SqliteStore::open(store)?;
        let runner_store = SqliteStore::open(store)?;
        let (sender, receiver) = mpsc::sync_channel::<Work>(WAITING);
        let mut starter = AutoStarter::new(
            playbooks,
            setup.pyramid.clone(),
            setup.actions.clone(),
            "rampart",
        );
        let starter = std::thread::Builder::new()
            .name("rampart-respond".into())
            .spawn(move || {
                while let Ok(work) = receiver.recv() {
                    match work {
                        Work::Batch { alerts, incidents } => {
                            let report = start_for_batch(
                                &starter,
                                &mut starter_store,
                                &alerts,
                                &incidents,
                                stored_alerts_of,
                            );
                            for error in &report.errors {
                                tracing::warn!(
                                    "response not started: {}",
                                    rampart_event::terminal::escape(error)
                                );
                            }
                            if !report.started.is_empty() {
                                tracing::info!(
                                    runs = report.started.len(),
                                    "response runs started"
                                );
                            }
                        }
                        Work::Playbooks(playbooks) => starter.set_playbooks(playbooks),
                        Work::Stop => break,
                    }
                }
            })
            .map_err(|source| crate::ServeError::Io {
                what: "cannot start the responder thread",
                source,
            })?;
        let stop_runner = Arc::new(AtomicBool::new(false));
        let runner = Runner::new(runner_store, setup.actions.clone(), setup.runner.clone());
        let stop = stop_runner.clone();
        let runner = std::thread::Builder::new()
            .name("rampart-runner".into())
            .spawn(move || match runner.run(&stop) {
                Ok(stats) => tracing::info!(
                    sent = stats.sent,
                    done = stats.done,
                    failed = stats.failed,
                    "response runner stopped"
                ),
                Err(error) => tracing::error!(
                    "response runner failed: {}",
                    rampart_event::error_chain(&error)
                ),
            })
            .map_err(|source| crate::ServeError::Io {
                what: "cannot start the response runner",
                source,
            })?;
        Ok((
            Responder {
                sender: Mutex::new(sender.clone()),
                paths: setup.playbooks.clone(),
                starter: Mutex::new(Some(starter)),
                runner: Mutex::new(Some(runner)),
                stop_runner,
            },
            sender,
        ))
    }

    /// Reads the playbooks again; the responder uses them from its next batch on.
    /// Returns how many were loaded.
    pub fn reload(&self) -> usize {
        let playbooks = load(&self.paths);
        let count = playbooks.len();
        if let Ok(sender) = self.sender.lock() {
            let _ = sender.send(Work::Playbooks(playbooks));
        }
        count
    }

    /// Finishes the batches handed over (call after the committer stopped), then
    /// stops the runner once its sends in flight are recorded.
    pub fn stop(&self) {
        if let Ok(sender) = self.sender.lock() {
            let _ = sender.send(Work::Stop);
        }
        if let Some(handle) = self.starter.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
        }
        self.stop_runner.store(true, Ordering::SeqCst);
        if let Some(handle) = self.runner.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
        }
    }
}
