//! What can go wrong talking to a TAXII server.

use std::fmt;

/// A TAXII request that failed: each names the URL it was about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL given is not one the client can use.
    #[error("TAXII URL {url:?} is not usable: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The server could not be reached, or the connection failed or timed out.
    #[error("cannot reach the TAXII server at {url}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What failed.
        #[source]
        source: TransportFailure,
    },
    /// The server refused the credentials (HTTP 401) or the access (HTTP 403).
    #[error("the TAXII server refused access to {url} (HTTP {status}){}", detail_suffix(.detail))]
    Denied {
        /// The URL requested.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The server's error message, when it sent one.
        detail: Option<String>,
    },
    /// Any other HTTP error status.
    #[error("the TAXII server answered HTTP {status} for {url}{}", detail_suffix(.detail))]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's error message (TAXII error title and description), when sent.
        detail: Option<String>,
    },
    /// A redirect: not followed, as it could carry the credentials to another host.
    #[error("the TAXII server redirects {url} to {location:?}; give that URL instead")]
    Redirect {
        /// The URL requested.
        url: String,
        /// Where the server points.
        location: String,
    },
    /// The answer is not TAXII 2.1 JSON.
    #[error("the answer for {url} is not TAXII 2.1 (content type {content_type:?})")]
    MediaType {
        /// The URL requested.
        url: String,
        /// The content type the server sent.
        content_type: String,
    },
    /// The answer is larger than the cap on one answer.
    #[error("the answer for {url} exceeds {cap} bytes, the limit per page")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The cap in bytes.
        cap: u64,
    },
    /// The connection failed or timed out while the answer was read.
    #[error("reading the answer for {url} failed")]
    Read {
        /// The URL requested.
        url: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The answer is not the JSON resource expected.
    #[error("the answer for {url} is not a valid TAXII resource")]
    Json {
        /// The URL requested.
        url: String,
        /// Where and why.
        #[source]
        source: serde_json::Error,
    },
    /// A discovery resource with several API roots and no default.
    #[error("the TAXII server at {url} has {} API roots and no default; give one of them: {}", .roots.len(), .roots.join(", "))]
    AmbiguousApiRoot {
        /// The discovery URL.
        url: String,
        /// The API roots it lists.
        roots: Vec<String>,
    },
    /// A discovery resource with no API root.
    #[error("the TAXII server at {url} lists no API root")]
    NoApiRoot {
        /// The discovery URL.
        url: String,
    },
}

fn detail_suffix(detail: &Option<String>) -> String {
    match detail {
        Some(detail) => format!(": {detail}"),
        None => String::new(),
    }
}

/// A transport failure (connection refused, TLS, timeout), as ureq describes it
/// without repeating the URL.
#[derive(Debug)]
pub struct TransportFailure(pub(crate) String);

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransportFailure {}
