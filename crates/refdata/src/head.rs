//! A cheap check of an ATT&CK bundle's first bytes, made before the file may be chosen.
//!
//! Discovery picks the highest version by file name, so any file named like a newer
//! bundle would otherwise win and break every command. Parsing 50 MB to choose is too
//! slow for every run; the head of a real bundle already says enough: a JSON object
//! whose `type` is `bundle`, and near its start the `x-mitre-collection` (or the
//! objects' `x_mitre_domains`) naming the domain. A truncated tail is not seen here:
//! the knowledge loader reports that, per domain.

use crate::discover::AttackDomain;
use crate::open::open_maybe_gzip;
use std::io::Read;
use std::path::Path;

/// How much of the (decompressed) file is read: the collection object and the first
/// objects fit in a few KiB of every published bundle.
const HEAD_BYTES: u64 = 64 * 1024;

/// Why the head of `path` is not that of a `domain` bundle, or `Ok` when it is.
pub(crate) fn check_bundle_head(domain: AttackDomain, path: &Path) -> Result<(), String> {
    let reader = open_maybe_gzip(path).map_err(|e| match e {
        crate::RefdataError::Io { source, .. } => format!("cannot be read ({source})"),
        other => other.to_string(),
    })?;
    let mut head = Vec::new();
    reader
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot be decompressed ({e})"))?;
    let compact = compact_json(&head);
    if compact.first() != Some(&b'{') {
        return Err("not a STIX bundle (does not start with a JSON object)".to_owned());
    }
    if !contains(&compact, br#""type":"bundle""#) {
        return Err("not a STIX bundle (no \"type\": \"bundle\" near its start)".to_owned());
    }
    let marks = |d: AttackDomain| {
        contains(&compact, collection_name(d).as_bytes())
            || contains(
                &compact,
                format!(r#""x_mitre_domains":["{}""#, d.file_stem()).as_bytes(),
            )
    };
    if marks(domain) {
        return Ok(());
    }
    match AttackDomain::ALL.into_iter().find(|&d| marks(d)) {
        Some(other) => Err(format!(
            "holds ATT&CK {} content, not {}",
            label(other),
            label(domain)
        )),
        None => Err(format!(
            "no ATT&CK {} collection or domain marker near its start",
            label(domain)
        )),
    }
}

fn label(domain: AttackDomain) -> &'static str {
    match domain {
        AttackDomain::Enterprise => "Enterprise",
        AttackDomain::Mobile => "Mobile",
        AttackDomain::Ics => "ICS",
    }
}

/// The `name` MITRE gives the domain's `x-mitre-collection`, as a compacted JSON pair.
fn collection_name(domain: AttackDomain) -> String {
    format!(r#""name":"{} ATT&CK""#, label(domain))
}

/// The bytes with every whitespace outside strings removed, so that the checks do not
/// depend on how the file is indented.
fn compact_json(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
            out.push(b);
        } else if !b.is_ascii_whitespace() {
            out.push(b);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_outside_strings_is_ignored() {
        assert_eq!(
            compact_json(b"{ \"type\" :\n \"bun dle\" }"),
            b"{\"type\":\"bun dle\"}"
        );
        assert_eq!(compact_json(br#"{"a":"x\" y"}"#), br#"{"a":"x\" y"}"#);
    }
}
