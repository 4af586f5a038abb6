//! Linux audit records carried by syslog (audisp-syslog, the kernel's `audit:` printk):
//! `type=EXECVE msg=audit(1700000000.123:42): argc=2 a0="id" a1=2D61`, split into the
//! raw `key=value` fields SigmaHQ's `service: auditd` rules name (`type`, `a0`, `exe`,
//! `name`, `key`, `SYSCALL`, …).

use chrono::{DateTime, TimeZone, Utc};

/// A record's fields in order, and its time from `msg=audit(SECONDS.MILLIS:SERIAL)`.
pub(crate) struct AuditRecord {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) timestamp: Option<DateTime<Utc>>,
}

/// The record in `message`, when it is one (`[audit: ]type=… msg=audit(…)…`).
pub(crate) fn parse(message: &str) -> Option<AuditRecord> {
    let text = message.trim_start();
    let text = text.strip_prefix("audit: ").unwrap_or(text);
    if !text.starts_with("type=") {
        return None;
    }
    let marker = text.find("audit(")?;
    let mut fields = Vec::new();
    let mut timestamp = None;
    for (key, value, quoted) in pairs(text) {
        if key == "msg" && value.starts_with("audit(") {
            timestamp = audit_time(value);
            continue;
        }
        let value = match (key, quoted) {
            ("type", _) => record_type_name(value).unwrap_or(value).to_owned(),
            (_, false) if is_untrusted_string(key) => {
                decode_hex(value).unwrap_or_else(|| value.to_owned())
            }
            _ => value.to_owned(),
        };
        fields.push((key.to_owned(), value));
    }
    // The kernel's form, `type=1400 audit(…): …`, has no `msg=`.
    if timestamp.is_none() {
        timestamp = text[marker..]
            .split_whitespace()
            .next()
            .and_then(audit_time);
    }
    Some(AuditRecord { fields, timestamp })
}

/// `key=value` pairs separated by spaces (and the 0x1D that sets off the enriched,
/// upper-case interpreted fields); values in double or single quotes may hold
/// spaces. Yields (key, value, whether it was quoted).
fn pairs(text: &str) -> impl Iterator<Item = (&str, &str, bool)> {
    let mut rest = text;
    std::iter::from_fn(move || loop {
        rest = rest.trim_start_matches([' ', '\u{1d}']);
        if rest.is_empty() {
            return None;
        }
        let end_of_word = rest.find([' ', '\u{1d}']).unwrap_or(rest.len());
        let Some(equals) = rest[..end_of_word].find('=') else {
            rest = &rest[end_of_word..];
            continue;
        };
        let key = &rest[..equals];
        let after = &rest[equals + 1..];
        for quote in ['"', '\''] {
            if let Some(inner) = after.strip_prefix(quote) {
                if let Some(close) = inner.find(quote) {
                    rest = &inner[close + 1..];
                    return Some((key, &inner[..close], true));
                }
            }
        }
        // `msg='op=… res=success'` is quoted; `msg=audit(…):` ends at its `:`.
        let end = after.find([' ', '\u{1d}']).unwrap_or(after.len());
        let value = after[..end].trim_end_matches(':');
        rest = &after[end..];
        if !key.is_empty() {
            return Some((key, value, false));
        }
    })
}

/// `audit(1700000000.123:42)` → its time.
fn audit_time(value: &str) -> Option<DateTime<Utc>> {
    let inner = value.strip_prefix("audit(")?;
    let stamp = &inner[..inner.find(':')?];
    let (seconds, millis) = stamp.split_once('.').unwrap_or((stamp, "0"));
    let seconds: i64 = seconds.parse().ok()?;
    let millis: u32 = millis.get(..3.min(millis.len()))?.parse().ok()?;
    Utc.timestamp_opt(seconds, millis.saturating_mul(1_000_000))
        .single()
}

/// Fields auditd writes in hex (unquoted) when their text holds a space, a quote or a
/// control character (auditd's "untrusted strings").
fn is_untrusted_string(key: &str) -> bool {
    matches!(
        key,
        "comm" | "exe" | "name" | "cmd" | "proctitle" | "cwd" | "path" | "data"
    ) || (key.starts_with('a')
        && key.len() > 1
        && key[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'[' || b == b']'))
}

/// Hex text to the string it encodes (NULs, as between `proctitle`'s arguments, as
/// spaces); `None` when it is not hex or encodes nothing readable.
fn decode_hex(value: &str) -> Option<String> {
    if value.len() < 2
        || !value.len().is_multiple_of(2)
        || !value.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let bytes: Vec<u8> = (0..value.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&value[at..at + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .ok()?
        .into_iter()
        .map(|b| if b == 0 { b' ' } else { b })
        .collect();
    let text = String::from_utf8_lossy(&bytes).trim_end().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The names of the numeric record types the kernel prints (`linux/audit.h`).
fn record_type_name(value: &str) -> Option<&'static str> {
    Some(match value {
        "1006" => "LOGIN",
        "1100" => "USER_AUTH",
        "1101" => "USER_ACCT",
        "1103" => "CRED_ACQ",
        "1105" => "USER_START",
        "1106" => "USER_END",
        "1112" => "USER_LOGIN",
        "1114" => "ADD_USER",
        "1116" => "ADD_GROUP",
        "1123" => "USER_CMD",
        "1130" => "SERVICE_START",
        "1131" => "SERVICE_STOP",
        "1300" => "SYSCALL",
        "1302" => "PATH",
        "1305" => "CONFIG_CHANGE",
        "1307" => "CWD",
        "1309" => "EXECVE",
        "1327" => "PROCTITLE",
        "1400" => "AVC",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'a>(record: &'a AuditRecord, key: &str) -> Option<&'a str> {
        record
            .fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn execve_with_quoted_and_hex_arguments() {
        let record = parse("type=EXECVE msg=audit(1700000000.250:42): argc=3 a0=\"cat\" a1=\"/etc/shadow\" a2=2F746D702F6120622E747874").unwrap();
        assert_eq!(field(&record, "type"), Some("EXECVE"));
        assert_eq!(field(&record, "a0"), Some("cat"));
        assert_eq!(field(&record, "a2"), Some("/tmp/a b.txt"));
        assert_eq!(field(&record, "argc"), Some("3"));
        assert_eq!(field(&record, "msg"), None);
        assert_eq!(
            record.timestamp.map(|t| t.to_rfc3339()),
            Some("2023-11-14T22:13:20.250+00:00".to_owned())
        );
    }

    #[test]
    fn enriched_fields_and_kernel_form() {
        let record = parse("type=SYSCALL msg=audit(1700000000.1:7): arch=c000003e syscall=59 success=yes exe=\"/usr/sbin/useradd\" key=(null)\u{1d}ARCH=x86_64 SYSCALL=execve").unwrap();
        assert_eq!(field(&record, "exe"), Some("/usr/sbin/useradd"));
        assert_eq!(field(&record, "SYSCALL"), Some("execve"));
        assert_eq!(field(&record, "key"), Some("(null)"));
        let kernel = parse("audit: type=1309 audit(1700000000.000:9): argc=1 a0=\"id\"").unwrap();
        assert_eq!(field(&kernel, "type"), Some("EXECVE"));
        assert!(kernel.timestamp.is_some());
        let user = parse("type=USER_CMD msg=audit(1700000000.1:8): pid=1 msg='cwd=\"/root\" cmd=6964 res=success'").unwrap();
        assert_eq!(
            field(&user, "msg"),
            Some("cwd=\"/root\" cmd=6964 res=success")
        );
        assert!(parse("Accepted password for root").is_none());
        assert!(parse("type=x without marker").is_none());
    }
}
