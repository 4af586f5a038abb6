//! Polling one collection: pages through `more` / `next` (or `added_after`, as TAXII
//! 2.1 allows), within the client's caps, stopping at a lying server.

use std::collections::HashSet;

use serde::Serialize;

use super::client::{join_segments, parse_url, Client};
use super::error::Error;
use super::resources::Envelope;
use crate::{Diagnostic, DiagnosticKind};

/// What one poll of a collection received.
#[derive(Debug, Clone, Serialize)]
pub struct Poll {
    /// The collection's URL (`…/collections/{id}/`).
    pub collection_url: String,
    /// The STIX objects of every page fully received, in the server's order.
    pub objects: Vec<serde_json::Value>,
    /// Pages fetched.
    pub pages: usize,
    /// Bytes of all pages.
    pub bytes: u64,
    /// Where the next poll starts (`added_after`): the `X-TAXII-Date-Added-Last` of the
    /// last page kept, or the cursor polled from when no page said.
    pub cursor: Option<String>,
    /// Whether the poll saw the collection's end (`more` false); false when it stopped
    /// at a cap or a fault (the next poll goes on from `cursor`).
    pub complete: bool,
    /// Why it stopped early, or what the server did wrong.
    pub diagnostics: Vec<Diagnostic>,
}

impl Client {
    /// Polls the objects of collection `collection_id` of the API root `api_root` (a
    /// discovery URL goes through [`Client::resolve_api_root`] first) added after
    /// `added_after` (the previous poll's cursor; `None` for everything).
    ///
    /// An error on the first page is an `Err`: nothing was received. A fault after
    /// it (a timeout, a page over the cap, a server that lies about `more`) stops the
    /// poll with a diagnostic; the pages received before it are kept, with their
    /// cursor.
    pub fn poll(
        &self,
        api_root: &str,
        collection_id: &str,
        added_after: Option<&str>,
    ) -> Result<Poll, Error> {
        let collection = parse_url(&collection_url(api_root, collection_id)?)?;
        let objects_url = join_segments(&collection, &["objects", ""])?;
        let location = objects_url.to_string();
        let config = self.config();
        let limit = config.page_limit.map(|limit| limit.to_string());

        let mut poll = Poll {
            collection_url: collection.to_string(),
            objects: Vec::new(),
            pages: 0,
            bytes: 0,
            cursor: added_after.map(str::to_owned),
            complete: false,
            diagnostics: Vec::new(),
        };
        let mut after = added_after.map(str::to_owned);
        let mut next: Option<String> = None;
        let mut seen = HashSet::new();
        let mut missing_cursor_reported = false;
        loop {
            if poll.pages >= config.max_pages {
                poll.stop(
                    DiagnosticKind::Limit,
                    &location,
                    format!(
                        "stopped after {} pages, the limit per poll; the next poll goes on \
                         from the cursor",
                        config.max_pages
                    ),
                );
                break;
            }
            let mut query: Vec<(&str, &str)> = Vec::new();
            if let Some(after) = &after {
                query.push(("added_after", after));
            }
            if let Some(limit) = &limit {
                query.push(("limit", limit));
            }
            if let Some(next) = &next {
                query.push(("next", next));
            }
            let answer = match self.get::<Envelope>(&objects_url, &query) {
                Ok(answer) => answer,
                Err(error) if poll.pages == 0 => return Err(error),
                Err(error) => {
                    let kind = match error {
                        Error::TooLarge { .. } => DiagnosticKind::Limit,
                        _ => DiagnosticKind::Malformed,
                    };
                    let message = format!(
                        "page {} failed, the poll stops there and keeps the {} pages before \
                         it: {}",
                        poll.pages + 1,
                        poll.pages,
                        rampart_event::error_chain(&error)
                    );
                    poll.stop(kind, &location, message);
                    break;
                }
            };
            if poll.bytes.saturating_add(answer.bytes) > config.max_poll_bytes {
                poll.stop(
                    DiagnosticKind::Limit,
                    &location,
                    format!(
                        "page {} would pass {} bytes, the limit per poll; the next poll goes \
                         on from the cursor",
                        poll.pages + 1,
                        config.max_poll_bytes
                    ),
                );
                break;
            }
            poll.pages += 1;
            poll.bytes += answer.bytes;
            let envelope = answer.body;
            let received = envelope.objects.len();
            let before = poll.objects.len();
            for object in envelope.objects {
                if seen.insert(object_version(&object)) {
                    poll.objects.push(object);
                }
            }
            // Servers may keep one `next` for a whole paging session (medallion does),
            // so a repeated token is no fault; a page with nothing new is.
            if received > 0 && poll.objects.len() == before {
                poll.stop(
                    DiagnosticKind::Malformed,
                    &location,
                    format!(
                        "page {} repeats objects already received; the poll stops there",
                        poll.pages
                    ),
                );
                break;
            }
            match &answer.date_added_last {
                Some(last) => poll.cursor = Some(last.clone()),
                None if received > 0 && !missing_cursor_reported => {
                    missing_cursor_reported = true;
                    poll.diagnostics.push(Diagnostic {
                        kind: DiagnosticKind::Malformed,
                        location: location.clone(),
                        message: "the server sent no X-TAXII-Date-Added-Last header; the \
                                  cursor stays where it was, so the next poll asks for \
                                  these objects again"
                            .to_owned(),
                    });
                }
                None => {}
            }
            if !envelope.more {
                poll.complete = true;
                break;
            }
            if received == 0 {
                poll.stop(
                    DiagnosticKind::Malformed,
                    &location,
                    format!(
                        "page {} says there is more but holds no object; the poll stops \
                         there",
                        poll.pages
                    ),
                );
                break;
            }
            match envelope.next {
                Some(token) => next = Some(token),
                // TAXII 2.1 lets a client page with `added_after` = the last page's
                // `X-TAXII-Date-Added-Last` when the server gives no `next`.
                None => match answer.date_added_last {
                    Some(last) if after.as_deref() != Some(last.as_str()) => {
                        after = Some(last);
                        next = None;
                    }
                    _ => {
                        poll.stop(
                            DiagnosticKind::Malformed,
                            &location,
                            format!(
                                "page {} says there is more but gives neither next nor a new \
                                 X-TAXII-Date-Added-Last; the poll stops there",
                                poll.pages
                            ),
                        );
                        break;
                    }
                },
            }
        }
        Ok(poll)
    }
}

/// What makes an object the same object: its id and version (`modified`, else
/// `created`; TAXII's own notion of a version).
fn object_version(object: &serde_json::Value) -> (String, String) {
    let text = |name: &str| object.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let version = match text("modified") {
        "" => text("created"),
        modified => modified,
    };
    (text("id").to_owned(), version.to_owned())
}

/// The URL of collection `collection_id` of the API root `api_root`
/// (`…/collections/{id}/`, the id one path segment).
pub fn collection_url(api_root: &str, collection_id: &str) -> Result<String, Error> {
    if collection_id.is_empty() || collection_id == "." || collection_id == ".." {
        return Err(Error::Url {
            url: collection_id.to_owned(),
            reason: "not a collection id",
        });
    }
    let root = parse_url(api_root)?;
    Ok(join_segments(&root, &["collections", collection_id, ""])?.to_string())
}

impl Poll {
    fn stop(&mut self, kind: DiagnosticKind, location: &str, message: String) {
        self.complete = false;
        self.diagnostics.push(Diagnostic {
            kind,
            location: location.to_owned(),
            message,
        });
    }
}
