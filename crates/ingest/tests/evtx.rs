#![allow(clippy::unwrap_used, clippy::expect_used)]
//! EVTX reading on the real attack-sample corpus.

mod common;

use common::read_path;
use rampart_event::Value;
use rampart_testkit::data_path;
use std::time::Instant;

#[test]
fn reads_the_whole_attack_corpus_without_diagnostics() {
    let start = Instant::now();
    let (events, diagnostics) = read_path(&data_path("evtx-attack-samples"));
    eprintln!("{} events in {:?}", events.len(), start.elapsed());
    for d in &diagnostics {
        eprintln!("{d}");
    }
    assert!(events.len() > 8000, "{}", events.len());
    assert!(diagnostics.is_empty());
    // Every record has its header data; only converted ETW traces lack a channel.
    assert!(events
        .iter()
        .all(|e| e.meta.event_id.is_some() && e.meta.computer.is_some()));
    let without_channel = events.iter().filter(|e| e.meta.channel.is_none()).count();
    assert!(without_channel * 10 < events.len(), "{without_channel}");
    // Sysmon process creations carry their EventData as top-level fields.
    let sysmon_1 = events
        .iter()
        .find(|e| {
            e.meta.event_id == Some(1)
                && e.meta.channel.as_deref() == Some("Microsoft-Windows-Sysmon/Operational")
        })
        .expect("a sysmon process creation");
    assert!(matches!(sysmon_1.get("Image"), Some(Value::Str(image)) if image.ends_with(".exe")));
    assert!(sysmon_1.get("Provider_Name").is_some());
}

/// The renderer that wrote SigmaHQ's JSON differs from the evtx crate's in three ways
/// that are not the reader's business: GUIDs upper-case without braces, system time to
/// the microsecond, and trailing blanks of strings trimmed (the EVTX records hold them).
/// One sample's JSON was also hand-edited in letter case (`Explorer.EXE`), which Sigma
/// matching ignores. These are folded away before comparing.
fn normalised(event: &rampart_event::Event) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = event
        .fields
        .iter()
        .filter(|(name, _)| &**name != "TimeCreated_SystemTime")
        .map(|(name, value)| {
            let text = match value {
                Value::Str(text) => {
                    let text = text.trim_end();
                    let guid =
                        text.len() >= 36 && text.matches('-').count() == 4 && !text.contains(' ');
                    if guid {
                        text.replace(['{', '}'], "").to_lowercase()
                    } else {
                        text.to_lowercase()
                    }
                }
                other => format!("{other:?}"),
            };
            (name.to_string(), text)
        })
        .collect();
    fields.sort();
    fields
}

fn micros(event: &rampart_event::Event) -> Option<i64> {
    event.meta.timestamp.map(|t| t.timestamp_micros())
}

/// SigmaHQ's regression samples come as EVTX and as evtx_dump JSON of the same
/// records: both readers must produce the same events.
#[test]
fn evtx_and_its_json_rendering_give_the_same_events() {
    let mut pairs = 0;
    let mut mismatches = Vec::new();
    for path in rampart_testkit::data_files("sigma/regression_data", "evtx") {
        let json = path.with_extension("json");
        if !json.exists() {
            continue;
        }
        pairs += 1;
        let (from_evtx, d1) = read_path(&path);
        let (from_json, d2) = read_path(&json);
        assert!(d1.is_empty() && d2.is_empty(), "{d1:?} {d2:?}");
        let same = from_evtx.len() == from_json.len()
            && from_evtx.iter().zip(&from_json).all(|(a, b)| {
                normalised(a) == normalised(b)
                    && a.meta.record_id == b.meta.record_id
                    && micros(a) == micros(b)
                    && a.meta.event_id == b.meta.event_id
                    && a.meta.channel == b.meta.channel
                    && a.meta.computer == b.meta.computer
            });
        if !same {
            mismatches.push(path.display().to_string());
        }
    }
    assert!(pairs > 150, "{pairs}");
    assert!(
        mismatches.is_empty(),
        "{} of {pairs} differ: {mismatches:#?}",
        mismatches.len()
    );
}
