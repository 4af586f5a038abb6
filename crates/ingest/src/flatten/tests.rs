use super::*;
use serde_json::json;

fn flatten(json: Json) -> Event {
    flatten_json(&json, &FieldAliases::builtin())
}

#[test]
fn evtx_dump_record() {
    let event = flatten(json!({"Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770"}},
            "EventID": 7, "Version": 3, "Correlation": null,
            "TimeCreated": {"#attributes": {"SystemTime": "2025-11-27T07:40:10.165324Z"}},
            "EventRecordID": 571146,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "host1",
            "Security": {"#attributes": {"UserID": "S-1-5-18"}}
        },
        "EventData": {"Image": "C:\\a.exe", "ProcessId": 4460, "RuleName": null, "Version": "4"}
    }}));
    assert_eq!(
        event.get("Provider_Name").and_then(Value::as_str),
        Some("Microsoft-Windows-Sysmon")
    );
    assert_eq!(
        event.get("Security_UserID").and_then(Value::as_str),
        Some("S-1-5-18")
    );
    assert_eq!(event.get("ProcessId"), Some(&Value::Int(4460)));
    assert_eq!(event.get("RuleName"), Some(&Value::Str("".into())));
    assert_eq!(event.get("Correlation"), None);
    // EventData's Version wins over System's.
    assert_eq!(event.get("Version"), Some(&Value::Str("4".into())));
    assert_eq!(event.meta.event_id, Some(7));
    assert_eq!(event.meta.record_id, Some(571146));
    assert_eq!(event.meta.computer.as_deref(), Some("host1"));
    assert!(event.meta.timestamp.is_some());
}

#[test]
fn event_id_with_qualifiers_and_unnamed_data() {
    let event = flatten(json!({"Event": {
        "System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}},
        "EventData": {"Data": {"#text": ["first", "second"]}, "Binary": "00AA", "Source Name": "Real-Time Protection"}
    }}));
    assert_eq!(event.get("EventID"), Some(&Value::Int(7045)));
    assert_eq!(event.get("EventID_Qualifiers"), Some(&Value::Int(16384)));
    assert_eq!(
        event.get("Data"),
        Some(&Value::List(vec![
            Value::Str("first".into()),
            Value::Str("second".into())
        ]))
    );
    assert_eq!(event.get("Binary").and_then(Value::as_str), Some("00AA"));
    assert_eq!(
        event.get("SourceName").and_then(Value::as_str),
        Some("Real-Time Protection")
    );
}

#[test]
fn user_data_leaves() {
    let event = flatten(json!({"Event": {
        "System": {"EventID": 1102, "Channel": "Security"},
        "UserData": {"LogFileCleared": {
            "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
            "SubjectUserName": "admin", "SubjectDomainName": "CORP"
        }}
    }}));
    assert_eq!(
        event.get("SubjectUserName").and_then(Value::as_str),
        Some("admin")
    );
    assert_eq!(event.get("xmlns"), None);
    assert_eq!(event.meta.channel.as_deref(), Some("Security"));
}

#[test]
fn winlogbeat_paths_and_priorities() {
    let event = flatten(json!({
        "@timestamp": "2019-03-19T23:39:22.123Z",
        "event": {"code": "4688"},
        "host": {"name": "ecs-host"},
        "process": {"executable": "C:\\ecs.exe"},
        "winlog": {
            "channel": "Security",
            "computer_name": "raw-host",
            "record_id": 42,
            "event_data": {"NewProcessName": "C:\\x.exe", "Image": "C:\\raw.exe"}
        }
    }));
    assert_eq!(event.get("EventID"), Some(&Value::Int(4688)));
    assert_eq!(
        event.get("Computer").and_then(Value::as_str),
        Some("raw-host")
    );
    assert_eq!(
        event.get("Image").and_then(Value::as_str),
        Some("C:\\raw.exe")
    );
    assert_eq!(
        event.get("NewProcessName").and_then(Value::as_str),
        Some("C:\\x.exe")
    );
    assert_eq!(event.meta.event_id, Some(4688));
    assert_eq!(event.meta.record_id, Some(42));
    assert!(event.meta.timestamp.is_some());
}

#[test]
fn flat_sigma_fields_stay_as_they_are() {
    let event = flatten(json!({"EventID": 1, "Image": "C:\\a.exe", "Tags": ["x", "y"]}));
    assert_eq!(
        event.get("Image").and_then(Value::as_str),
        Some("C:\\a.exe")
    );
    assert_eq!(event.meta.event_id, Some(1));
    assert!(matches!(event.get("Tags"), Some(Value::List(items)) if items.len() == 2));
}

#[test]
fn odd_json_never_panics() {
    for text in [
        "null",
        "[]",
        "42",
        "\"x\"",
        "{}",
        "{\"Event\":null}",
        "{\"Event\":{\"System\":7}}",
        "{\"System\":{},\"EventData\":[1,{\"a\":null}]}",
        "{\"a\":{\"b\":{\"c\":[{\"d\":1}]}}}",
    ] {
        let event = flatten_json_str(text, &FieldAliases::builtin());
        assert!(event.is_ok(), "{text}");
    }
    assert!(flatten_json_str("{\"truncated\": ", &FieldAliases::builtin()).is_err());
}
