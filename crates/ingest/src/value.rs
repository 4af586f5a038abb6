//! Conversions from JSON values and text into event values and timestamps.

use chrono::{DateTime, NaiveDateTime, Utc};
use rampart_event::Value;
use serde_json::Value as Json;

/// A JSON value as an event value: numbers keep their type, nested objects become
/// their JSON text (a leaf the flattener could not split further).
pub(crate) fn from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // Above i64::MAX (e.g. 64-bit keyword masks) the decimal text is kept exactly.
            None if n.is_u64() => Value::Str(n.to_string().into()),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(s.as_str().into()),
        Json::Array(items) => Value::List(items.iter().map(from_json).collect()),
        Json::Object(_) => Value::Str(json.to_string().into()),
    }
}

/// A timestamp as found in telemetry: RFC 3339 (`2019-03-19T23:39:22.123Z`), or the
/// space-separated UTC form Sysmon writes in `UtcTime` (`2019-03-19 23:39:22.123`).
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// A value as an unsigned integer, whether it was read as a number or as digits.
pub(crate) fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_both_forms() {
        let rfc = parse_timestamp("2019-03-19T23:39:22.123456Z");
        let sysmon = parse_timestamp("2019-03-19 23:39:22.123456");
        assert!(rfc.is_some());
        assert_eq!(rfc, sysmon);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn big_unsigned_numbers_stay_exact() {
        let json: Json = serde_json::from_str("18446744073709551615").unwrap_or(Json::Null);
        assert_eq!(from_json(&json), Value::Str("18446744073709551615".into()));
        assert_eq!(from_json(&Json::from(4688)), Value::Int(4688));
    }
}
