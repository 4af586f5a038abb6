//! The runner: one thread owns the store and decides, a pool of threads sends.
//!
//! Each turn the deciding thread (1) records the outcomes the senders returned, in
//! one transaction; (2) applies the default of approvals whose deadline passed;
//! (3) hands out free senders to the targets with due steps, one slot at a time in
//! turn from a rotating start (so a target with ten thousand waiting steps gets no
//! more than one with one), never more than the per-target limit in flight, and
//! commits the intent of every step it takes, in one transaction, before handing
//! them to the senders. Memory holds only the steps in flight.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;
use rampart_store::{ClaimedStep, SqliteStore, StepOutcome, StepResult};
use serde::Serialize;

use super::{retry_delay, Actions, EngineError};
use crate::action::{Outcome, OutcomeStatus, PreparedRequest};

/// How a runner works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerConfig {
    /// Sending threads.
    pub workers: usize,
    /// Most steps in flight to one target at a time. Below `workers`, so one slow
    /// target leaves senders for the others.
    pub per_target: usize,
    /// How often the store is looked at for new runs and decisions made by other
    /// processes (the command line's `approve`, a service) when nothing else happens.
    pub poll: Duration,
    /// Stop when nothing is left to do: no step due or in flight, no approval with a
    /// deadline pending (runs waiting for an analyst without one are left waiting).
    pub exit_when_idle: bool,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            workers: 16,
            per_target: 4,
            poll: Duration::from_millis(200),
            exit_when_idle: false,
        }
    }
}

/// What a runner did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunnerStats {
    /// Steps found in flight at start (a runner died before their outcome) and sent
    /// again with their idempotency key.
    pub resumed: u64,
    /// Attempts sent.
    pub sent: u64,
    /// Steps done.
    pub done: u64,
    /// Retries scheduled.
    pub retried: u64,
    /// Steps failed for good.
    pub failed: u64,
    /// Approvals decided by their timeout's default.
    pub approvals_expired: u64,
}

/// A step handed to a sender.
struct Job {
    claimed: ClaimedStep,
    request: Option<PreparedRequest>,
}

/// Sends runs' steps; see the module documentation.
pub struct Runner {
    store: SqliteStore,
    actions: Arc<dyn Actions>,
    config: RunnerConfig,
}

impl Runner {
    /// A runner over `store`. Run one runner per store: a starting runner takes every
    /// step left in flight as abandoned by a dead one.
    pub fn new(store: SqliteStore, actions: Arc<dyn Actions>, config: RunnerConfig) -> Self {
        Runner {
            store,
            actions,
            config,
        }
    }

    /// Runs until `stop` is set (then finishes the sends in flight and records their
    /// outcomes) or, with [`RunnerConfig::exit_when_idle`], until idle.
    pub fn run(mut self, stop: &AtomicBool) -> Result<RunnerStats, EngineError> {
        let mut stats = RunnerStats {
            resumed: self.store.requeue_in_flight()?,
            ..RunnerStats::default()
        };
        let workers = self.config.workers.max(1);
        let per_target = self.config.per_target.max(1);
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(workers);
        let (result_tx, result_rx) = mpsc::channel::<(ClaimedStep, Outcome)>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut pool = Vec::with_capacity(workers);
        for n in 0..workers {
            pool.push(spawn_sender(
                n,
                Arc::clone(&job_rx),
                result_tx.clone(),
                Arc::clone(&self.actions),
            )?);
        }
        drop(result_tx);
        let result = self.decide(stop, &job_tx, &result_rx, workers, per_target, &mut stats);
        drop(job_tx);
        for handle in pool {
            let _ = handle.join();
        }
        result.map(|()| stats)
    }

    fn decide(
        &mut self,
        stop: &AtomicBool,
        jobs: &SyncSender<Job>,
        results: &Receiver<(ClaimedStep, Outcome)>,
        workers: usize,
        per_target: usize,
        stats: &mut RunnerStats,
    ) -> Result<(), EngineError> {
        let mut in_flight: HashMap<String, usize> = HashMap::new();
        let mut total = 0usize;
        let mut turn = 0usize;
        let mut finished: Vec<(ClaimedStep, Outcome)> = Vec::new();
        loop {
            // 1. Outcomes.
            while let Ok(result) = results.try_recv() {
                finished.push(result);
            }
            if !finished.is_empty() {
                let now = Utc::now();
                let mut outcomes = Vec::with_capacity(finished.len());
                for (claimed, outcome) in finished.drain(..) {
                    total -= 1;
                    if let Some(n) = in_flight.get_mut(&claimed.target) {
                        *n -= 1;
                        if *n == 0 {
                            in_flight.remove(&claimed.target);
                        }
                    }
                    let result = match outcome.status {
                        OutcomeStatus::Done => {
                            stats.done += 1;
                            StepResult::Done
                        }
                        OutcomeStatus::Retry if claimed.attempt < claimed.policy.attempts => {
                            stats.retried += 1;
                            let wait =
                                retry_delay(&claimed.policy, claimed.attempt, outcome.retry_after);
                            StepResult::Retry(
                                now + chrono::Duration::from_std(wait)
                                    .unwrap_or(chrono::Duration::zero()),
                            )
                        }
                        OutcomeStatus::Retry | OutcomeStatus::Failed => {
                            stats.failed += 1;
                            StepResult::Failed
                        }
                    };
                    outcomes.push(StepOutcome {
                        run: claimed.run,
                        index: claimed.index,
                        result,
                        outcome: serde_json::to_value(&outcome).unwrap_or_default(),
                    });
                }
                self.store.record_step_outcomes(&outcomes)?;
            }
            let stopping = stop.load(Ordering::Relaxed);
            if stopping && total == 0 {
                return Ok(());
            }

            // 2. Approvals past their deadline.
            let now = Utc::now();
            if !stopping
                && self
                    .store
                    .next_approval_deadline()?
                    .is_some_and(|deadline| deadline <= now)
            {
                stats.approvals_expired += self.store.expire_approvals(now)?;
            }

            // 3. Free senders to due targets, in turn.
            let mut next_due: Option<chrono::DateTime<Utc>> = None;
            let mut claimed_any = false;
            if !stopping && total < workers {
                let targets = self.store.response_queue_targets()?;
                let mut due: Vec<String> = Vec::new();
                for (target, at) in targets {
                    if at <= now {
                        due.push(target);
                    } else {
                        next_due = Some(next_due.map_or(at, |n| n.min(at)));
                    }
                }
                due.sort();
                let allowance = share(&due, &in_flight, workers - total, per_target, turn);
                turn = turn.wrapping_add(1);
                if !allowance.is_empty() {
                    let claimed = self.store.claim_response_steps(now, &allowance)?;
                    for step in claimed {
                        claimed_any = true;
                        total += 1;
                        *in_flight.entry(step.target.clone()).or_default() += 1;
                        stats.sent += 1;
                        let request = serde_json::from_value(step.request.clone()).ok();
                        if jobs
                            .send(Job {
                                claimed: step,
                                request,
                            })
                            .is_err()
                        {
                            // Every sender is gone; what was claimed stays in flight
                            // and is resent by the next runner.
                            return Ok(());
                        }
                    }
                }
            }
            if self.config.exit_when_idle
                && total == 0
                && !claimed_any
                && next_due.is_none()
                && self.store.response_queue_targets()?.is_empty()
                && self.store.next_approval_deadline()?.is_none()
            {
                return Ok(());
            }
            if claimed_any {
                continue;
            }
            // 4. Wait for an outcome, the next due step, or the poll interval.
            let mut wait = self.config.poll;
            if let Some(at) = next_due {
                let until = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                wait = wait.min(until.max(Duration::from_millis(1)));
            }
            let started = Instant::now();
            match results.recv_timeout(wait) {
                Ok(result) => finished.push(result),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    if started.elapsed() < wait {
                        std::thread::sleep(wait - started.elapsed());
                    }
                }
            }
        }
    }
}

/// Hands `free` senders to the due targets one slot at a time, in turn from `turn`,
/// each target up to `per_target` in flight.
fn share(
    due: &[String],
    in_flight: &HashMap<String, usize>,
    free: usize,
    per_target: usize,
    turn: usize,
) -> Vec<(String, usize)> {
    if due.is_empty() || free == 0 {
        return Vec::new();
    }
    let mut given = vec![0usize; due.len()];
    let mut left = free;
    let mut full: HashSet<usize> = HashSet::new();
    let start = turn % due.len();
    while left > 0 && full.len() < due.len() {
        for offset in 0..due.len() {
            let i = (start + offset) % due.len();
            if full.contains(&i) || left == 0 {
                continue;
            }
            let busy = in_flight.get(&due[i]).copied().unwrap_or(0) + given[i];
            if busy >= per_target {
                full.insert(i);
                continue;
            }
            given[i] += 1;
            left -= 1;
        }
    }
    due.iter()
        .zip(given)
        .filter(|(_, n)| *n > 0)
        .map(|(t, n)| (t.clone(), n))
        .collect()
}

fn spawn_sender(
    n: usize,
    jobs: Arc<Mutex<Receiver<Job>>>,
    results: Sender<(ClaimedStep, Outcome)>,
    actions: Arc<dyn Actions>,
) -> Result<JoinHandle<()>, EngineError> {
    std::thread::Builder::new()
        .name(format!("respond-send-{n}"))
        .spawn(move || loop {
            let job = {
                let Ok(guard) = jobs.lock() else { return };
                match guard.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            };
            let outcome = send(&*actions, &job);
            if results.send((job.claimed, outcome)).is_err() {
                return;
            }
        })
        .map_err(EngineError::Spawn)
}

/// Sends one step. A connector that panics (it should not) is a retry, so the step is
/// not lost and the runner's counts stay right.
fn send(actions: &dyn Actions, job: &Job) -> Outcome {
    let Some(request) = &job.request else {
        return failed("the stored request cannot be read".to_owned());
    };
    let Some(connector) = actions.connector(request.connector) else {
        return failed(format!(
            "no {:?} connector is configured",
            request.connector
        ));
    };
    let timeout = Duration::from_millis(job.claimed.policy.timeout_ms.max(1));
    std::panic::catch_unwind(AssertUnwindSafe(|| connector.send(request, timeout))).unwrap_or_else(
        |_| Outcome {
            status: OutcomeStatus::Retry,
            summary: "the connector failed unexpectedly".to_owned(),
            response: None,
            retry_after: None,
        },
    )
}

fn failed(summary: String) -> Outcome {
    Outcome {
        status: OutcomeStatus::Failed,
        summary,
        response: None,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_senders_are_shared_in_turn_up_to_the_per_target_limit() {
        let due: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let mut busy = HashMap::new();
        busy.insert("a".to_owned(), 4);
        let given = share(&due, &busy, 5, 4, 0);
        assert_eq!(given, [("b".to_owned(), 3), ("c".to_owned(), 2)]);
        let turned = share(&due, &HashMap::new(), 1, 4, 2);
        assert_eq!(turned, [("c".to_owned(), 1)]);
        assert!(share(&due, &HashMap::new(), 0, 4, 0).is_empty());
    }
}
