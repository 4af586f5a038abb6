//! The event context an alert keeps beside its matched fields, so that an analyst sees
//! who did what (the user who cleared the log, the process and its parent) without
//! going back to the raw log.
//!
//! Only alerts carry it, so it is copied for matching events alone, never for every
//! event read. Values are attacker-controlled and may be huge (script blocks, command
//! lines): each is cut to [`CONTEXT_VALUE_CAP`] bytes, and a whole event keeps at most
//! [`FULL_EVENT_FIELD_CAP`] fields.

use crate::{Event, Value};
use serde::{Deserialize, Serialize};

/// One field of the event an alert was raised on, kept for context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextField {
    /// Field name (Sigma name).
    pub field: String,
    /// The event's value of that field, as text (cut to [`CONTEXT_VALUE_CAP`] bytes).
    pub value: String,
}

/// The Sigma field names kept with every alert when the event has them: who (users,
/// domains, logon session and type, source address), what ran (process, parent, their
/// command lines, ids, hashes, file names) and where (host, service, target file,
/// registry key).
pub const CONTEXT_FIELDS: &[&str] = &[
    "Computer",
    "User",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectUserSid",
    "SubjectLogonId",
    "TargetUserName",
    "TargetDomainName",
    "TargetLogonId",
    "LogonId",
    "LogonType",
    "IpAddress",
    "WorkstationName",
    "Image",
    "CommandLine",
    "ProcessId",
    "ProcessGuid",
    "ParentImage",
    "ParentCommandLine",
    "ParentProcessId",
    "ParentProcessGuid",
    "NewProcessName",
    "ParentProcessName",
    "CurrentDirectory",
    "IntegrityLevel",
    "OriginalFileName",
    "Hashes",
    "TargetFilename",
    "TargetObject",
    "ServiceName",
    "ImagePath",
];

/// The longest value kept, in bytes; a longer one is cut on a character boundary and
/// ends in [`CUT_MARK`].
pub const CONTEXT_VALUE_CAP: usize = 4096;

/// The most fields a whole event keeps (`--full-event`); the rest are left out.
pub const FULL_EVENT_FIELD_CAP: usize = 512;

/// What a cut value ends with.
pub const CUT_MARK: &str = "…[cut]";

/// The context fields of `event` (those of [`CONTEXT_FIELDS`] it has, in event order),
/// or every field when `full_event`.
pub fn context_fields(event: &Event, full_event: bool) -> Vec<ContextField> {
    let wanted = |name: &str| full_event || CONTEXT_FIELDS.contains(&name);
    event
        .fields
        .iter()
        .filter(|(name, _)| wanted(name))
        .take(if full_event {
            FULL_EVENT_FIELD_CAP
        } else {
            CONTEXT_FIELDS.len()
        })
        .map(|(name, value)| ContextField {
            field: name.to_string(),
            value: capped_text(value),
        })
        .collect()
}

/// Holds context read from elsewhere (an imported alert file) to the bounds
/// [`context_fields`] keeps: at most [`FULL_EVENT_FIELD_CAP`] fields, each value cut to
/// [`CONTEXT_VALUE_CAP`] bytes.
pub fn cap_context(context: &mut Vec<ContextField>) {
    context.truncate(FULL_EVENT_FIELD_CAP);
    for field in context.iter_mut() {
        if field.value.len() > CONTEXT_VALUE_CAP + CUT_MARK.len() {
            let kept = cap_str(&field.value).len();
            field.value.truncate(kept);
            field.value.push_str(CUT_MARK);
        }
    }
}

fn capped_text(value: &Value) -> String {
    let mut text = match value {
        Value::Str(text) => cap_str(text).to_string(),
        other => other.to_text(),
    };
    if text.len() > CONTEXT_VALUE_CAP {
        // A list's joined text can still be long.
        text.truncate(cap_str(&text).len());
        text.push_str(CUT_MARK);
    } else if let Value::Str(original) = value {
        if original.len() > CONTEXT_VALUE_CAP {
            text.push_str(CUT_MARK);
        }
    }
    text
}

/// `text` cut to at most [`CONTEXT_VALUE_CAP`] bytes on a character boundary.
fn cap_str(text: &str) -> &str {
    if text.len() <= CONTEXT_VALUE_CAP {
        return text;
    }
    let mut end = CONTEXT_VALUE_CAP;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_listed_fields_and_caps_values() {
        let mut event = Event::default();
        event.set("SubjectUserName", Value::Str("alice".into()));
        event.set("Noise", Value::Str("x".into()));
        event.set(
            "CommandLine",
            Value::Str("é".repeat(CONTEXT_VALUE_CAP).into()),
        );
        event.set("ProcessId", Value::Int(42));
        let context = context_fields(&event, false);
        let names: Vec<&str> = context.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["SubjectUserName", "CommandLine", "ProcessId"]);
        let command = &context[1].value;
        assert!(command.ends_with(CUT_MARK));
        assert!(command.len() <= CONTEXT_VALUE_CAP + CUT_MARK.len());
        assert_eq!(context[2].value, "42");
        assert_eq!(context_fields(&event, true).len(), 4);
    }

    #[test]
    fn a_whole_event_keeps_a_bounded_number_of_fields() {
        let mut event = Event::default();
        for index in 0..FULL_EVENT_FIELD_CAP + 10 {
            event
                .fields
                .push((format!("F{index}").into(), Value::Int(index as i64)));
        }
        assert_eq!(context_fields(&event, true).len(), FULL_EVENT_FIELD_CAP);
    }
}
