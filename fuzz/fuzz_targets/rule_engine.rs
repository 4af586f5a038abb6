//! A rule file and an event text from one input: the rules are compiled by the
//! detection engine, the event is scanned, and the engine's alerts must be exactly
//! those of the sigma crate's reference evaluator on the routed rules. This checks the
//! prefilter (anchors derived from literals, equality tables, regex literals) never
//! skips a rule that matches.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect::{Engine, LogsourceMap};
use rampart_event::{Event, EventMeta, Value};
use rampart_sigma::{load_str, LoadOptions};
use std::path::Path;

/// Field names the event sets to the input's text, in process-creation and generic form.
const FIELDS: [&str; 6] = [
    "Image",
    "CommandLine",
    "ParentImage",
    "TargetFilename",
    "Data",
    "id.orig_h",
];

fuzz_target!(|data: &[u8]| {
    // Rule text, a NUL byte, then the text every field of the event holds.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (rules, value) = text.split_once('\0').unwrap_or((text, ""));
    let (set, _) = load_str(rules, Path::new("fuzz.yml"), &LoadOptions::default());
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let mut scratch = engine.scratch();
    for (channel, id) in [
        (Some("Microsoft-Windows-Sysmon/Operational"), 1),
        (Some("Security"), 4688),
        (Some("Some-Unmapped/Operational"), 7),
        (None, 0),
    ] {
        let mut event = Event {
            meta: EventMeta {
                channel: channel.map(Into::into),
                event_id: Some(id),
                ..EventMeta::default()
            },
            fields: Vec::new(),
        };
        event.set("EventID", Value::Int(i64::from(id)));
        for field in FIELDS {
            event.set(field, Value::Str(value.into()));
        }
        let mut got = Vec::new();
        engine.scan(&event, &mut scratch, &mut |alert| got.push(alert.rule_id));
        let view = engine.renamed_view(&event);
        let mut want: Vec<String> = engine
            .routed_rules(&event)
            .into_iter()
            .filter(|&r| set.rules[r].matches(&view))
            .map(|r| set.rules[r].alert_id())
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "engine and reference disagree on {value:?}");
    }
});
