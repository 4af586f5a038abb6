//! Turning the files `intel import` is given into feeds, and command-line values into
//! stored form.
//!
//! Plain lists only, read here until the intel crate's readers (STIX, MISP, lists and
//! CSV, with refanging and canonical forms) are in this build: one value per line,
//! `#` starting a comment, the kind given or guessed from the value's shape.

use anyhow::Context;
use rampart_intel::{Diagnostic, DiagnosticKind, Feed, Indicator, Observable, ObservableKind};
use std::net::IpAddr;
use std::path::Path;

/// Reads one feed file.
pub fn read_feed(path: &Path, kind: Option<ObservableKind>) -> anyhow::Result<Feed> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        anyhow::bail!(
            "{}: STIX and MISP JSON feeds need the intel readers, not in this build yet",
            path.display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let source = format!("list:{name}");
    let mut feed = Feed {
        source: source.clone(),
        ..Feed::default()
    };
    for (number, line) in text.lines().enumerate() {
        let value = line.split('#').next().unwrap_or("").trim();
        // A list line may carry a comment after the value.
        let Some(value) = value.split_whitespace().next() else {
            continue;
        };
        let location = format!("{}:{}", path.display(), number + 1);
        let Some(found) = kind.or_else(|| guess_kind(value)) else {
            feed.diagnostics.push(Diagnostic {
                kind: DiagnosticKind::UnsupportedType,
                location,
                message: format!("`{value}` is no indicator kind Rampart knows"),
            });
            continue;
        };
        match normalize_value(found, value) {
            Ok(value) => feed.indicators.push(Indicator {
                id: format!("{}:{value}", found.name()),
                source: source.clone(),
                all_of: vec![Observable { kind: found, value }],
                name: None,
                description: None,
                confidence: None,
                labels: Vec::new(),
                valid_from: None,
                valid_until: None,
                first_seen: None,
                last_seen: None,
                detect: true,
                context: Default::default(),
            }),
            Err(error) => feed.diagnostics.push(Diagnostic {
                kind: DiagnosticKind::InvalidValue,
                location,
                message: error.to_string(),
            }),
        }
    }
    Ok(feed)
}

/// The kind a bare value's shape says.
fn guess_kind(value: &str) -> Option<ObservableKind> {
    let value = refang(value);
    if value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return match value.len() {
            32 => Some(ObservableKind::Md5),
            40 => Some(ObservableKind::Sha1),
            64 => Some(ObservableKind::Sha256),
            128 => Some(ObservableKind::Sha512),
            _ => None,
        };
    }
    if canonical_ip(&value).is_some() {
        Some(ObservableKind::Ip)
    } else if value.contains("://") {
        Some(ObservableKind::Url)
    } else if value.contains('@') {
        Some(ObservableKind::Email)
    } else if value.contains('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
    {
        Some(ObservableKind::Domain)
    } else {
        None
    }
}

/// Defanged forms undone: `hxxp`, `[.]`, `(.)`, `[:]`, `[@]`.
fn refang(value: &str) -> String {
    let mut text = value.trim().to_string();
    for (from, to) in [("[.]", "."), ("(.)", "."), ("[:]", ":"), ("[@]", "@")] {
        text = text.replace(from, to);
    }
    for (from, to) in [("hxxps", "https"), ("hxxp", "http")] {
        if text.len() >= from.len() && text[..from.len()].eq_ignore_ascii_case(from) {
            text = format!("{to}{}", &text[from.len()..]);
        }
    }
    text
}

/// An address or network in canonical form.
fn canonical_ip(value: &str) -> Option<String> {
    match value.split_once('/') {
        None => value.parse::<IpAddr>().ok().map(|ip| ip.to_string()),
        Some((address, bits)) => {
            let address: IpAddr = address.parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            (bits <= max).then(|| format!("{address}/{bits}"))
        }
    }
}

/// A value in the form the store keeps for its kind (refanged, canonical, case folded
/// where the kind ignores case).
pub fn normalize_value(kind: ObservableKind, raw: &str) -> anyhow::Result<String> {
    let value = refang(raw);
    if value.is_empty() {
        anyhow::bail!("an empty value");
    }
    let hex_len = match kind {
        ObservableKind::Md5 | ObservableKind::Imphash => Some(32),
        ObservableKind::Sha1 => Some(40),
        ObservableKind::Sha256 => Some(64),
        ObservableKind::Sha512 => Some(128),
        _ => None,
    };
    if let Some(len) = hex_len {
        if value.len() != len || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!("`{value}` is not a {} ({len} hex digits)", kind.name());
        }
        return Ok(value.to_ascii_lowercase());
    }
    Ok(match kind {
        ObservableKind::Ip => canonical_ip(&value)
            .with_context(|| format!("`{value}` is not an IP address or network"))?,
        ObservableKind::Domain => value.trim_end_matches('.').to_lowercase(),
        ObservableKind::Url => match value.split_once("://") {
            Some((scheme, rest)) => {
                let host_end = rest.find('/').unwrap_or(rest.len());
                format!(
                    "{}://{}{}",
                    scheme.to_ascii_lowercase(),
                    rest[..host_end].to_lowercase(),
                    &rest[host_end..]
                )
            }
            None => value,
        },
        _ => value.to_lowercase(),
    })
}

/// A `--value` filter: normalised for its kind when given (or one whose shape says it),
/// else as typed.
pub fn normalize_query(kind: Option<ObservableKind>, raw: &str) -> String {
    kind.or_else(|| guess_kind(raw))
        .and_then(|kind| normalize_value(kind, raw).ok())
        .unwrap_or_else(|| raw.trim().to_string())
}
