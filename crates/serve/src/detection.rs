//! The ingest queue, the detection thread and the committer (the only writer of alerts).
//!
//! A batch of events is admitted when the events already queued plus its own fit in
//! [`crate::Limits::queue_events`] (a batch larger than the whole queue is admitted
//! only into an empty queue); otherwise the sender gets 429. Admitted batches go
//! through a channel to one detection thread, which takes every batch waiting (up to
//! [`GROUP_EVENTS`] events), scans them on its rayon pool with per-thread scratch and
//! hands the group to a committer thread (scanning the next group meanwhile), which
//! commits all its alerts in **one** store transaction, and only then answers each
//! batch. So an answered batch's alerts are on disk: a `kill -9` after the answer
//! loses none of them, and a sender that resends unanswered batches after a restart
//! duplicates none (alert ids come from the events; inserting a known id is a no-op).
//!
//! Correlation rules run over event time behind a watermark (newest event time −
//! allowed lateness; `correlate::live::StreamingCorrelator`), and incidents grow as
//! alerts are committed (`correlate::live::IncidentTracker`, seeded from the stored
//! incidents at start-up; the incidents a batch changed are stored after it).
//! Correlation windows live in memory and start afresh after a restart or a reload.

use crate::api::body::{Rejected, LISTED_REJECTIONS};
use crate::config::ServeConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::rules::Rules;
use arc_swap::ArcSwap;
use axum::body::Bytes;
use rampart_correlate::live::{IncidentTracker, StreamConfig, StreamingCorrelator, TrackerConfig};
use rampart_event::{Alert, Event};
use rampart_ingest::{Diagnostic, EventBatch, Place, ReadOptions, Sink};
use rampart_pipeline::ScanOptions;
use rampart_store::{AlertRow, RunId, RunSummary, Store};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Events the detection thread takes into one scan and one transaction at most.
pub const GROUP_EVENTS: usize = 50_000;
/// Events per scanning task: a block stays in a core's cache while it is scanned.
const CHUNK_EVENTS: usize = 64;
/// How often a quiet stream's correlation windows are flushed (`tick`).
const TICK: Duration = Duration::from_secs(1);

/// What became of one admitted batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Processed {
    /// Events scanned.
    pub events: u64,
    /// Alerts produced (committed, or already in the store).
    pub alerts: u64,
    /// Lines of a JSON text batch that did not become events (the first
    /// [`LISTED_REJECTIONS`]).
    pub rejected: Vec<Rejected>,
    /// Lines of a JSON text batch that did not become events, all of them.
    pub rejected_count: u64,
}

/// What an admitted batch holds.
enum Payload {
    /// Events read already (watched files, syslog, `_bulk`).
    Events(Vec<Event>),
    /// The JSON text of `POST /api/v1/events`, read on the scanning threads block by
    /// block, each block scanned right after it is read — as `hunt` reads a file — so
    /// its events are scanned while still in the reading core's cache and freed by the
    /// thread that made them.
    Text(JsonText),
}

/// A request body to read as JSON (lines, an array, documents), as the hunt does.
pub struct JsonText {
    /// The decoded body.
    pub text: Bytes,
    /// Longest line read (a longer one is skipped and reported).
    pub max_line_bytes: usize,
    /// More events than this refuse the request whole (422): nothing of it is kept.
    pub max_events: usize,
}

type Reply = oneshot::Sender<Result<Processed, ApiError>>;

/// One block's alerts (made into store rows on the scanning thread), and the (alert,
/// event) pairs correlation rules listen to.
type Scanned = (Vec<AlertRow>, Vec<(Alert, Event)>);

enum Message {
    Batch(Job),
    Stop,
}

struct Job {
    payload: Payload,
    /// Events counted into the queue for it (for JSON text, its lines: an upper
    /// bound of its events but for arrays on one line, whose size the body cap bounds).
    admitted: usize,
    /// Input checkpoints (watched files) committed with the alerts.
    checkpoints: Vec<(String, String)>,
    arrived: Instant,
    reply: Reply,
}

/// The handle on the queue that handlers submit to (cheap to clone).
#[derive(Clone)]
pub struct Detection {
    inner: Arc<Inner>,
}

struct Inner {
    sender: Mutex<mpsc::Sender<Message>>,
    queued: AtomicUsize,
    capacity: usize,
    closed: AtomicBool,
    /// Set when the last commit failed, cleared by the next one that worked.
    store_failing: AtomicBool,
    metrics: Arc<Metrics>,
}

/// The detection thread, to be joined at shutdown.
pub struct DetectionThread {
    handle: std::thread::JoinHandle<Result<(), rampart_store::StoreError>>,
}

impl DetectionThread {
    /// Waits until the thread has committed everything and stopped.
    pub fn join(self) -> Result<(), crate::ServeError> {
        match self.handle.join() {
            Ok(result) => Ok(result?),
            Err(_) => Err(crate::ServeError::Detection),
        }
    }
}

impl Detection {
    /// Starts the detection thread writing to `store` under run `run`.
    pub fn start(
        config: &ServeConfig,
        rules: Arc<ArcSwap<Rules>>,
        store: Box<dyn Store>,
        run: RunId,
        metrics: Arc<Metrics>,
        responder: Option<crate::respond::WorkSender>,
    ) -> Result<(Detection, DetectionThread), crate::ServeError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.threads)
            .thread_name(|index| format!("rampart-detect-{index}"))
            .build()
            .map_err(|error| crate::ServeError::Io {
                what: "cannot start the detection threads",
                source: std::io::Error::other(error),
            })?;
        let (sender, receiver) = mpsc::channel();
        let inner = Arc::new(Inner {
            sender: Mutex::new(sender),
            queued: AtomicUsize::new(0),
            capacity: config.limits.queue_events.max(1),
            closed: AtomicBool::new(false),
            store_failing: AtomicBool::new(false),
            metrics: metrics.clone(),
        });
        let lateness =
            chrono::TimeDelta::from_std(config.allowed_lateness).unwrap_or(chrono::TimeDelta::MAX);
        // Incidents grow alert batch by alert batch from those already stored.
        let seed = store.incidents()?;
        let mut tracker = IncidentTracker::seeded(
            config.kill_chain.clone(),
            TrackerConfig {
                lateness,
                ..TrackerConfig::default()
            },
            seed,
        );
        if let Some(knowledge) = &config.knowledge {
            // Covered: the techniques the running rules are tagged with (again at each
            // reload, when a group scanned with the new rules commits).
            let covered = covered_techniques(&rules.load());
            let predictor = rampart_correlate::next_predictor_from(knowledge);
            tracker = tracker.with_likely_next(Arc::new(predictor), covered);
        }
        let (commits, commit_receiver) = mpsc::sync_channel(COMMITS_WAITING);
        let mut committer = Committer {
            receiver: commit_receiver,
            store,
            run,
            metrics: metrics.clone(),
            inner: inner.clone(),
            tracker,
            events: 0,
            alerts: 0,
            rules_recorded: None,
            responder,
        };
        let committer = std::thread::Builder::new()
            .name("rampart-commit".into())
            .spawn(move || committer.run())
            .map_err(|source| crate::ServeError::Io {
                what: "cannot start the commit thread",
                source,
            })?;
        let mut worker = Worker {
            receiver,
            inner: inner.clone(),
            rules,
            pool,
            full_event: config.full_event,
            lateness,
            metrics,
            stream: None,
            stream_rules: None,
            commits,
        };
        let handle = std::thread::Builder::new()
            .name("rampart-detection".into())
            .spawn(move || {
                worker.run();
                // Closing the channel lets the committer end after the last group.
                drop(worker);
                match committer.join() {
                    Ok(result) => result,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            })
            .map_err(|source| crate::ServeError::Io {
                what: "cannot start the detection thread",
                source,
            })?;
        Ok((Detection { inner }, DetectionThread { handle }))
    }

    /// Admits `events` and waits until their alerts are committed.
    pub async fn process(&self, events: Vec<Event>) -> Result<Processed, ApiError> {
        if events.is_empty() {
            return Ok(Processed::default());
        }
        let admitted = events.len();
        let receiver = self.submit(Payload::Events(events), admitted)?;
        match receiver.await {
            Ok(answer) => answer,
            Err(_) => Err(ApiError::Unavailable("the detection thread stopped".into())),
        }
    }

    /// Admits a JSON text body (read and scanned on the scanning threads) and waits
    /// until its alerts are committed. An empty body is answered at once.
    pub async fn process_text(&self, body: JsonText) -> Result<Processed, ApiError> {
        if body.text.iter().all(u8::is_ascii_whitespace) {
            return Ok(Processed::default());
        }
        let admitted = memchr::memchr_iter(b'\n', &body.text).count() + 1;
        let receiver = self.submit(Payload::Text(body), admitted)?;
        match receiver.await {
            Ok(answer) => answer,
            Err(_) => Err(ApiError::Unavailable("the detection thread stopped".into())),
        }
    }

    /// Events admitted and not yet committed.
    pub fn queued(&self) -> usize {
        self.inner.queued.load(Ordering::Relaxed)
    }

    /// Whether the queue is more than nine-tenths full.
    pub fn saturated(&self) -> bool {
        self.queued() >= self.inner.capacity / 10 * 9
    }

    /// Whether the last store commit failed.
    pub fn store_failing(&self) -> bool {
        self.inner.store_failing.load(Ordering::Relaxed)
    }

    /// Refuses new batches and tells the thread to stop once it has committed the
    /// ones already admitted.
    pub fn close(&self) {
        if !self.inner.closed.swap(true, Ordering::SeqCst) {
            let _ = self.lock_sender().send(Message::Stop);
        }
    }

    /// From a thread outside the runtime (a watched folder, a syslog listener): admits
    /// `events` with the `checkpoints` to commit with their alerts, waiting for room
    /// while the queue is full unless `wait_for_room` is false (then 429's error) or
    /// `stop` is set; then, when `wait_for_commit`, blocks until they are committed.
    pub fn process_blocking(
        &self,
        events: Vec<Event>,
        checkpoints: Vec<(String, String)>,
        wait_for_room: bool,
        wait_for_commit: bool,
        stop: &AtomicBool,
    ) -> Result<Processed, ApiError> {
        let count = events.len();
        loop {
            match self.admit(count) {
                Ok(()) => break,
                Err(ApiError::Saturated { .. })
                    if wait_for_room && !stop.load(Ordering::Relaxed) =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => return Err(error),
            }
        }
        let receiver = self.send(Payload::Events(events), count, checkpoints)?;
        if !wait_for_commit {
            return Ok(Processed {
                events: count as u64,
                ..Processed::default()
            });
        }
        match receiver.blocking_recv() {
            Ok(answer) => answer,
            Err(_) => Err(ApiError::Unavailable("the detection thread stopped".into())),
        }
    }

    fn submit(
        &self,
        payload: Payload,
        admitted: usize,
    ) -> Result<oneshot::Receiver<Result<Processed, ApiError>>, ApiError> {
        self.admit(admitted)?;
        self.send(payload, admitted, Vec::new())
    }

    /// Counts `count` events into the queue, or refuses (429) when they do not fit.
    fn admit(&self, count: usize) -> Result<(), ApiError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(ApiError::Unavailable("the service is stopping".into()));
        }
        let before = self.inner.queued.fetch_add(count, Ordering::SeqCst);
        if before > 0 && before + count > self.inner.capacity {
            self.inner.queued.fetch_sub(count, Ordering::SeqCst);
            self.inner.metrics.saturated.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::Saturated {
                queued: before,
                retry_after: 1,
            });
        }
        Ok(())
    }

    /// Hands an admitted batch to the detection thread.
    fn send(
        &self,
        payload: Payload,
        admitted: usize,
        checkpoints: Vec<(String, String)>,
    ) -> Result<oneshot::Receiver<Result<Processed, ApiError>>, ApiError> {
        let count = admitted;
        let before = self.inner.queued.load(Ordering::SeqCst);
        self.inner
            .metrics
            .queue_events
            .store(before as u64, Ordering::Relaxed);
        if let Payload::Events(events) = &payload {
            // JSON text is counted when it has been read.
            self.inner
                .metrics
                .events_in
                .fetch_add(events.len() as u64, Ordering::Relaxed);
        }
        let (reply, receiver) = oneshot::channel();
        let job = Job {
            payload,
            admitted,
            checkpoints,
            arrived: Instant::now(),
            reply,
        };
        if self.lock_sender().send(Message::Batch(job)).is_err() {
            self.inner.queued.fetch_sub(count, Ordering::SeqCst);
            return Err(ApiError::Unavailable("the detection thread stopped".into()));
        }
        Ok(receiver)
    }

    fn lock_sender(&self) -> std::sync::MutexGuard<'_, mpsc::Sender<Message>> {
        self.inner
            .sender
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The detection thread: groups admitted batches, scans them on its pool, runs the
/// correlations, and hands each group to the committer (then scans the next).
struct Worker {
    receiver: mpsc::Receiver<Message>,
    /// The queue's counter, for batches refused after they were admitted.
    inner: Arc<Inner>,
    rules: Arc<ArcSwap<Rules>>,
    pool: rayon::ThreadPool,
    full_event: bool,
    lateness: chrono::TimeDelta,
    metrics: Arc<Metrics>,
    /// Sigma correlations over event time behind a watermark (rebuilt with the rules).
    stream: Option<StreamingCorrelator>,
    /// The rule set the correlator was built from.
    stream_rules: Option<Arc<Rules>>,
    /// Groups to commit, in order; at most [`COMMITS_WAITING`] wait while one commits.
    commits: mpsc::SyncSender<Commit>,
}

/// Scanned groups waiting for the committer besides the one it commits.
const COMMITS_WAITING: usize = 1;

/// What the detection thread hands the committer.
enum Commit {
    /// A scanned group: its alerts, checkpoints and batches to answer.
    Group(Group),
    /// Alerts a quiet stream's correlation windows fired (`tick`).
    Fired(Vec<Alert>),
    /// The last alerts (what windows still held) and the end of the run.
    Finish {
        fired: Vec<Alert>,
        rules_loaded: u64,
    },
}

struct Group {
    /// The rule set the group was scanned with (its rules are recorded once).
    rules: Arc<Rules>,
    alerts: Vec<AlertRow>,
    checkpoints: Vec<(String, String)>,
    /// Events scanned.
    events: usize,
    /// What its batches counted into the queue.
    admitted: usize,
    answers: Vec<Answer>,
}

/// One batch of a group, answered after the group's commit.
struct Answer {
    processed: Processed,
    arrived: Instant,
    reply: Reply,
}

/// One batch scanned: its alerts and correlation pairs, and for JSON text what the
/// reading found (or why the batch is refused whole).
struct ScannedJob {
    scanned: Scanned,
    events: usize,
    rejected: Vec<Rejected>,
    rejected_count: u64,
    refused: Option<ApiError>,
}

impl Worker {
    fn run(&mut self) {
        let mut last_tick = Instant::now();
        let mut stopping = false;
        while !stopping {
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                if !self.tick() {
                    return;
                }
            }
            let first = match self.receiver.recv_timeout(TICK) {
                Ok(Message::Batch(job)) => job,
                Ok(Message::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
            };
            let mut size = first.admitted;
            let mut jobs = vec![first];
            while size < GROUP_EVENTS {
                match self.receiver.try_recv() {
                    Ok(Message::Batch(job)) => {
                        size += job.admitted;
                        jobs.push(job);
                    }
                    Ok(Message::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                        stopping = true;
                        break;
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            let group = self.scan_group(jobs);
            if self.commits.send(Commit::Group(group)).is_err() {
                // The committer is gone: its error or panic is reported by join.
                return;
            }
        }
        self.finish();
    }

    /// Scans a group of batches and runs its matches through the correlations.
    fn scan_group(&mut self, jobs: Vec<Job>) -> Group {
        let rules = self.rules.load_full();
        self.rebuild_stream(&rules);
        let full_event = self.full_event;
        let mut scanned: Vec<ScannedJob> = self.pool.install(|| {
            jobs.par_iter()
                .map(|job| match &job.payload {
                    Payload::Events(events) => ScannedJob {
                        scanned: scan_events(&rules, events, full_event),
                        events: events.len(),
                        rejected: Vec::new(),
                        rejected_count: 0,
                        refused: None,
                    },
                    Payload::Text(text) => read_and_scan(&rules, text, full_event),
                })
                .collect()
        });
        let mut alerts: Vec<AlertRow> = Vec::new();
        let mut observed = Vec::new();
        let mut answers = Vec::with_capacity(jobs.len());
        let mut checkpoints = Vec::new();
        let mut events = 0;
        let mut admitted = 0;
        let mut freed = Vec::with_capacity(jobs.len());
        for (job, done) in jobs.into_iter().zip(&mut scanned) {
            if let Some(refusal) = done.refused.take() {
                // Refused whole: nothing of it is kept, and it leaves the queue now.
                self.metrics
                    .events_rejected
                    .fetch_add(done.rejected_count, Ordering::Relaxed);
                self.release(job.admitted);
                let _ = job.reply.send(Err(refusal));
                continue;
            }
            if matches!(job.payload, Payload::Text(_)) {
                self.metrics
                    .events_in
                    .fetch_add(done.events as u64, Ordering::Relaxed);
                self.metrics
                    .events_rejected
                    .fetch_add(done.rejected_count, Ordering::Relaxed);
            }
            let (job_alerts, job_observed) = &mut done.scanned;
            answers.push(Answer {
                processed: Processed {
                    events: done.events as u64,
                    alerts: job_alerts.len() as u64,
                    rejected: std::mem::take(&mut done.rejected),
                    rejected_count: done.rejected_count,
                },
                arrived: job.arrived,
                reply: job.reply,
            });
            events += done.events;
            admitted += job.admitted;
            checkpoints.extend(job.checkpoints);
            alerts.append(job_alerts);
            observed.append(job_observed);
            freed.push(job.payload);
        }
        // The events are freed by the pool between scans, off this thread and the
        // committer (the queue still counts them until their group is committed).
        self.pool.spawn(move || drop(freed));
        // Correlations over event time: the group's matches in time order; the
        // correlator holds them behind its watermark (late ones counted, not fed).
        if let Some(stream) = &mut self.stream {
            observed.sort_by_key(|(alert, event)| alert.event.timestamp.or(event.meta.timestamp));
            for (alert, event) in &observed {
                alerts.extend(stream.observe(alert, event).into_iter().map(AlertRow::new));
            }
            self.metrics
                .correlation_late
                .store(stream.late(), Ordering::Relaxed);
        }
        self.pool.spawn(move || drop(observed));
        Group {
            rules,
            alerts,
            checkpoints,
            events,
            admitted,
            answers,
        }
    }

    /// Takes a refused batch's events out of the queue.
    fn release(&self, admitted: usize) {
        let before = self.inner.queued.fetch_sub(admitted, Ordering::SeqCst);
        self.metrics
            .queue_events
            .store(before.saturating_sub(admitted) as u64, Ordering::Relaxed);
    }

    /// Builds the correlator afresh for a rule set the thread has not scanned with
    /// (window state is not carried over a reload).
    fn rebuild_stream(&mut self, rules: &Arc<Rules>) {
        if self
            .stream_rules
            .as_ref()
            .is_some_and(|built| Arc::ptr_eq(built, rules))
        {
            return;
        }
        self.stream = StreamingCorrelator::new(
            &rules.set,
            StreamConfig {
                lateness: self.lateness,
                ..StreamConfig::default()
            },
        )
        .map(|(stream, _warnings)| stream);
        self.stream_rules = Some(rules.clone());
    }

    /// Flushes correlation windows of a quiet stream; false when the committer is gone.
    fn tick(&mut self) -> bool {
        let fired = match &mut self.stream {
            Some(stream) => stream.tick(Instant::now()),
            None => return true,
        };
        fired.is_empty() || self.commits.send(Commit::Fired(fired)).is_ok()
    }

    /// After the last batch: what correlation windows still hold, then the run's end.
    fn finish(&mut self) {
        let rules = self.rules.load_full();
        let fired = match &mut self.stream {
            Some(stream) => stream.finish(),
            None => Vec::new(),
        };
        let _ = self.commits.send(Commit::Finish {
            fired,
            rules_loaded: rules.engine.rule_count() as u64,
        });
    }
}

/// The committer thread: the only writer of the store. Commits groups in the order
/// they were scanned, answers their batches, grows incidents, records the run.
struct Committer {
    receiver: mpsc::Receiver<Commit>,
    store: Box<dyn Store>,
    run: RunId,
    metrics: Arc<Metrics>,
    inner: Arc<Inner>,
    /// Alerts → incidents, as they are committed.
    tracker: IncidentTracker,
    events: u64,
    alerts: u64,
    /// The rule set whose rules were last recorded in the store.
    rules_recorded: Option<Arc<Rules>>,
    /// The responder thread, fed the alerts and incidents of each commit.
    responder: Option<crate::respond::WorkSender>,
}

impl Committer {
    fn run(&mut self) -> Result<(), rampart_store::StoreError> {
        while let Ok(commit) = self.receiver.recv() {
            match commit {
                Commit::Group(group) => self.commit_group(group),
                Commit::Fired(fired) => {
                    if let Err(message) = self.commit(&rows(fired), &[]) {
                        tracing::error!("{message}");
                    }
                }
                Commit::Finish {
                    fired,
                    rules_loaded,
                } => {
                    if let Err(message) = self.commit(&rows(fired), &[]) {
                        tracing::error!("{message}");
                    }
                    return self.store.finish_run(
                        self.run,
                        &RunSummary {
                            files: 0,
                            events: self.events,
                            rules_loaded,
                            alerts: self.alerts,
                        },
                    );
                }
            }
        }
        // The detection thread stopped without finishing (it panicked): its join
        // reports that; the run stays open as after a crash.
        Ok(())
    }

    /// Commits a group's alerts and checkpoints in one transaction, answers each batch.
    fn commit_group(&mut self, group: Group) {
        self.record_rules(&group.rules);
        let result = self.commit(&group.alerts, &group.checkpoints);
        self.inner
            .queued
            .fetch_sub(group.admitted, Ordering::SeqCst);
        self.metrics.queue_events.store(
            self.inner.queued.load(Ordering::SeqCst) as u64,
            Ordering::Relaxed,
        );
        if result.is_ok() {
            self.events += group.events as u64;
            self.metrics
                .events_processed
                .fetch_add(group.events as u64, Ordering::Relaxed);
        }
        for answer in group.answers {
            let reply = match &result {
                Ok(()) => {
                    self.metrics.observe_latency(answer.arrived.elapsed());
                    Ok(answer.processed)
                }
                Err(message) => Err(ApiError::Internal(message.clone())),
            };
            // The sender may have gone (timeout, closed connection): the alerts are
            // committed all the same.
            let _ = answer.reply.send(reply);
        }
    }

    /// Commits alerts and input checkpoints in one transaction.
    fn commit(
        &mut self,
        alerts: &[AlertRow],
        checkpoints: &[(String, String)],
    ) -> Result<(), String> {
        if alerts.is_empty() && checkpoints.is_empty() {
            return Ok(());
        }
        match self.store.commit_rows(self.run, alerts, checkpoints) {
            Ok(outcome) => {
                // The alerts new to the store are the ones incidents gain (a resent
                // batch adds nothing twice).
                let fresh: Vec<&AlertRow> = outcome
                    .added
                    .iter()
                    .filter_map(|&index| alerts.get(index))
                    .collect();
                let incidents = self.track(&fresh);
                if let Some(responder) = &self.responder {
                    if !fresh.is_empty() || !incidents.is_empty() {
                        // Blocks when the responder is behind: commits slow down
                        // rather than runs being lost.
                        let _ = responder.send(crate::respond::Work::Batch {
                            alerts: fresh.iter().map(|row| row.alert().clone()).collect(),
                            incidents,
                        });
                    }
                }
                self.inner.store_failing.store(false, Ordering::Relaxed);
                self.alerts += alerts.len() as u64;
                self.metrics
                    .alerts_out
                    .fetch_add(alerts.len() as u64, Ordering::Relaxed);
                self.metrics
                    .alerts_stored
                    .fetch_add(outcome.inserted, Ordering::Relaxed);
                self.metrics
                    .count_rules(alerts.iter().map(|row| row.alert().rule_id.as_str()));
                Ok(())
            }
            Err(error) => {
                self.inner.store_failing.store(true, Ordering::Relaxed);
                self.metrics.commit_errors.fetch_add(1, Ordering::Relaxed);
                let message = rampart_event::error_chain(&error);
                tracing::error!("alerts not committed: {message}");
                Err(format!("alerts not committed: {message}"))
            }
        }
    }

    /// Records the rules of a set the first time a group scanned with it commits, and
    /// ranks likely next techniques against what they cover from then on.
    fn record_rules(&mut self, rules: &Arc<Rules>) {
        if self
            .rules_recorded
            .as_ref()
            .is_some_and(|recorded| Arc::ptr_eq(recorded, rules))
        {
            return;
        }
        self.tracker.set_covered(covered_techniques(rules));
        let infos: Vec<rampart_store::RuleInfo> = rules
            .set
            .rules
            .iter()
            .map(|rule| rampart_store::RuleInfo {
                id: rule.alert_id(),
                title: rule.title.clone(),
                level: rule.level,
                techniques: rule.attack.techniques.clone(),
            })
            .collect();
        match self.store.record_rules(self.run, &infos) {
            Ok(()) => self.rules_recorded = Some(rules.clone()),
            Err(error) => tracing::warn!(
                "rules not recorded in the store: {}",
                rampart_event::error_chain(&error)
            ),
        }
    }

    /// Adds newly stored alerts to their incidents and stores the incidents changed.
    /// Returns the incidents changed when a responder wants them.
    fn track(&mut self, fresh: &[&AlertRow]) -> Vec<rampart_correlate::Incident> {
        if fresh.is_empty() {
            return Vec::new();
        }
        let changes = self
            .tracker
            .add(fresh.iter().map(|row| (row.id(), row.alert())));
        if !changes.retired.is_empty() {
            tracing::debug!(
                retired = changes.retired.len(),
                "incidents merged into earlier ones"
            );
        }
        self.metrics
            .incidents_open
            .store(self.tracker.open() as u64, Ordering::Relaxed);
        if let Err(error) = self.store.upsert_incidents(&changes.changed) {
            tracing::warn!(
                "incidents not stored: {}",
                rampart_event::error_chain(&error)
            );
            return Vec::new();
        }
        for merged in &changes.retired {
            if let Err(error) = self
                .store
                .retire_incidents(std::slice::from_ref(&merged.id), &merged.into)
            {
                tracing::warn!(
                    "merged incident not retired: {}",
                    rampart_event::error_chain(&error)
                );
            }
        }
        if self.responder.is_some() {
            changes.changed
        } else {
            Vec::new()
        }
    }
}

/// The techniques `rules` are tagged with (upper-case ids): what likely-next
/// suggestions leave out as covered.
fn covered_techniques(rules: &Rules) -> std::collections::HashSet<String> {
    rules
        .set
        .rules
        .iter()
        .flat_map(|rule| rule.attack.techniques.iter())
        .map(|technique| technique.to_ascii_uppercase())
        .collect()
}

/// Scans events already read, in blocks of [`CHUNK_EVENTS`] on the pool.
fn scan_events(rules: &Rules, events: &[Event], full_event: bool) -> Scanned {
    events
        .par_chunks(CHUNK_EVENTS)
        .map(|chunk| scan(rules, chunk, full_event))
        .reduce(
            || (Vec::new(), Vec::new()),
            |mut a, mut b| {
                a.0.append(&mut b.0);
                a.1.append(&mut b.1);
                a
            },
        )
}

/// Reads JSON text with the reader `hunt` uses for files, in parallel on the pool,
/// each block of events scanned on the thread that read it right after it was read.
fn read_and_scan(rules: &Rules, text: &JsonText, full_event: bool) -> ScannedJob {
    let options = ReadOptions {
        parallel: true,
        max_line_bytes: text.max_line_bytes,
        max_diagnostics: LISTED_REJECTIONS as u64,
        ..ReadOptions::default()
    };
    let sink = ScanSink {
        rules,
        full_event,
        max_events: text.max_events,
        state: Mutex::new(ScanState::default()),
    };
    let name: Arc<str> = Arc::from("http");
    let read = rampart_ingest::read_json(&text.text[..], &name, &options, &sink);
    let mut state = sink
        .state
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let rejected_count = read.as_ref().map_or(0, |stats| stats.records_skipped);
    let refused = match read {
        Err(error) => Some(ApiError::BadRequest(rampart_event::error_chain(&error))),
        Ok(_) if state.overflow => Some(ApiError::Unprocessable(format!(
            "more than {} events in one request; send smaller batches",
            text.max_events
        ))),
        Ok(_) => None,
    };
    // Blocks finish in any order: put them back in body order, so alerts and
    // correlation ties come out as from events read beforehand.
    state.blocks.sort_unstable_by_key(|(seq, _)| *seq);
    let mut alerts = Vec::new();
    let mut observed = Vec::new();
    for (_, (mut block_alerts, mut block_observed)) in state.blocks {
        alerts.append(&mut block_alerts);
        observed.append(&mut block_observed);
    }
    ScannedJob {
        scanned: (alerts, observed),
        events: state.events,
        rejected: state.rejected,
        rejected_count,
        refused,
    }
}

#[derive(Default)]
struct ScanState {
    blocks: Vec<(u64, Scanned)>,
    events: usize,
    rejected: Vec<Rejected>,
    overflow: bool,
}

/// Scans each block of events the reader hands over, on the thread that read it.
struct ScanSink<'a> {
    rules: &'a Rules,
    full_event: bool,
    max_events: usize,
    state: Mutex<ScanState>,
}

impl ScanSink<'_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, ScanState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Sink for ScanSink<'_> {
    fn events(&self, batch: EventBatch) {
        if batch.events.is_empty() || self.lock().overflow {
            return;
        }
        let scanned = scan(self.rules, &batch.events, self.full_event);
        let mut state = self.lock();
        state.events += batch.events.len();
        if state.events > self.max_events {
            // Past the cap the request is refused whole: nothing more is kept.
            state.overflow = true;
            state.blocks = Vec::new();
            return;
        }
        state.blocks.push((batch.seq, scanned));
    }

    fn diagnostic(&self, diagnostic: Diagnostic) {
        let mut state = self.lock();
        if state.rejected.len() < LISTED_REJECTIONS {
            let line = match diagnostic.place {
                Place::Line(line) => line,
                _ => 0,
            };
            state.rejected.push(Rejected {
                line,
                reason: diagnostic.message,
            });
        }
    }

    fn stopped(&self) -> bool {
        self.lock().overflow
    }
}

/// Scans one block of events (the pipeline's scan, with this thread's scratch): the
/// alerts to store, made into rows here (their JSON and ids cost more than their
/// insert, and the scanning threads run in parallel where the committer cannot), and
/// the (alert, event) pairs correlation rules listen to.
fn scan(rules: &Rules, events: &[Event], full_event: bool) -> Scanned {
    let scanned = rules.compiled.scan_events(
        events,
        ScanOptions {
            full_event,
            all_matches: false,
        },
    );
    (rows(scanned.alerts), scanned.for_correlation)
}

/// Alerts as store rows.
fn rows(alerts: Vec<Alert>) -> Vec<AlertRow> {
    alerts.into_iter().map(AlertRow::new).collect()
}
