//! A poll's objects as a [`Feed`].

use super::poll::Poll;
use crate::stix::read_bundle_bytes;
use crate::{Diagnostic, DiagnosticKind, Feed};

/// The source name of a TAXII collection's indicators: `taxii:<collection URL>`.
pub fn source_name(collection_url: &str) -> String {
    format!("taxii:{collection_url}")
}

impl Poll {
    /// The indicators (and entities) of the objects received, read by the STIX bundle
    /// reader, with the poll's own diagnostics before the reader's; the source is the
    /// collection's ([`source_name`]).
    pub fn into_feed(self) -> Feed {
        let source = source_name(&self.collection_url);
        let envelope = serde_json::json!({ "objects": self.objects });
        let mut feed = match serde_json::to_vec(&envelope)
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                read_bundle_bytes(&bytes, &source).map_err(|e| rampart_event::error_chain(&e))
            }) {
            Ok(feed) => feed,
            // Objects that were JSON a moment ago are JSON still; say so if not.
            Err(reason) => Feed {
                source: source.clone(),
                diagnostics: vec![Diagnostic {
                    kind: DiagnosticKind::Malformed,
                    location: source.clone(),
                    message: reason,
                }],
                ..Feed::default()
            },
        };
        let mut diagnostics = self.diagnostics;
        diagnostics.append(&mut feed.diagnostics);
        feed.diagnostics = diagnostics;
        feed
    }
}
