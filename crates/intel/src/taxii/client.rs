//! The HTTP side: one agent with its timeouts, credentials, caps, and the requests
//! for discovery, API roots and collections.

use std::fmt;
use std::io::Read;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{Error, TransportFailure};
use super::resources::{ApiRoot, Collection, Collections, Discovery, ErrorMessage};
use super::MEDIA_TYPE;

/// Timeouts and caps of a [`Client`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Time allowed to open the connection (and TLS handshake).
    pub connect_timeout: Duration,
    /// Time allowed for any one read or write on the connection.
    pub read_timeout: Duration,
    /// Time allowed for a whole request and its answer, so a server that trickles
    /// bytes cannot hold a poll forever.
    pub request_timeout: Duration,
    /// The largest answer (one page) read; a larger one stops the poll.
    pub max_page_bytes: u64,
    /// The most pages one poll fetches; the rest waits for the next poll.
    pub max_pages: usize,
    /// The most bytes one poll fetches in all pages together.
    pub max_poll_bytes: u64,
    /// The `limit` asked for per page (the server may give fewer); `None` leaves it
    /// to the server.
    pub page_limit: Option<u32>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(300),
            max_page_bytes: 64 << 20,
            max_pages: 1_000,
            max_poll_bytes: 1 << 30,
            page_limit: None,
        }
    }
}

/// Credentials sent with every request.
#[derive(Clone, Default)]
pub enum Auth {
    /// None.
    #[default]
    None,
    /// HTTP basic authentication.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// A bearer token (`Authorization: Bearer …`).
    Bearer(String),
}

// Secrets stay out of logs and panic messages.
impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, password: <hidden> }}"),
            Auth::Bearer(_) => f.write_str("Bearer(<hidden>)"),
        }
    }
}

impl Auth {
    fn header(&self) -> Option<String> {
        match self {
            Auth::None => None,
            Auth::Basic { user, password } => {
                let pair = format!("{user}:{password}");
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
        }
    }
}

/// A TAXII 2.1 client: one connection pool, credentials and caps.
pub struct Client {
    agent: ureq::Agent,
    authorization: Option<String>,
    config: ClientConfig,
}

/// A successful answer: its resource, size and paging headers.
pub(crate) struct Answer<T> {
    pub body: T,
    pub bytes: u64,
    pub date_added_last: Option<String>,
}

impl Client {
    /// A client sending `auth` with every request, within `config`'s limits.
    pub fn new(auth: Auth, config: ClientConfig) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(config.connect_timeout)
            .timeout_read(config.read_timeout)
            .timeout_write(config.read_timeout)
            // Not ureq's overall `timeout`: it replaces the read timeout, and a server
            // silent for a minute must fail then, not at the end of the whole allowance.
            // The overall deadline is checked while the body is read instead.
            // Credentials must not follow a redirect to another host; a redirect is
            // reported with its target instead.
            .redirects(0)
            .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            agent,
            authorization: auth.header(),
            config,
        }
    }

    /// Its limits.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The discovery resource at `url` (a server's `/taxii2/`), its API roots made
    /// absolute.
    pub fn discover(&self, url: &str) -> Result<Discovery, Error> {
        let url = parse_url(url)?;
        let mut discovery: Discovery = self.get(&url, &[])?.body;
        absolute_roots(&url, &mut discovery)?;
        Ok(discovery)
    }

    /// The API root `url` names: `url` itself when it is an API root, else (a
    /// discovery URL) the server's default API root, or its only one.
    pub fn resolve_api_root(&self, url: &str) -> Result<String, Error> {
        let parsed = parse_url(url)?;
        let answer: serde_json::Value = self.get(&parsed, &[])?.body;
        if answer.get("api_roots").is_none() {
            return Ok(parsed.to_string());
        }
        let mut discovery: Discovery =
            serde_json::from_value(answer).map_err(|source| Error::Json {
                url: parsed.to_string(),
                source,
            })?;
        absolute_roots(&parsed, &mut discovery)?;
        match (discovery.default, discovery.api_roots.len()) {
            (Some(default), _) => Ok(default),
            (None, 1) => Ok(discovery.api_roots.remove(0)),
            (None, 0) => Err(Error::NoApiRoot {
                url: parsed.to_string(),
            }),
            (None, _) => Err(Error::AmbiguousApiRoot {
                url: parsed.to_string(),
                roots: discovery.api_roots,
            }),
        }
    }

    /// The information resource of the API root at `url`.
    pub fn api_root(&self, url: &str) -> Result<ApiRoot, Error> {
        let url = parse_url(url)?;
        Ok(self.get(&url, &[])?.body)
    }

    /// The collections of the API root `api_root` (an API root URL, or a discovery
    /// URL: see [`Client::resolve_api_root`]).
    pub fn collections(&self, api_root: &str) -> Result<Vec<Collection>, Error> {
        let root = parse_url(&self.resolve_api_root(api_root)?)?;
        let url = join_segments(&root, &["collections", ""])?;
        let collections: Collections = self.get(&url, &[])?.body;
        Ok(collections.collections)
    }

    /// GETs `url` with `query`, checks status, media type and size, and reads the
    /// JSON resource.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        url: &Url,
        query: &[(&str, &str)],
    ) -> Result<Answer<T>, Error> {
        let shown = url.to_string();
        let mut request = self.agent.request_url("GET", url).set("Accept", MEDIA_TYPE);
        for (name, value) in query {
            request = request.query(name, value);
        }
        if let Some(authorization) = &self.authorization {
            request = request.set("Authorization", authorization);
        }
        let deadline = Instant::now() + self.config.request_timeout;
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, response)) => {
                let detail = error_detail(response);
                return Err(if status == 401 || status == 403 {
                    Error::Denied {
                        url: shown,
                        status,
                        detail,
                    }
                } else {
                    Error::Status {
                        url: shown,
                        status,
                        detail,
                    }
                });
            }
            Err(ureq::Error::Transport(transport)) => {
                return Err(Error::Transport {
                    url: shown,
                    source: transport_failure(&transport),
                })
            }
        };
        if (300..400).contains(&response.status()) {
            return Err(Error::Redirect {
                url: shown,
                location: response.header("Location").unwrap_or("").to_owned(),
            });
        }
        let content_type = response.header("Content-Type").unwrap_or("").to_owned();
        if !is_taxii_json(&content_type) {
            return Err(Error::MediaType {
                url: shown,
                content_type,
            });
        }
        let date_added_last = response
            .header("X-TAXII-Date-Added-Last")
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty());
        let cap = self.config.max_page_bytes;
        let announced = response
            .header("Content-Length")
            .and_then(|value| value.trim().parse::<u64>().ok());
        if announced.is_some_and(|length| length > cap) {
            return Err(Error::TooLarge { url: shown, cap });
        }
        let mut body = Vec::new();
        let reader = Deadline {
            inner: response.into_reader(),
            deadline,
        };
        reader
            .take(cap.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|source| Error::Read {
                url: shown.clone(),
                source,
            })?;
        if body.len() as u64 > cap {
            return Err(Error::TooLarge { url: shown, cap });
        }
        let parsed = serde_json::from_slice(&body).map_err(|source| Error::Json {
            url: shown.clone(),
            source,
        })?;
        Ok(Answer {
            body: parsed,
            bytes: body.len() as u64,
            date_added_last,
        })
    }
}

/// A reader that fails once its deadline has passed, so a server trickling bytes
/// (each read within the read timeout) cannot hold a request forever.
struct Deadline<R> {
    inner: R,
    deadline: Instant,
}

impl<R: Read> Read for Deadline<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if Instant::now() > self.deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request took longer than allowed (timed out)",
            ));
        }
        self.inner.read(buf)
    }
}

/// Parses a URL the client may use: http or https, no credentials in it (they would
/// end up in shell history and logs), ending in `/` as every TAXII URL does.
pub(crate) fn parse_url(text: &str) -> Result<Url, Error> {
    let bad = |reason| Error::Url {
        url: text.to_owned(),
        reason,
    };
    let mut url = Url::parse(text.trim()).map_err(|_| bad("not a URL"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad("only http and https are supported"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials in the URL are refused: give the user with --user and the password \
             through the environment or a file",
        ));
    }
    if url.host_str().is_none() {
        return Err(bad("no host"));
    }
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// `base` with `segments` appended, each percent-encoded as one path segment (a
/// collection id cannot climb out of its API root).
pub(crate) fn join_segments(base: &Url, segments: &[&str]) -> Result<Url, Error> {
    let mut url = base.clone();
    url.set_query(None);
    match url.path_segments_mut() {
        Ok(mut path) => {
            path.pop_if_empty().extend(segments);
        }
        Err(()) => {
            return Err(Error::Url {
                url: base.to_string(),
                reason: "not a hierarchical URL",
            })
        }
    }
    Ok(url)
}

/// Discovery may list API roots relative to the server; make them absolute.
fn absolute_roots(base: &Url, discovery: &mut Discovery) -> Result<(), Error> {
    let absolute = |root: &str| -> Result<String, Error> {
        let joined = base.join(root).map_err(|_| Error::Url {
            url: root.to_owned(),
            reason: "an API root of the discovery resource is not a URL",
        })?;
        Ok(parse_url(joined.as_str())?.to_string())
    };
    for root in &mut discovery.api_roots {
        *root = absolute(root)?;
    }
    if let Some(default) = &discovery.default {
        discovery.default = Some(absolute(default)?);
    }
    Ok(())
}

/// TAXII 2.1 JSON (`application/taxii+json`, version 2.1 or unstated); plain
/// `application/json` too, which some servers send — the resource is still checked.
fn is_taxii_json(content_type: &str) -> bool {
    let lowered = content_type.to_ascii_lowercase().replace(' ', "");
    let mut parts = lowered.split(';');
    let main = parts.next().unwrap_or("");
    match main {
        "application/taxii+json" => parts.all(|param| match param.split_once('=') {
            Some(("version", version)) => version == "2.1",
            _ => true,
        }),
        "application/json" => true,
        _ => false,
    }
}

/// The TAXII error message of an error answer (title and description), read within a
/// small cap; `None` when the body is not one.
fn error_detail(response: ureq::Response) -> Option<String> {
    let mut body = Vec::new();
    response
        .into_reader()
        .take(16 << 10)
        .read_to_end(&mut body)
        .ok()?;
    let message: ErrorMessage = serde_json::from_slice(&body).ok()?;
    let title = message.title.trim();
    match message.description.as_deref().map(str::trim) {
        Some(description) if !description.is_empty() && !title.is_empty() => {
            Some(format!("{title}: {description}"))
        }
        Some(description) if !description.is_empty() => Some(description.to_owned()),
        _ if !title.is_empty() => Some(title.to_owned()),
        _ => None,
    }
}

/// ureq's transport error without the URL it repeats.
fn transport_failure(transport: &ureq::Transport) -> TransportFailure {
    let mut reason = transport.kind().to_string();
    if let Some(message) = transport.message() {
        reason = format!("{reason}: {message}");
    }
    if let Some(source) = std::error::Error::source(transport) {
        reason = format!("{reason}: {source}");
    }
    TransportFailure(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_credentials_are_refused() {
        let error = parse_url("https://user:secret@taxii.example/taxii2/").unwrap_err();
        assert!(error.to_string().contains("--user"), "{error}");
        assert!(parse_url("ftp://taxii.example/").is_err());
        assert_eq!(
            parse_url("https://taxii.example/api1").unwrap().as_str(),
            "https://taxii.example/api1/"
        );
    }

    #[test]
    fn collection_ids_stay_one_segment() {
        let root = parse_url("https://taxii.example/api1/").unwrap();
        let url = join_segments(&root, &["collections", "../../x?y", "objects", ""]).unwrap();
        assert_eq!(
            url.as_str(),
            "https://taxii.example/api1/collections/..%2F..%2Fx%3Fy/objects/"
        );
    }

    #[test]
    fn media_types() {
        assert!(is_taxii_json("application/taxii+json;version=2.1"));
        assert!(is_taxii_json(
            "application/taxii+json; version=2.1; charset=utf-8"
        ));
        assert!(is_taxii_json("application/taxii+json"));
        assert!(is_taxii_json("application/json"));
        assert!(!is_taxii_json("application/taxii+json;version=2.0"));
        assert!(!is_taxii_json("text/html; charset=utf-8"));
        assert!(!is_taxii_json(""));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let basic = Auth::Basic {
            user: "analyst".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{basic:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("tok3n".into())).contains("tok3n"));
    }
}
