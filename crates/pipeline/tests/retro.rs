#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Retro-hunts on the real corpus: Sigma alerts stored from a hunt, then an indicator
//! made of a value those alerts' events hold, run over the stored alerts' events and
//! over the files.

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
use rampart_pipeline::retro::{self, event_of_alert};
use rampart_pipeline::sink::VecSink;
use rampart_pipeline::{load_rules, FileSource};
use rampart_sigma::LoadOptions;
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
    let stored = stored_alerts();
    let image = most_alerted_image(&stored);
    let (matcher, rule_id) = matcher_for(&image);

    // Over the stored alerts' events: one IoC alert per distinct event naming it.
    let from_store = retro::run(
        Arc::clone(&matcher),
        &stored,
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
        &[],
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
        &stored,
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
    let mut saved = stored.clone();
    saved.extend(both.alerts.iter().cloned());
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
