//! Automatic starts: new alerts and new or grown incidents matched against the loaded
//! playbooks' triggers, and a run started for each match.
//!
//! One playbook runs at most once per subject: before starting, the store is asked for
//! a live run of the same playbook for the same alert or incident, so an incident that
//! grows (and is matched again) does not start the same playbook twice, and a hunt run
//! again over the same files starts nothing new. Dry runs (previews) do not count.
//! A subject whose conditions do not hold starts nothing and is counted.
//!
//! The check and the start are two steps: one starter per store (the service's
//! responder thread, or a hunt) keeps them together.

use std::sync::Arc;

use rampart_correlate::Incident;
use rampart_enrich::PyramidClassifier;
use rampart_event::Alert;
use rampart_store::{ResponseRunId, RunMode, SqliteStore};
use serde::Serialize;

use crate::engine::{start_run, Actions, EngineError, RunRequest};
use crate::playbook::{extract_inputs, failed_conditions, Playbook, Subject, SubjectRef};

/// What automatic starts did for one batch of subjects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AutoReport {
    /// Runs started: (run, playbook, subject kind, subject id).
    pub started: Vec<StartedRun>,
    /// Matches passed over because the playbook already ran for the subject.
    pub already_running: u64,
    /// Matches whose conditions did not hold.
    pub conditions_failed: u64,
    /// Matches whose run could not be started (the message says why).
    pub errors: Vec<String>,
}

/// A run started automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartedRun {
    /// The run.
    pub run: ResponseRunId,
    /// Its playbook.
    pub playbook: String,
    /// `alert` or `incident`.
    pub subject_kind: String,
    /// The alert's or incident's id.
    pub subject_id: String,
}

impl AutoReport {
    /// Adds another report's figures to this one.
    pub fn absorb(&mut self, other: AutoReport) {
        self.started.extend(other.started);
        self.already_running += other.already_running;
        self.conditions_failed += other.conditions_failed;
        self.errors.extend(other.errors);
    }
}

/// Starts runs for matching playbooks; see the module documentation.
pub struct AutoStarter {
    playbooks: Vec<Arc<Playbook>>,
    pyramid: Arc<PyramidClassifier>,
    actions: Arc<dyn Actions>,
    started_by: String,
}

impl AutoStarter {
    /// A starter over these playbooks; runs are recorded as started by `started_by`.
    pub fn new(
        playbooks: Vec<Arc<Playbook>>,
        pyramid: Arc<PyramidClassifier>,
        actions: Arc<dyn Actions>,
        started_by: &str,
    ) -> Self {
        AutoStarter {
            playbooks,
            pyramid,
            actions,
            started_by: started_by.to_owned(),
        }
    }

    /// The same starter with other playbooks (after a reload).
    pub fn set_playbooks(&mut self, playbooks: Vec<Arc<Playbook>>) {
        self.playbooks = playbooks;
    }

    /// Whether any playbook triggers on incidents (else callers need not gather their
    /// alerts).
    pub fn wants_incidents(&self) -> bool {
        self.playbooks
            .iter()
            .any(|p| p.trigger.on == Subject::Incident)
    }

    /// Whether any playbook triggers on alerts.
    pub fn wants_alerts(&self) -> bool {
        self.playbooks
            .iter()
            .any(|p| p.trigger.on == Subject::Alert)
    }

    /// Starts the matching playbooks for each alert.
    pub fn alerts(&self, store: &mut SqliteStore, alerts: &[Alert]) -> AutoReport {
        let mut report = AutoReport::default();
        for alert in alerts {
            for playbook in &self.playbooks {
                if playbook.trigger.matches_alert(alert, &self.pyramid) {
                    self.start(store, playbook, SubjectRef::Alert(alert), &mut report);
                }
            }
        }
        report
    }

    /// Starts the matching playbooks for an incident with its alerts as stored.
    pub fn incident(
        &self,
        store: &mut SqliteStore,
        incident: &Incident,
        alerts: &[Alert],
    ) -> AutoReport {
        let mut report = AutoReport::default();
        for playbook in &self.playbooks {
            if playbook
                .trigger
                .matches_incident(incident, alerts, &self.pyramid)
            {
                self.start(
                    store,
                    playbook,
                    SubjectRef::Incident { incident, alerts },
                    &mut report,
                );
            }
        }
        report
    }

    fn start(
        &self,
        store: &mut SqliteStore,
        playbook: &Playbook,
        subject: SubjectRef<'_>,
        report: &mut AutoReport,
    ) {
        let kind = match subject {
            SubjectRef::Alert(_) => "alert",
            SubjectRef::Incident { .. } => "incident",
        };
        let id = subject.id();
        match store.live_response_run_of(&playbook.id, kind, &id) {
            Ok(Some(_)) => {
                report.already_running += 1;
                return;
            }
            Ok(None) => {}
            Err(error) => {
                report.errors.push(format!(
                    "playbook {} for {kind} {id}: {}",
                    playbook.id,
                    rampart_event::error_chain(&error)
                ));
                return;
            }
        }
        let inputs = extract_inputs(playbook, subject);
        if !failed_conditions(playbook, &inputs.values).is_empty() {
            report.conditions_failed += 1;
            return;
        }
        let request = RunRequest {
            playbook,
            subject_kind: kind,
            subject_id: &id,
            inputs: &inputs.values,
            mode: RunMode::Live,
            started_by: &self.started_by,
        };
        match start_run(store, &request, self.actions.as_ref()) {
            Ok(run) => report.started.push(StartedRun {
                run,
                playbook: playbook.id.clone(),
                subject_kind: kind.to_owned(),
                subject_id: id,
            }),
            Err(error) => report.errors.push(format!(
                "playbook {} for {kind} {id}: {}",
                playbook.id,
                rampart_event::error_chain(&error)
            )),
        }
    }
}

/// Starts runs for every matching playbook over a batch: alerts first, then each
/// incident with its alerts (`alerts_of` gives them, from the store or memory).
pub fn start_for_batch(
    starter: &AutoStarter,
    store: &mut SqliteStore,
    alerts: &[Alert],
    incidents: &[Incident],
    mut alerts_of: impl FnMut(&SqliteStore, &Incident) -> Result<Vec<Alert>, EngineError>,
) -> AutoReport {
    let mut report = AutoReport::default();
    if starter.wants_alerts() {
        report.absorb(starter.alerts(store, alerts));
    }
    if starter.wants_incidents() {
        for incident in incidents {
            match alerts_of(store, incident) {
                Ok(alerts) => report.absorb(starter.incident(store, incident, &alerts)),
                Err(error) => report.errors.push(format!(
                    "incident {}: {}",
                    incident.id,
                    rampart_event::error_chain(&error)
                )),
            }
        }
    }
    report
}

/// An incident's alerts as stored, looked up by its timeline (which lists at most a
/// capped number of them: the trigger and the inputs see those).
pub fn stored_alerts_of(
    store: &SqliteStore,
    incident: &Incident,
) -> Result<Vec<Alert>, EngineError> {
    use rampart_store::Store;
    let mut alerts = Vec::with_capacity(incident.timeline.len());
    for entry in &incident.timeline {
        if let Some(stored) = store.alert(&entry.alert_id)? {
            alerts.push(stored.alert);
        }
    }
    Ok(alerts)
}

/// The connectors of a configuration file (YAML, [`crate::action::ConnectorConfig`]),
/// or the defaults (HTTP with the web PKI's roots, no SMTP, no commands) without one;
/// secrets from its secrets file and this process's `RAMPART_SECRET_*` variables.
pub fn connectors_from_file(
    path: Option<&std::path::Path>,
) -> Result<crate::action::Connectors, crate::RespondError> {
    let config = match path {
        None => crate::action::ConnectorConfig::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| {
                crate::RespondError::ReadConfig {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
            serde_yaml::from_str(&text).map_err(|e| crate::RespondError::Config {
                message: format!("{}: {e}", path.display()),
            })?
        }
    };
    crate::action::Connectors::from_config(config)
}

/// The pyramid-of-pain classifier triggers use: ATT&CK software names and aliases
/// are its tools (as the enricher's), none without knowledge.
pub fn pyramid_classifier(knowledge: Option<&rampart_knowledge::Knowledge>) -> PyramidClassifier {
    let tools: Vec<String> = knowledge
        .map(|knowledge| {
            knowledge
                .enterprise()
                .software
                .iter()
                .flat_map(|s| std::iter::once(s.meta.name.clone()).chain(s.aliases.iter().cloned()))
                .collect()
        })
        .unwrap_or_default();
    PyramidClassifier::new(tools)
}

/// Starts the matching playbooks for what one hunt run stored: its alerts, and the
/// incidents holding any of them (as regrouped after the run).
pub fn start_for_hunt(
    starter: &AutoStarter,
    store: &mut SqliteStore,
    run: rampart_store::RunId,
) -> Result<AutoReport, EngineError> {
    use rampart_store::{AlertQuery, Store};
    let stored = store.alerts(&AlertQuery::default())?;
    let ids: std::collections::HashSet<&str> = stored
        .iter()
        .filter(|a| a.run == run)
        .map(|a| a.id.as_str())
        .collect();
    let alerts: Vec<Alert> = stored
        .iter()
        .filter(|a| a.run == run)
        .map(|a| a.alert.clone())
        .collect();
    let incidents: Vec<Incident> = store
        .incidents()?
        .into_iter()
        .filter(|incident| {
            incident
                .timeline
                .iter()
                .any(|entry| ids.contains(entry.alert_id.as_str()))
        })
        .collect();
    Ok(start_for_batch(
        starter,
        store,
        &alerts,
        &incidents,
        stored_alerts_of,
    ))
}

/// Runs a runner over `store` until every run of `runs` is finished or waits for an
/// analyst (an approval step is left waiting, whatever its timeout), then stops it
/// once its sends in flight are recorded. Returns what the runner did and the runs as
/// they stand.
pub fn run_until_settled(
    store: &std::path::Path,
    actions: Arc<dyn Actions>,
    config: crate::engine::RunnerConfig,
    runs: &[ResponseRunId],
) -> Result<(crate::engine::RunnerStats, Vec<rampart_store::ResponseRun>), EngineError> {
    use rampart_store::ResponseRunState;
    use std::sync::atomic::{AtomicBool, Ordering};
    let runner = crate::engine::Runner::new(SqliteStore::open(store)?, actions, config);
    let watch = SqliteStore::open(store)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let handle = std::thread::Builder::new()
        .name("rampart-runner".into())
        .spawn(move || runner.run(&flag))
        .map_err(EngineError::Spawn)?;
    let settled = |watch: &SqliteStore| -> Result<Vec<rampart_store::ResponseRun>, EngineError> {
        let mut states = Vec::with_capacity(runs.len());
        for &run in runs {
            if let Some(detail) = watch.response_run(run)? {
                states.push(detail.run);
            }
        }
        Ok(states)
    };
    let result = loop {
        match settled(&watch) {
            Ok(states)
                if states.iter().all(|run| {
                    run.state.is_finished() || run.state == ResponseRunState::AwaitingApproval
                }) =>
            {
                break Ok(());
            }
            Ok(_) if handle.is_finished() => break Ok(()),
            Ok(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            Err(error) => break Err(error),
        }
    };
    stop.store(true, Ordering::SeqCst);
    let stats = match handle.join() {
        Ok(stats) => stats?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    result?;
    Ok((stats, settled(&watch)?))
}
