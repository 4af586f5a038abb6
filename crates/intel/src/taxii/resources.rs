//! The TAXII 2.1 resources the client reads (section 4 and 5 of the specification),
//! with only the properties it uses; unknown properties are ignored.

use serde::{Deserialize, Serialize};

/// A server's discovery resource (`GET /taxii2/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// The server's title.
    #[serde(default)]
    pub title: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The default API root, when the server names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Every API root (absolute URLs once read by the client).
    #[serde(default)]
    pub api_roots: Vec<String>,
}

/// An API root's information resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoot {
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The TAXII versions it speaks (media types).
    #[serde(default)]
    pub versions: Vec<String>,
    /// The largest request body it accepts.
    #[serde(default)]
    pub max_content_length: u64,
}

/// One collection of an API root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// Its id (used in URLs and by `poll`).
    pub id: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Another name for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Whether the credentials may read its objects.
    #[serde(default)]
    pub can_read: bool,
    /// Whether the credentials may add objects.
    #[serde(default)]
    pub can_write: bool,
    /// The media types of its objects.
    #[serde(default)]
    pub media_types: Vec<String>,
}

/// The collections resource.
#[derive(Debug, Deserialize)]
pub(crate) struct Collections {
    #[serde(default)]
    pub collections: Vec<Collection>,
}

/// One page of objects (the envelope resource).
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    #[serde(default)]
    pub more: bool,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub objects: Vec<serde_json::Value>,
}

/// A TAXII error message (section 3.6), shown with an HTTP error status.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorMessage {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}
