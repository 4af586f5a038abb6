//! Incidents built the way Rampart builds them: SigmaHQ's Windows rules hunted over
//! EVTX-ATTACK-SAMPLES files, the alerts grouped with the real ATT&CK kill chain.
#![allow(dead_code)]

use rampart_correlate::{group_incidents, kill_chain_from, Incident, IncidentConfig};
use rampart_event::{Alert, Level};
use rampart_ingest::{Input, ReadOptions};
use rampart_knowledge::Knowledge;
use rampart_pipeline::hunt::{self, HuntOptions};
use rampart_pipeline::sink::VecSink;
use rampart_pipeline::{load_rules, CompiledRules, FileSource};
use rampart_respond::react::React;
use rampart_sigma::LoadOptions;
use std::sync::{Arc, OnceLock};

pub fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

pub fn react() -> &'static React {
    static REACT: OnceLock<React> = OnceLock::new();
    REACT.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        React::from_dir(&files.react_dir.unwrap()).unwrap()
    })
}

fn rules() -> Arc<CompiledRules> {
    static RULES: OnceLock<Arc<CompiledRules>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            let paths = [rampart_testkit::data_path("sigma/rules/windows")];
            let loaded =
                load_rules(&paths, &LoadOptions::default(), Level::Informational, None).unwrap();
            loaded.compiled
        })
        .clone()
}

/// The alerts of SigmaHQ's Windows rules on some corpus files (paths below
/// `evtx-attack-samples/`), in the hunt's order.
pub fn hunt(files: &[&str]) -> Vec<Alert> {
    let options = Arc::new(ReadOptions::default());
    let sources: Vec<FileSource> = files
        .iter()
        .map(|name| FileSource {
            input: Input::file(&rampart_testkit::data_path(&format!(
                "evtx-attack-samples/{name}"
            )))
            .unwrap(),
            options: Arc::clone(&options),
        })
        .collect();
    let mut sink = VecSink::default();
    let report = hunt::run(&rules(), &sources, &mut sink, HuntOptions::default(), &()).unwrap();
    assert_eq!(report.unreadable, 0);
    sink.alerts
}

/// The incidents of some alerts, as the store groups them (one-hour gap, by host).
pub fn incidents(alerts: &[Alert]) -> Vec<Incident> {
    let chain = kill_chain_from(knowledge());
    group_incidents(
        alerts.iter().map(|a| (a.id.as_str(), a)),
        &chain,
        &IncidentConfig::default(),
    )
}

/// An incident's alerts, as the store would give them back (by timeline id).
pub fn alerts_of(incident: &Incident, alerts: &[Alert]) -> Vec<Alert> {
    incident
        .timeline
        .iter()
        .filter_map(|entry| alerts.iter().find(|a| a.id == entry.alert_id))
        .cloned()
        .collect()
}
