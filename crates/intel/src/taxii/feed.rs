//! A poll's objects as a [`Feed`].

use super::poll::Poll;
use crate::{Diagnostic, DiagnosticKind, Feed, Indicator, Observable, ObservableKind};

/// The source name of a TAXII collection's indicators: `taxii:<collection URL>`.
pub fn source_name(collection_url: &str) -> String {
    format!("taxii:{collection_url}")
}

impl Poll {
    /// The indicators (and entities) of the objects received, with the poll's own
    /// diagnostics before the reader's; the source is the collection's
    /// ([`source_name`]).
    pub fn into_feed(self) -> Feed {
        let source = source_name(&self.collection_url);
        let mut feed = interim::read_objects(&source, &self.objects);
        let mut diagnostics = self.diagnostics;
        diagnostics.append(&mut feed.diagnostics);
        feed.diagnostics = diagnostics;
        feed
    }
}

/// Reads indicators whose pattern is one comparison `[type:path = 'value']` (or an
/// `OR` of them); everything else is reported. Stands in for the STIX bundle reader
/// until it lands.
mod interim {
    use super::*;

    pub(super) fn read_objects(source: &str, objects: &[serde_json::Value]) -> Feed {
        let mut feed = Feed {
            source: source.to_owned(),
            ..Feed::default()
        };
        for object in objects {
            if object.get("type").and_then(|t| t.as_str()) != Some("indicator") {
                continue;
            }
            let id = object.get("id").and_then(|v| v.as_str()).unwrap_or("");
            let pattern = object.get("pattern").and_then(|v| v.as_str()).unwrap_or("");
            let Some(alternatives) = alternatives(pattern) else {
                feed.diagnostics.push(Diagnostic {
                    kind: DiagnosticKind::UnsupportedPattern,
                    location: id.to_owned(),
                    message: format!("pattern {pattern:?} is not supported"),
                });
                continue;
            };
            let text = |name: &str| object.get(name).and_then(|v| v.as_str()).map(str::to_owned);
            let time = |name: &str| {
                object
                    .get(name)
                    .and_then(|v| v.as_str())
                    .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                    .map(|v| v.with_timezone(&chrono::Utc))
            };
            let many = alternatives.len() > 1;
            for (index, observable) in alternatives.into_iter().enumerate() {
                feed.indicators.push(Indicator {
                    id: if many {
                        format!("{id}#{index}")
                    } else {
                        id.to_owned()
                    },
                    source: source.to_owned(),
                    all_of: vec![observable],
                    name: text("name"),
                    description: text("description"),
                    confidence: object
                        .get("confidence")
                        .and_then(|v| v.as_u64())
                        .and_then(|v| u8::try_from(v.min(100)).ok()),
                    labels: Vec::new(),
                    valid_from: time("valid_from"),
                    valid_until: time("valid_until"),
                    first_seen: None,
                    last_seen: None,
                    detect: true,
                    context: Default::default(),
                });
            }
        }
        feed
    }

    fn alternatives(pattern: &str) -> Option<Vec<Observable>> {
        let inner = pattern.trim().strip_prefix('[')?.strip_suffix(']')?;
        inner.split(" OR ").map(comparison).collect()
    }

    fn comparison(text: &str) -> Option<Observable> {
        let (path, value) = text.split_once('=')?;
        let value = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
        let path = path.trim().to_ascii_lowercase().replace(['\'', '-'], "");
        let kind = match path.as_str() {
            "ipv4addr:value" | "ipv6addr:value" => ObservableKind::Ip,
            "domainname:value" => ObservableKind::Domain,
            "url:value" => ObservableKind::Url,
            "emailaddr:value" => ObservableKind::Email,
            "file:name" => ObservableKind::FileName,
            "file:hashes.sha256" => ObservableKind::Sha256,
            "file:hashes.sha1" => ObservableKind::Sha1,
            "file:hashes.md5" => ObservableKind::Md5,
            _ => return None,
        };
        let value = match kind {
            ObservableKind::Ip => value.strip_suffix("/32").unwrap_or(value).to_owned(),
            ObservableKind::Url | ObservableKind::FileName => value.to_owned(),
            _ => value.to_ascii_lowercase(),
        };
        Some(Observable { kind, value })
    }
}
