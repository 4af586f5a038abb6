//! TAXII 2.1 client: server discovery, API roots, collections, and polling a
//! collection's objects page by page, incrementally from a cursor (`added_after`).
//!
//! Blocking (`ureq`), TLS certificates verified. A server is untrusted input like any
//! feed: every answer is capped in bytes, a poll in pages and bytes, timeouts bound
//! every request, and a server that lies about `more` (the same `next` twice, `more`
//! with no objects, paging that never ends) stops the poll with a diagnostic. A poll
//! that stops at a fault keeps the pages fully received before it, and its cursor is
//! the `X-TAXII-Date-Added-Last` of the last of them, so that importing the poll (one
//! transaction, cursor included) and polling again resumes right after what was kept.

mod client;
mod error;
mod feed;
mod poll;
mod resources;

pub use client::{Auth, Client, ClientConfig};
pub use error::Error;
pub use feed::source_name;
pub use poll::{collection_url, Poll};
pub use resources::{ApiRoot, Collection, Discovery};

/// The TAXII 2.1 media type, sent in `Accept` and expected back.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
