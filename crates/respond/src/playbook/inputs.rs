//! The values a run takes from its incident (or alert), and the playbook's conditions
//! on them.
//!
//! Each input is a list of distinct values gathered, in order, from the incident's
//! figures and then from every alert's matched and context fields (and an IoC alert's
//! observables). Values are attacker text: they are kept as written (trimmed), never
//! interpreted, and capped — at most [`MAX_VALUES`] per input and [`MAX_VALUE_BYTES`]
//! per value (a longer value is left out rather than cut, since a cut host name or
//! hash would name something else); what was left out is counted.
//!
//! Sources (Sigma field names):
//! - `host`: the incident's host, the events' `Computer`;
//! - `user`: the incident's users, `User`, `SubjectUserName`, `TargetUserName`,
//!   `UserName` (`-` and empty values skipped);
//! - `process`: image paths, `Image`, `NewProcessName`, `SourceImage` (not the parent:
//!   ending `WmiPrvSE.exe` or `services.exe` for what they started would be wrong);
//! - `hashes`: MD5, SHA-1 and SHA-256 values of `Hashes` (`SHA256=…,IMPHASH=…`; the
//!   import hash is not a file's hash and is left out), `md5`, `sha1`, `sha256`,
//!   `Hash`, and hash observables — bare lower-case hex;
//! - `domains`: `QueryName`, `DestinationHostname`, domain observables — names with a
//!   dot, lower-case;
//! - `ips`: `IpAddress`, `SourceIp`, `DestinationIp`, `ClientAddress`, IP observables —
//!   parsed addresses (IPv4-mapped IPv6 written as IPv4), loopback and unspecified left
//!   out;
//! - `field`: one named field.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use rampart_correlate::Incident;
use rampart_event::Alert;
use serde::Serialize;

use super::trigger::glob_matches;
use super::{Condition, InputSpec, Playbook};

/// Most values one input keeps.
pub const MAX_VALUES: usize = 64;

/// Longest value kept, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024;

/// What a run is about: an incident and its alerts, or one alert.
#[derive(Debug, Clone, Copy)]
pub enum SubjectRef<'a> {
    /// An incident, with its alerts as stored.
    Incident {
        /// The incident.
        incident: &'a Incident,
        /// Its alerts.
        alerts: &'a [Alert],
    },
    /// One alert.
    Alert(&'a Alert),
}

impl<'a> SubjectRef<'a> {
    /// The subject's id: the incident's, or the alert's stable id.
    pub fn id(&self) -> String {
        match self {
            SubjectRef::Incident { incident, .. } => incident.id.clone(),
            SubjectRef::Alert(alert) => alert.stable_id(),
        }
    }

    fn alerts(&self) -> &'a [Alert] {
        match *self {
            SubjectRef::Incident { alerts, .. } => alerts,
            SubjectRef::Alert(alert) => std::slice::from_ref(alert),
        }
    }
}

/// A playbook's inputs for one subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inputs {
    /// Each input's distinct values, in the order found (the shape of
    /// `action::RenderContext::inputs`).
    pub values: BTreeMap<String, Vec<String>>,
    /// Per input, values left out past the caps.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, usize>,
}

/// A condition that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedCondition {
    /// Its position in the playbook's `conditions`.
    pub index: usize,
    /// The input it checks.
    pub input: String,
    /// Why it failed.
    pub reason: String,
}

const USER_FIELDS: &[&str] = &["User", "SubjectUserName", "TargetUserName", "UserName"];
const PROCESS_FIELDS: &[&str] = &["Image", "NewProcessName", "SourceImage"];
const HASH_FIELDS: &[&str] = &["md5", "sha1", "sha256", "Hash", "MD5", "SHA1", "SHA256"];
const DOMAIN_FIELDS: &[&str] = &["QueryName", "DestinationHostname"];
const IP_FIELDS: &[&str] = &["IpAddress", "SourceIp", "DestinationIp", "ClientAddress"];

/// Gathers distinct values under the caps.
#[derive(Default)]
struct Collector {
    values: Vec<String>,
    seen: HashSet<String>,
    left_out: usize,
}

impl Collector {
    /// Adds a value; `fold_case` makes `WS1` and `ws1` one value (the first spelling
    /// is kept).
    fn add(&mut self, value: &str, fold_case: bool) {
        let value = value.trim();
        if value.is_empty() || value == "-" {
            return;
        }
        let key = if fold_case {
            value.to_lowercase()
        } else {
            value.to_owned()
        };
        if self.seen.contains(&key) {
            return;
        }
        if value.len() > MAX_VALUE_BYTES || self.values.len() >= MAX_VALUES {
            self.left_out += 1;
            // Remembered so a value repeated in every alert is counted once.
            self.seen.insert(key);
            return;
        }
        self.seen.insert(key);
        self.values.push(value.to_owned());
    }
}

/// Every (field, value) of an alert: matched fields first, then context fields.
fn fields(alert: &Alert) -> impl Iterator<Item = (&str, &str)> {
    alert
        .matched
        .iter()
        .map(|m| (m.field.as_str(), m.value.as_str()))
        .chain(
            alert
                .context
                .iter()
                .map(|c| (c.field.as_str(), c.value.as_str())),
        )
}

/// The playbook's inputs for `subject`.
pub fn extract_inputs(playbook: &Playbook, subject: SubjectRef<'_>) -> Inputs {
    let mut inputs = Inputs::default();
    for (name, spec) in &playbook.inputs {
        let collected = extract_one(spec, subject);
        if collected.left_out > 0 {
            inputs.left_out.insert(name.clone(), collected.left_out);
        }
        inputs.values.insert(name.clone(), collected.values);
    }
    inputs
}

fn extract_one(spec: &InputSpec, subject: SubjectRef<'_>) -> Collector {
    let mut out = Collector::default();
    let alerts = subject.alerts();
    match spec.from.as_str() {
        "host" => {
            if let SubjectRef::Incident { incident, .. } = subject {
                out.add(&incident.host, true);
            }
            for alert in alerts {
                if let Some(host) = alert.event.computer.as_deref() {
                    out.add(host, true);
                }
                for (field, value) in fields(alert) {
                    if field == "Computer" {
                        out.add(value, true);
                    }
                }
            }
        }
        "user" => {
            if let SubjectRef::Incident { incident, .. } = subject {
                for user in incident.user.iter().chain(&incident.users) {
                    out.add(user, true);
                }
            }
            from_fields(&mut out, alerts, USER_FIELDS, true, |v| Some(v.to_owned()));
        }
        "process" => from_fields(&mut out, alerts, PROCESS_FIELDS, true, |v| {
            Some(v.to_owned())
        }),
        "hashes" => {
            for alert in alerts {
                for (field, value) in fields(alert) {
                    if field == "Hashes" {
                        for hash in hashes_of(value) {
                            out.add(&hash, false);
                        }
                    } else if HASH_FIELDS.contains(&field) {
                        if let Some(hash) = bare_hash(value) {
                            out.add(&hash, false);
                        }
                    }
                }
                for observable in observables(alert, &["md5", "sha1", "sha256"]) {
                    if let Some(hash) = bare_hash(observable) {
                        out.add(&hash, false);
                    }
                }
            }
        }
        "domains" => {
            from_fields(&mut out, alerts, DOMAIN_FIELDS, true, domain_of);
            for alert in alerts {
                for observable in observables(alert, &["domain"]) {
                    if let Some(domain) = domain_of(observable) {
                        out.add(&domain, true);
                    }
                }
            }
        }
        "ips" => {
            from_fields(&mut out, alerts, IP_FIELDS, false, ip_of);
            for alert in alerts {
                for observable in observables(alert, &["ip"]) {
                    if let Some(ip) = ip_of(observable) {
                        out.add(&ip, false);
                    }
                }
            }
        }
        "field" => {
            if let Some(name) = spec.field.as_deref() {
                from_fields(&mut out, alerts, &[name], false, |v| Some(v.to_owned()));
            }
        }
        // The schema allows no other source.
        _ => {}
    }
    out
}

fn from_fields(
    out: &mut Collector,
    alerts: &[Alert],
    names: &[&str],
    fold_case: bool,
    normalise: impl Fn(&str) -> Option<String>,
) {
    for alert in alerts {
        for (field, value) in fields(alert) {
            if names.contains(&field) {
                if let Some(value) = normalise(value) {
                    out.add(&value, fold_case);
                }
            }
        }
    }
}

fn observables<'a>(alert: &'a Alert, kinds: &'a [&str]) -> impl Iterator<Item = &'a str> {
    alert
        .intel
        .iter()
        .flat_map(|intel| intel.observables.iter())
        .filter(move |o| kinds.contains(&o.kind.as_str()))
        .map(|o| o.value.as_str())
}

/// The MD5, SHA-1 and SHA-256 values of a Sysmon `Hashes` field
/// (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`).
fn hashes_of(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|part| part.split_once('='))
        .filter(|(algorithm, _)| {
            ["MD5", "SHA1", "SHA256"]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(algorithm.trim()))
        })
        .filter_map(|(_, hex)| bare_hash(hex))
        .collect()
}

/// A hash as lower-case hex, when it has the length of an MD5, SHA-1 or SHA-256.
fn bare_hash(value: &str) -> Option<String> {
    let value = value.trim();
    let value = value.split_once('=').map_or(value, |(_, hex)| hex.trim());
    (matches!(value.len(), 32 | 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| value.to_ascii_lowercase())
}

/// A domain name: at least one dot, labels of letters, digits, `-` and `_`, no trailing
/// dot; lower-case.
fn domain_of(value: &str) -> Option<String> {
    let value = value.trim().trim_end_matches('.');
    let ok = value.contains('.')
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && value.parse::<IpAddr>().is_err();
    ok.then(|| value.to_ascii_lowercase())
}

/// An IP address as the standard library writes it; IPv4-mapped IPv6 as IPv4; loopback
/// and unspecified addresses are no one's.
fn ip_of(value: &str) -> Option<String> {
    let ip: IpAddr = value.trim().parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    (!ip.is_loopback() && !ip.is_unspecified()).then(|| ip.to_string())
}

/// The conditions that do not hold for these inputs (empty: the run may start). An
/// input the playbook does not define has no values.
pub fn failed_conditions(
    playbook: &Playbook,
    values: &BTreeMap<String, Vec<String>>,
) -> Vec<FailedCondition> {
    playbook
        .conditions
        .iter()
        .enumerate()
        .filter_map(|(index, condition)| {
            let input = values.get(&condition.input).map_or(&[][..], Vec::as_slice);
            condition_failure(condition, input).map(|reason| FailedCondition {
                index,
                input: condition.input.clone(),
                reason,
            })
        })
        .collect()
}

fn condition_failure(condition: &Condition, values: &[String]) -> Option<String> {
    if let Some(present) = condition.present {
        if present && values.is_empty() {
            return Some("has no value".to_owned());
        }
        if !present && !values.is_empty() {
            return Some(format!("has {} value(s)", values.len()));
        }
    }
    if let Some(value) = values.iter().find(|v| {
        condition
            .not_in
            .iter()
            .any(|excluded| excluded.trim().to_lowercase() == v.to_lowercase())
    }) {
        return Some(format!("value {value:?} is excluded"));
    }
    if !condition.matches.is_empty()
        && !values
            .iter()
            .any(|v| condition.matches.iter().any(|glob| glob_matches(glob, v)))
    {
        return Some("no value matches".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised_by_kind() {
        assert_eq!(
            hashes_of("SHA1=AB,MD5=0123456789ABCDEF0123456789ABCDEF,IMPHASH=0123456789ABCDEF0123456789ABCDEF"),
            ["0123456789abcdef0123456789abcdef"]
        );
        assert_eq!(
            domain_of("Evil.Example.COM."),
            Some("evil.example.com".into())
        );
        assert_eq!(domain_of("localhost"), None);
        assert_eq!(domain_of("10.0.0.1"), None);
        assert_eq!(domain_of("a b.com"), None);
        assert_eq!(ip_of("::ffff:10.0.0.5"), Some("10.0.0.5".into()));
        assert_eq!(ip_of("127.0.0.1"), None);
        assert_eq!(ip_of("::"), None);
        assert_eq!(ip_of("-"), None);
    }

    #[test]
    fn collector_dedups_and_caps() {
        let mut c = Collector::default();
        for i in 0..100 {
            c.add(&format!("host{i}"), true);
            c.add(&format!("HOST{i}"), true);
        }
        c.add(&"x".repeat(MAX_VALUE_BYTES + 1), true);
        assert_eq!(c.values.len(), MAX_VALUES);
        assert_eq!(c.left_out, 100 - MAX_VALUES + 1);
    }
}
