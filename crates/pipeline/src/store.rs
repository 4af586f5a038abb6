//! The store sink: a hunt's alerts into the store (also used by `alerts import`).
//!
//! Usage, in the order a hunt calls it:
//!
//! ```text
//! let mut sink = StoreSink::open(&db, RunInfo { command, inputs, rule_sources })?;
//! sink.record_rules(&rule_infos)?;          // optional: lets `incidents show` tell coverage
//! for alert in alerts { sink.write(&alert)?; }
//! let report = sink.finish(RunSummary { .. }, knowledge.as_ref())?;
//! eprintln!("{report}");
//! ```
//!
//! Alerts are buffered and committed in batches of [`BATCH`]; [`StoreSink::committed`]
//! counts only alerts whose transaction committed, so a number printed from it survives
//! a kill. `finish` commits the rest, records the run's end and regroups all stored
//! alerts into incidents (kill-chain order from the knowledge graph when given).
//! [`StoreTee`] writes to the store and an output at once, the store first.

use crate::{AlertSink, Error};
use rampart_correlate::{group_incidents, kill_chain_from, IncidentConfig, KillChain};
use rampart_event::terminal::Escaped;
use rampart_event::Alert;
use rampart_knowledge::Knowledge;
use rampart_store::{AlertQuery, RuleInfo, RunId, RunInfo, RunSummary, Store};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Alerts per transaction: large enough that fsyncs do not dominate, small enough that
/// a kill loses little.
pub const BATCH: usize = 500;

/// Writes a hunt's alerts into the store.
pub struct StoreSink {
    store: Box<dyn Store>,
    run: RunId,
    buffer: Vec<Alert>,
    committed: u64,
    duplicates: u64,
    canonical: HashMap<Arc<str>, Arc<str>>,
    config: IncidentConfig,
}

/// What a finished run did to the store.
#[derive(Debug, Clone)]
pub struct StoreReport {
    /// The store file.
    pub path: PathBuf,
    /// Run id.
    pub run: RunId,
    /// New alerts committed.
    pub added: u64,
    /// Alerts already in the store.
    pub duplicates: u64,
    /// Alerts in the store now.
    pub total_alerts: usize,
    /// Incidents in the store now.
    pub incidents: usize,
}

impl fmt::Display for StoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "store {}: run {} added {} alert(s) ({} already stored); {} alert(s) in {} incident(s)",
            Escaped(&self.path.display().to_string()),
            self.run,
            self.added,
            self.duplicates,
            self.total_alerts,
            self.incidents
        )
    }
}

impl StoreSink {
    /// Opens (creating if needed) the store at `db` and records the start of a run.
    pub fn open(db: &Path, info: RunInfo) -> Result<Self, Error> {
        let mut store = rampart_store::open(db)?;
        let run = store.begin_run(&info)?;
        Ok(StoreSink {
            store,
            run,
            buffer: Vec::with_capacity(BATCH),
            committed: 0,
            duplicates: 0,
            canonical: HashMap::new(),
            config: IncidentConfig::default(),
        })
    }

    /// Sets how incidents are grouped at [`StoreSink::finish`].
    pub fn with_incident_config(mut self, config: IncidentConfig) -> Self {
        self.config = config;
        self
    }

    /// Records the rules the run loaded (for coverage in `incidents show`).
    pub fn record_rules(&mut self, rules: &[RuleInfo]) -> Result<(), Error> {
        Ok(self.store.record_rules(self.run, rules)?)
    }

    /// Buffers one alert; commits a batch when the buffer is full.
    pub fn write(&mut self, alert: &Alert) -> Result<(), Error> {
        let mut alert = alert.clone();
        alert.event.source = self.canonical_source(&alert.event.source);
        // Imported alert files are input like any other: their context is held to the
        // bounds a hunt keeps.
        rampart_event::cap_context(&mut alert.context);
        self.buffer.push(alert);
        if self.buffer.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Alerts whose transaction committed so far (new ones, not duplicates).
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// Commits the buffered alerts now.
    pub fn flush(&mut self) -> Result<(), Error> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let outcome = self.store.insert_alerts(self.run, &self.buffer)?;
        self.buffer.clear();
        self.committed += outcome.inserted;
        self.duplicates += outcome.duplicates;
        Ok(())
    }

    /// Commits the rest, records the run's end, and regroups every stored alert into
    /// incidents. Without `knowledge`, incidents still group but tactics are ordered by
    /// name and scores get no kill-chain reach.
    pub fn finish(
        mut self,
        summary: RunSummary,
        knowledge: Option<&Knowledge>,
    ) -> Result<StoreReport, Error> {
        self.flush()?;
        self.store.finish_run(self.run, &summary)?;
        let kill_chain = knowledge.map(kill_chain_from).unwrap_or_default();
        let (total_alerts, incidents) =
            rebuild_incidents(self.store.as_mut(), &kill_chain, &self.config)?;
        Ok(StoreReport {
            path: self.store.location().to_path_buf(),
            run: self.run,
            added: self.committed,
            duplicates: self.duplicates,
            total_alerts,
            incidents,
        })
    }

    /// The source path in canonical form, so the same file hunted through another
    /// path spelling keeps the same dedup keys. Non-paths (`-`) stay as they are.
    fn canonical_source(&mut self, source: &Arc<str>) -> Arc<str> {
        if let Some(known) = self.canonical.get(source) {
            return known.clone();
        }
        let canonical: Arc<str> = match std::fs::canonicalize(&**source) {
            Ok(path) => path.to_string_lossy().into(),
            Err(_) => source.clone(),
        };
        self.canonical.insert(source.clone(), canonical.clone());
        canonical
    }
}

/// Regroups every alert in the store into incidents and replaces the stored ones.
/// Returns (alerts, incidents).
pub fn rebuild_incidents(
    store: &mut dyn Store,
    kill_chain: &KillChain,
    config: &IncidentConfig,
) -> Result<(usize, usize), Error> {
    let alerts = store
        .alerts(&AlertQuery::default())
        .map_err(Error::ReadAlerts)?;
    let incidents = group_incidents(
        alerts.iter().map(|a| (a.id.as_str(), &a.alert)),
        kill_chain,
        config,
    );
    store.replace_incidents(&incidents)?;
    Ok((alerts.len(), incidents.len()))
}

/// The store's view of loaded Sigma rules: id, title, level and technique tags.
pub fn rule_infos(set: &rampart_sigma::RuleSet) -> Vec<RuleInfo> {
    set.rules
        .iter()
        .map(|rule| RuleInfo {
            id: rule.alert_id(),
            title: rule.title.clone(),
            level: rule.level,
            techniques: rule.attack.techniques.clone(),
        })
        .collect()
}

/// Writes every alert to the store and to an output sink. The store does not depend on
/// the output: when the output fails (stdout closed by `| head`, a full disk) the tee
/// stops writing output, keeps the first error for the caller to report after the run
/// is finished, and goes on storing every alert. The store sink stays shared so the
/// caller can finish the run (and regroup incidents) after the output is flushed.
pub struct StoreTee<'a> {
    output: Box<dyn AlertSink + Send + 'a>,
    store: Arc<Mutex<StoreSink>>,
    output_error: Arc<Mutex<Option<io::Error>>>,
}

impl<'a> StoreTee<'a> {
    /// A tee in front of `output` and `store`; the first output error goes to
    /// `output_error`.
    pub fn new(
        output: Box<dyn AlertSink + Send + 'a>,
        store: Arc<Mutex<StoreSink>>,
        output_error: Arc<Mutex<Option<io::Error>>>,
    ) -> Self {
        StoreTee {
            output,
            store,
            output_error,
        }
    }

    fn store(&self) -> MutexGuard<'_, StoreSink> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `write` on the output unless it already failed; keeps its first error.
    fn write_output(
        &mut self,
        write: impl FnOnce(&mut (dyn AlertSink + Send + 'a)) -> io::Result<()>,
    ) {
        let mut failed = self
            .output_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failed.is_none() {
            if let Err(error) = write(self.output.as_mut()) {
                *failed = Some(error);
            }
        }
    }
}

impl AlertSink for StoreTee<'_> {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        self.store().write(alert).map_err(io::Error::other)?;
        self.write_output(|output| output.write(alert));
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.store().flush().map_err(io::Error::other)?;
        self.write_output(|output| output.finish());
        Ok(())
    }
}
