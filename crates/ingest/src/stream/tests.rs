//! The streaming flattener against the reference one, on real records and odd shapes.

use super::flatten_slice;
use crate::{flatten_json, FieldAliases};
use serde_json::Value as Json;

fn check(text: &str) {
    let aliases = FieldAliases::builtin();
    let json: Json = match serde_json::from_str(text) {
        Ok(json) => json,
        Err(_) => return,
    };
    let reference = flatten_json(&json, &aliases);
    let fast = flatten_slice(text.as_bytes(), &aliases);
    assert_eq!(fast.ok(), Some(reference), "{text}");
}

#[test]
fn agrees_with_the_reference_on_every_regression_record() {
    let root = rampart_testkit::data_path("sigma/regression_data");
    let mut stack = vec![root];
    let mut records = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for json in serde_json::Deserializer::from_str(&text)
                    .into_iter::<Json>()
                    .flatten()
                {
                    check(&json.to_string());
                    records += 1;
                }
            }
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
