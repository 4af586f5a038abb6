#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The pipeline's seams on the real corpus: in-memory sources and sinks against file
//! sources, thread counts, correlation replay and the store sink on a real SQLite file.

use rampart_event::{Alert, Level};
use rampart_ingest::{Input, ReadOptions};
use rampart_pipeline::hunt::{self, HuntOptions};
use rampart_pipeline::sink::VecSink;
use rampart_pipeline::store::{rule_infos, StoreSink, StoreTee};
use rampart_pipeline::{
    load_rules, AlertSink, CompiledRules, EventSource, FileSource, ScanOptions, VecSource,
};
use rampart_sigma::LoadOptions;
use rampart_store::{RunInfo, RunSummary};
use rampart_testkit::data_path;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

fn corpus_files() -> Vec<PathBuf> {
    [
        "Defense Evasion/DE_1102_security_log_cleared.evtx",
        "Credential Access/CA_DCSync_4662.evtx",
        "Credential Access/CA_hashdump_4663_4656_lsass_access.evtx",
        "Lateral Movement/LM_5145_Remote_FileCopy.evtx",
        "Lateral Movement/LM_4624_mimikatz_sekurlsa_pth_source_machine.evtx",
    ]
    .iter()
    .map(|name| data_path(&format!("evtx-attack-samples/{name}")))
    .collect()
}

fn windows_rules() -> Arc<CompiledRules> {
    let paths = [
        data_path("sigma/rules/windows/builtin"),
        data_path("sigma/rules/windows/process_access"),
    ];
    let loaded = load_rules(&paths, &LoadOptions::default(), Level::Informational, None).unwrap();
    assert!(loaded.compiled.engine.rule_count() > 100);
    loaded.compiled
}

fn file_sources(paths: &[PathBuf]) -> Vec<FileSource> {
    let options = Arc::new(ReadOptions::default());
    paths
        .iter()
        .map(|path| FileSource {
            input: Input::file(path).unwrap(),
            options: Arc::clone(&options),
        })
        .collect()
}

fn run<S: EventSource>(rules: &CompiledRules, sources: &[S], threads: usize) -> Vec<Alert> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let mut sink = VecSink::default();
    let report = pool
        .install(|| hunt::run(rules, sources, &mut sink, HuntOptions::default(), &()))
        .unwrap();
    assert_eq!(report.alerts, sink.alerts.len() as u64);
    assert_eq!(report.unreadable, 0);
    sink.alerts
}

fn ids(alerts: &[Alert]) -> Vec<String> {
    alerts.iter().map(|alert| alert.id.clone()).collect()
}

#[test]
fn events_from_memory_give_the_alerts_of_the_file_hunt_in_the_same_order() {
    let rules = windows_rules();
    let files = corpus_files();
    let from_files = run(&rules, &file_sources(&files), 2);
    let from_memory: Vec<VecSource> = files
        .iter()
        .map(|path| {
            let (events, diagnostics) = rampart_pipeline::samples::read_sample(path).unwrap();
            assert!(diagnostics.is_empty());
            VecSource::new(path.display().to_string(), events).with_batch(7)
        })
        .collect();
    let in_memory = run(&rules, &from_memory, 2);
    assert!(from_files.len() > 5, "only {} alerts", from_files.len());
    assert_eq!(ids(&from_files), ids(&in_memory));
}

#[test]
fn output_order_does_not_depend_on_the_thread_count() {
    let rules = windows_rules();
    let sources = file_sources(&rampart_testkit::files_under(
        &data_path("evtx-attack-samples/Credential Access"),
        "evtx",
    ));
    let one = run(&rules, &sources, 1);
    let four = run(&rules, &sources, 4);
    assert!(one.len() > 50, "only {} alerts", one.len());
    assert_eq!(ids(&one), ids(&four));
}

#[test]
fn scan_events_gives_the_same_alerts_on_every_thread() {
    let rules = windows_rules();
    let (events, _) = rampart_pipeline::samples::read_sample(&data_path(
        "evtx-attack-samples/Credential Access/CA_hashdump_4663_4656_lsass_access.evtx",
    ))
    .unwrap();
    let alone = ids(&rules.scan_events(&events, ScanOptions::default()).alerts);
    assert!(!alone.is_empty());
    let together: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| ids(&rules.scan_events(&events, ScanOptions::default()).alerts))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for ids in together {
        assert_eq!(ids, alone);
    }
}

#[test]
fn full_event_keeps_every_field_of_the_event() {
    let rules = windows_rules();
    let (events, _) = rampart_pipeline::samples::read_sample(&corpus_files()[0]).unwrap();
    let context = rules.scan_events(&events, ScanOptions::default()).alerts;
    let full = rules
        .scan_events(
            &events,
            ScanOptions {
                full_event: true,
                ..ScanOptions::default()
            },
        )
        .alerts;
    assert_eq!(ids(&context), ids(&full));
    assert!(full
        .iter()
        .zip(&context)
        .all(|(full, alert)| full.context.len() >= alert.context.len()));
    assert!(full
        .iter()
        .zip(&context)
        .any(|(full, alert)| full.context.len() > alert.context.len()));
}

const BASE_RULE: &str = "\
title: Security log cleared (test)
id: 7b4c2f58-2d1e-4a36-9c6c-0c39a4e1d001
name: test_log_cleared
status: test
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 1102
  condition: selection
level: high
";

const CORRELATION: &str = "\
title: Security log cleared on a host (test)
id: 7b4c2f58-2d1e-4a36-9c6c-0c39a4e1d002
status: test
correlation:
  type: event_count
  rules:
    - test_log_cleared
  group-by:
    - Computer
  timespan: 1h
  condition:
    gte: 1
level: critical
";

fn correlated_rules(dir: &tempfile::TempDir) -> Arc<CompiledRules> {
    std::fs::write(dir.path().join("base.yml"), BASE_RULE).unwrap();
    std::fs::write(dir.path().join("correlation.yml"), CORRELATION).unwrap();
    let loaded = load_rules(
        &[dir.path().to_path_buf()],
        &LoadOptions::default(),
        Level::Informational,
        None,
    )
    .unwrap();
    assert!(loaded.failures.is_empty(), "{:?}", loaded.failures);
    assert!(loaded.compiled.correlation_warnings.is_empty());
    loaded.compiled
}

#[test]
fn generate_false_withholds_base_alerts_and_keeps_them_for_correlation() {
    let dir = tempfile::tempdir().unwrap();
    let rules = correlated_rules(&dir);
    let (events, _) = rampart_pipeline::samples::read_sample(&corpus_files()[0]).unwrap();
    let scanned = rules.scan_events(&events, ScanOptions::default());
    assert!(scanned.alerts.is_empty(), "base alerts are withheld");
    assert!(!scanned.for_correlation.is_empty());
    for (alert, event) in &scanned.for_correlation {
        assert_eq!(alert.rule_id, "7b4c2f58-2d1e-4a36-9c6c-0c39a4e1d001");
        assert_eq!(event.meta.event_id, Some(1102));
    }
    let all = rules.scan_events(
        &events,
        ScanOptions {
            all_matches: true,
            ..ScanOptions::default()
        },
    );
    assert_eq!(all.alerts.len(), scanned.for_correlation.len());
    assert!(all.for_correlation.is_empty());

    // The batch hunt replays them: only the correlation's alert comes out.
    let alerts = run(&rules, &file_sources(&corpus_files()[..1]), 2);
    assert!(!alerts.is_empty());
    assert!(alerts
        .iter()
        .all(|alert| alert.rule_id == "7b4c2f58-2d1e-4a36-9c6c-0c39a4e1d002"));
}

/// An output that fails from its first write, as stdout closed by `| head` does.
struct Closed;

impl AlertSink for Closed {
    fn write(&mut self, _alert: &Alert) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }
    fn finish(&mut self) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }
}

fn store_run(
    rules: &CompiledRules,
    db: &std::path::Path,
    output: Box<dyn AlertSink + Send>,
) -> (rampart_pipeline::StoreReport, Option<io::Error>, u64) {
    let info = RunInfo {
        command: "hunt".into(),
        inputs: vec!["corpus".into()],
        rule_sources: vec!["rules".into()],
    };
    let mut store = StoreSink::open(db, info).unwrap();
    store.record_rules(&rule_infos(&rules.set)).unwrap();
    let store = Arc::new(Mutex::new(store));
    let output_error = Arc::new(Mutex::new(None));
    let mut tee = StoreTee::new(output, Arc::clone(&store), Arc::clone(&output_error));
    let report = hunt::run(
        rules,
        &file_sources(&corpus_files()),
        &mut tee,
        HuntOptions::default(),
        &(),
    )
    .unwrap();
    drop(tee);
    let store = Arc::try_unwrap(store).ok().unwrap().into_inner().unwrap();
    let summary = RunSummary {
        files: 5,
        events: report.events,
        rules_loaded: rules.engine.rule_count() as u64,
        alerts: report.alerts,
    };
    let stored = store.finish(summary, None).unwrap();
    let error = output_error.lock().unwrap().take();
    (stored, error, report.alerts)
}

#[test]
fn the_store_tee_stores_every_alert_when_the_output_fails_and_never_twice() {
    let rules = windows_rules();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let (first, error, written) = store_run(&rules, &db, Box::new(Closed));
    assert_eq!(
        error.map(|e| e.kind()),
        Some(io::ErrorKind::BrokenPipe),
        "the output's error is kept for the caller"
    );
    assert!(written > 5);
    assert!(first.added > 5);
    assert_eq!(first.added + first.duplicates, written);
    assert_eq!(first.total_alerts as u64, first.added);
    assert!(first.incidents > 0);

    let (second, error, _) = store_run(&rules, &db, Box::new(VecSink::default()));
    assert!(error.is_none());
    assert_eq!(second.added, 0);
    assert_eq!(second.duplicates, written, "every alert is already stored");
    assert_eq!(second.total_alerts, first.total_alerts);
}
