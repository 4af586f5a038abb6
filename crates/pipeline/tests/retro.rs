#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Retro-hunts on the real corpus: Sigma alerts stored from a hunt, then an indicator
//! made of a value those alerts' events hold, run over the stored alerts' events and
//! over the files; and over a large generated store, page by page.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use rampart_event::{Alert, Level};
use rampart_ingest::{Input, ReadOptions};
use rampart_intel::matcher::Matcher;
use rampart_intel::sightings::{stix_bundle, Hit, Sighter};
use rampart_intel::{Indicator, Observable, ObservableKind};
use rampart_pipeline::hunt::{self, HuntOptions};
use rampart_pipeline::retro::{self, event_of_alert, StoredAlerts};
use rampart_pipeline::sink::VecSink;
use rampart_pipeline::{load_rules, FileSource};
use rampart_sigma::LoadOptions;
use rampart_store::{RunInfo, SqliteStore, Store};
use rampart_testkit::data_path;

const FILE_NAME_FIELDS: &[&str] = &[
    "Image",
    "ParentImage",
    "TargetFilename",
    "ImageLoaded",
    "OriginalFileName",
];

fn corpus_files() -> Vec<PathBuf> {
    [
        "Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx",
        "Execution/exec_sysmon_1_11_lolbin_rundll32_openurl_FileProtocolHandler.evtx",
        "Execution/exec_sysmon_1_lolbin_pcalua.evtx",
    ]
    .iter()
    .map(|name| data_path(&format!("evtx-attack-samples/{name}")))
    .collect()
}

fn file_sources() -> Vec<FileSource> {
    let options = Arc::new(ReadOptions::default());
    corpus_files()
        .iter()
        .map(|path| FileSource {
            input: Input::file(path).unwrap(),
            options: Arc::clone(&options),
        })
        .collect()
}

/// The Sigma alerts a hunt stores for the corpus files.
fn stored_alerts() -> Vec<Alert> {
    let paths = [data_path("sigma/rules/windows/process_creation")];
    let loaded = load_rules(&paths, &LoadOptions::default(), Level::Informational, None).unwrap();
    let mut sink = VecSink::default();
    hunt::run(
        &loaded.compiled,
        &file_sources(),
        &mut sink,
        HuntOptions::default(),
        &(),
    )
    .unwrap();
    assert!(!sink.alerts.is_empty());
    sink.alerts
}

/// The base name of the process most stored alerts' events name (`Image`).
fn most_alerted_image(alerts: &[Alert]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for alert in alerts {
        if let Some(image) = alert.context.iter().find(|f| f.field == "Image") {
            let base = image
                .value
                .rsplit(['\\', '/'])
                .next()
                .unwrap()
                .to_lowercase();
            *counts.entry(base).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map(|(image, _)| image)
        .unwrap_or_else(|| {
            let fields: BTreeSet<String> = alerts
                .iter()
                .flat_map(|a| a.context.iter().map(|f| format!("{}={}", f.field, f.value)))
                .collect();
            panic!("{fields:?}")
        })
}

/// A fresh store in `dir` holding `alerts`, as a retro-hunt reads it.
fn store_of(dir: &tempfile::TempDir, name: &str, alerts: &[Alert]) -> StoredAlerts {
    let mut store = SqliteStore::open(&dir.path().join(name)).unwrap();
    if !alerts.is_empty() {
        let run = store.begin_run(&RunInfo::default()).unwrap();
        store.insert_alerts(run, alerts).unwrap();
    }
    StoredAlerts::new(store)
}

fn matcher_for(image: &str) -> (Arc<Matcher>, String) {
    let indicator = Indicator {
        id: "indicator--retro-test".into(),
        source: "list:retro-test".into(),
        all_of: vec![Observable {
            kind: ObservableKind::FileName,
            value: image.into(),
        }],
        name: None,
        description: None,
        confidence: Some(90),
        labels: Vec::new(),
        valid_from: None,
        valid_until: None,
        first_seen: None,
        last_seen: None,
        detect: true,
        context: Default::default(),
    };
    let matcher = Matcher::new(&[indicator], &[], Utc::now());
    assert_eq!(matcher.len(), 1);
    (Arc::new(matcher), "intel:indicator--retro-test".into())
}

#[test]
fn a_new_indicator_finds_the_stored_events_and_the_files_events_alike() {
    let dir = tempfile::tempdir().unwrap();
    let stored = stored_alerts();
    let image = most_alerted_image(&stored);
    let (matcher, rule_id) = matcher_for(&image);
    let store = store_of(&dir, "stored.db", &stored);
    let empty = store_of(&dir, "empty.db", &[]);

    // Over the stored alerts' events: one IoC alert per distinct event naming it.
    let from_store = retro::run(
        Arc::clone(&matcher),
        &store,
        &[],
        HuntOptions::default(),
        &(),
    )
    .unwrap();
    let expected_events: BTreeSet<String> = stored
        .iter()
        .filter(|a| {
            // File names are looked for in the process, its parent and file fields.
            a.context.iter().any(|f| {
                FILE_NAME_FIELDS.contains(&f.field.as_str())
                    && f.value.rsplit(['\\', '/']).next().unwrap().to_lowercase() == image
            })
        })
        .map(|a| format!("{:?}", event_of_alert(a).meta))
        .collect();
    assert!(!expected_events.is_empty());
    assert_eq!(from_store.alerts.len(), expected_events.len());
    assert!(from_store.alerts.iter().all(|a| a.rule_id == rule_id));
    let found_events: BTreeSet<String> = from_store
        .alerts
        .iter()
        .map(|a| format!("{:?}", a.event))
        .collect();
    assert_eq!(found_events, expected_events);

    // Over the files: the same events give the same alert ids (an alert's id comes
    // from the event's identity), so stored and file hits are one set.
    let from_files = retro::run(
        Arc::clone(&matcher),
        &empty,
        &file_sources(),
        HuntOptions::default(),
        &(),
    )
    .unwrap();
    assert!(from_files.files.events > 0);
    let file_ids: BTreeSet<&str> = from_files.alerts.iter().map(|a| a.id.as_str()).collect();
    assert!(from_store
        .alerts
        .iter()
        .all(|a| file_ids.contains(a.id.as_str())));
    let both = retro::run(
        Arc::clone(&matcher),
        &store,
        &file_sources(),
        HuntOptions::default(),
        &(),
    )
    .unwrap();
    assert_eq!(both.alerts.len(), from_files.alerts.len(), "each hit once");

    // The hits, fed back as STIX sightings: one sighting of the indicator, counted.
    let hits: Vec<Hit> = both
        .alerts
        .iter()
        .map(|a| Hit::from_alert(a, Utc::now()).unwrap())
        .collect();
    let sighter = Sighter {
        name: "Example SOC".into(),
        now: Utc::now(),
    };
    let bundle = stix_bundle(&hits, &sighter);
    let sightings: Vec<_> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "sighting")
        .collect();
    assert_eq!(sightings.len(), 1);
    assert_eq!(sightings[0]["count"], both.alerts.len());

    // Hits already stored are not reported again.
    let mut saved = store.into_store();
    let run = saved.begin_run(&RunInfo::default()).unwrap();
    saved.insert_alerts(run, &both.alerts).unwrap();
    let saved = StoredAlerts::new(saved);
    let again = retro::run(
        matcher,
        &saved,
        &file_sources(),
        HuntOptions::default(),
        &(),
    )
    .unwrap();
    assert!(again.alerts.is_empty(), "{} repeated", again.alerts.len());
}

/// A store of many generated alerts (two rules on each of many network events, as a
/// hunt stores them) is read page by page: every page at most the page size, every
/// alert read once, each event scanned once, and the indicator's hits exactly the
/// events holding its address, each once; the same run again after saving them finds
/// nothing new.
#[test]
fn a_large_store_is_hunted_page_by_page_and_each_hit_reported_once() {
    use rampart_event::{alert_id, Event, EventMeta, MatchedField, Value};
    use std::sync::Mutex;

    const EVENTS: u64 = 6_000;
    const PAGE: usize = 500;
    let hit_every = 997;
    let mut alerts = Vec::new();
    let mut expected = BTreeSet::new();
    for record in 1..=EVENTS {
        let address = if record % hit_every == 0 {
            "203.0.113.77".to_string()
        } else {
            format!(
                "10.{}.{}.{}",
                record / 65_536,
                (record / 256) % 256,
                record % 256
            )
        };
        let mut event = Event {
            meta: EventMeta {
                source: "generated.evtx".into(),
                timestamp: Some(Utc::now()),
                computer: Some("ws-01.example".into()),
                channel: Some("Microsoft-Windows-Sysmon/Operational".into()),
                provider: Some("Microsoft-Windows-Sysmon".into()),
                event_id: Some(3),
                record_id: Some(record),
            },
            fields: Vec::new(),
        };
        event.set("EventRecordID", Value::Int(record as i64));
        event.set("DestinationIp", Value::Str(address.as_str().into()));
        if record % hit_every == 0 {
            expected.insert(record);
        }
        for rule in ["rule-outbound", "rule-unusual-port"] {
            alerts.push(Alert {
                id: alert_id(rule, &event),
                rule_id: rule.into(),
                rule_title: rule.into(),
                level: Level::Low,
                status: None,
                techniques: Vec::new(),
                tactics: Vec::new(),
                tags: Vec::new(),
                event: event.meta.clone(),
                matched: vec![MatchedField {
                    field: "DestinationIp".into(),
                    value: address.clone(),
                }],
                context: Vec::new(),
                intel: None,
            });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let pages = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&pages);
    let store = store_of(&dir, "large.db", &alerts)
        .with_page(PAGE)
        .with_progress(move |read| seen.lock().unwrap().push(read));
    let indicator = Indicator {
        id: "indicator--generated".into(),
        source: "list:generated".into(),
        all_of: vec![Observable {
            kind: ObservableKind::Ip,
            value: "203.0.113.77".into(),
        }],
        name: None,
        description: None,
        confidence: None,
        labels: Vec::new(),
        valid_from: None,
        valid_until: None,
        first_seen: None,
        last_seen: None,
        detect: true,
        context: Default::default(),
    };
    let matcher = Arc::new(Matcher::new(&[indicator], &[], Utc::now()));

    let report = retro::run(
        Arc::clone(&matcher),
        &store,
        &[],
        HuntOptions::default(),
        &(),
    )
    .unwrap();
    let pages = pages.lock().unwrap().clone();
    assert_eq!(pages.len(), alerts.len().div_ceil(PAGE));
    assert!(pages.iter().all(|&read| read as usize <= PAGE));
    assert_eq!(pages.iter().sum::<u64>(), alerts.len() as u64);
    assert_eq!(report.stored_alerts, alerts.len() as u64);
    assert_eq!(report.stored_events, EVENTS, "each event scanned once");
    let found: BTreeSet<u64> = report
        .alerts
        .iter()
        .map(|a| a.event.record_id.unwrap())
        .collect();
    assert_eq!(found, expected);
    assert_eq!(report.alerts.len(), expected.len(), "each hit once");

    let mut saved = store.into_store();
    let run = saved.begin_run(&RunInfo::default()).unwrap();
    saved.insert_alerts(run, &report.alerts).unwrap();
    let again = retro::run(
        matcher,
        &StoredAlerts::new(saved),
        &[],
        HuntOptions::default(),
        &(),
    )
    .unwrap();
    assert!(again.alerts.is_empty(), "{} repeated", again.alerts.len());
    assert_eq!(
        again.stored_alerts,
        alerts.len() as u64 + expected.len() as u64
    );
}
