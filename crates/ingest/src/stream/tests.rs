//! The streaming flattener against the reference one, on real records and odd shapes.

use super::{flatten_slice, flatten_streamed};
use crate::{flatten_json, FieldAliases};
use serde_json::Value as Json;

/// Both paths (the fast one when it takes the text, the serde stream always) give the
/// reference's event; returns whether the fast path took it.
fn check(text: &str) -> bool {
    let aliases = FieldAliases::builtin();
    let json: Json = match serde_json::from_str(text) {
        Ok(json) => json,
        Err(_) => return false,
    };
    let reference = flatten_json(&json, &aliases);
    let streamed = flatten_streamed(text.as_bytes(), &aliases);
    assert_eq!(streamed.ok().as_ref(), Some(&reference), "stream: {text}");
    let fast = crate::fast_record::flatten(text, &aliases);
    if let Some(fast) = &fast {
        assert_eq!(fast, &reference, "fast path: {text}");
    }
    assert_eq!(
        flatten_slice(text.as_bytes(), &aliases).ok(),
        Some(reference)
    );
    fast.is_some()
}

/// Every record of the EVTX-ATTACK-SAMPLES corpus, rendered as the EVTX reader renders
/// it: the fast path must take nearly all of them, and agree on each.
#[test]
fn agrees_with_the_reference_on_every_corpus_record() {
    let settings = std::sync::Arc::new(
        evtx::ParserSettings::new()
            .separate_json_attributes(false)
            .indent(false),
    );
    let (mut records, mut fast) = (0, 0);
    for path in rampart_testkit::data_files("evtx-attack-samples", "evtx") {
        let Ok(parser) = evtx::EvtxParser::from_path(&path) else {
            continue;
        };
        let mut parser = parser.with_configuration((*settings).clone());
        for record in parser.records_json().flatten() {
            records += 1;
            fast += usize::from(check(&record.data));
        }
    }
    assert!(records > 8_000, "{records}");
    // UserData and a few other sections are the stream's.
    assert!(
        fast * 100 >= records * 95,
        "fast path took {fast} of {records}"
    );
}

#[test]
fn agrees_with_the_reference_on_every_regression_record() {
    let mut records = 0;
    for path in rampart_testkit::data_files("sigma/regression_data", "json") {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for json in serde_json::Deserializer::from_str(&text)
            .into_iter::<Json>()
            .flatten()
        {
            check(&json.to_string());
            records += 1;
        }
    }
    assert!(records > 200, "{records}");
}

#[test]
fn agrees_with_the_reference_on_odd_shapes() {
    for text in [
        r##"{"EventID": 1, "Image": "C:\\a.exe", "Tags": ["x", null, {"y": 1}], "n": null, "e": {}}"##,
        r##"{"winlog": {"channel": "Security", "event_id": 4688, "event_data": {"NewProcessName": "x"}}, "host": {"name": "h"}, "event": {"code": "4688"}}"##,
        r##"{"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}, "Provider": {"#attributes": {"Name": "P"}}}, "EventData": {"Data": {"#text": ["a", "b"]}, "Binary": null, "Source Name": "RTP", "Obj": {"k": 1}}}}"##,
        r##"{"Event": {"System": {"EventID": 1102}, "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "u"}, "SubjectUserName": "admin"}}}}"##,
        r##"{"Event": {"System": {"EventID": 1}, "EventData": "plain text"}}"##,
        r##"{"Event": {"System": {"EventID": 1}, "EventData": {"Data": "one"}}}"##,
        r##"{"big": 18446744073709551615, "neg": -5, "f": 1.5, "t": true}"##,
        r##"{"a": {"b": {"c": [{"d": 1}]}}}"##,
        // Mixes of EVTX sections and other keys (found by fuzzing: the first one
        // panicked the streaming path).
        r##"{"System":{"EventID":1},"EventID":2}"##,
        r##"{"A":1,"System":{"EventID":1},"EventID":2}"##,
        r##"{"Event":{"EventData":{"X":"y"}},"Other":{"k":"v"}}"##,
        r##"{"Event":{"System":{"EventID":1}},"Other":{"k":"v"}}"##,
        r##"{"System":{"EventID":1},"EventData":{"X":"y"},"Foo":1}"##,
        r##"{"EventData":{"X":"y"}}"##,
        r##"{"Event":{"System":{"EventID":1}},"System":{"EventID":2},"EventData":{"A":"b"}}"##,
        r##"{"Event":{"EventData":{"A":"b","EventID":"7"},"System":{"EventID":1,"Channel":"c"}}}"##,
        r##"{"Event":{"System":{"EventID":{"#text":null},"Channel":"c"}}}"##,
        r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"a","Name":"b"}}}}}"##,
        r##"{"Event":{"System":{"Channel":"a","Channel":"b"}}}"##,
    ] {
        check(text);
    }
}

#[test]
fn rejects_what_is_not_an_object() {
    let aliases = FieldAliases::builtin();
    for text in ["[1]", "42", "{\"a\": ", "{\"a\": 1} trailing"] {
        assert!(flatten_slice(text.as_bytes(), &aliases).is_err(), "{text}");
    }
}
