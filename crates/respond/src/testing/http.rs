//! The HTTP test peer: std's `TcpListener`, `httparse` for request heads, one thread
//! per connection, keep-alive.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use super::TestCa;

/// The largest request head and body the peer reads.
const MAX_HEAD: usize = 64 << 10;
const MAX_BODY: usize = 16 << 20;

/// One request as the peer received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Method.
    pub method: String,
    /// Request target (path and query).
    pub path: String,
    /// Headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Its `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// When its head was read (latency measurements).
    pub received: std::time::Instant,
}

impl RecordedRequest {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[derive(Debug)]
struct State {
    requests: Vec<RecordedRequest>,
    /// The answer given when a key was first acted on.
    answers: HashMap<String, Answer>,
    acted: BTreeMap<String, usize>,
    delivered: BTreeMap<String, usize>,
    acted_without_key: usize,
    success: Answer,
    delay: Duration,
    hang: bool,
    failures: u32,
    failure: Answer,
    record_limit: usize,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An HTTP(S) server on `127.0.0.1` that acts once per idempotency key. Stops when
/// dropped.
#[derive(Debug)]
pub struct HttpPeer {
    addr: SocketAddr,
    scheme: &'static str,
    shared: Arc<Shared>,
}

impl HttpPeer {
    /// A plain HTTP peer on a free port.
    pub fn start() -> HttpPeer {
        HttpPeer::spawn(None)
    }

    /// An HTTPS peer presenting `ca`'s `localhost` certificate.
    pub fn start_tls(ca: &TestCa) -> HttpPeer {
        HttpPeer::spawn(Some(ca.server_config()))
    }

    fn spawn(tls: Option<Arc<rustls::ServerConfig>>) -> HttpPeer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                requests: Vec::new(),
                answers: HashMap::new(),
                acted: BTreeMap::new(),
                delivered: BTreeMap::new(),
                acted_without_key: 0,
                success: Answer {
                    status: 201,
                    headers: Vec::new(),
                    body: br#"{"ok":true}"#.to_vec(),
                },
                delay: Duration::ZERO,
                hang: false,
                failures: 0,
                failure: Answer {
                    status: 503,
                    headers: Vec::new(),
                    body: br#"{"error":"unavailable"}"#.to_vec(),
                },
                record_limit: 100_000,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accepting);
                let tls = tls.clone();
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
                    let _ = stream.set_nodelay(true);
                    match tls {
                        None => serve(stream, &shared),
                        Some(config) => {
                            let Ok(connection) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            serve(rustls::StreamOwned::new(connection, stream), &shared);
                        }
                    }
                });
            }
        });
        HttpPeer {
            addr,
            scheme,
            shared,
        }
    }

    /// `http://127.0.0.1:PORT` or `https://localhost:PORT`.
    pub fn url(&self) -> String {
        match self.scheme {
            "https" => format!("https://localhost:{}", self.addr.port()),
            _ => format!("http://{}", self.addr),
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The answer to a request it acts on (default 201, `{"ok":true}`), with extra
    /// headers.
    pub fn set_answer(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        let mut state = self.shared.lock();
        state.success = Answer {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        };
    }

    /// Waits `delay` after acting on a request before answering it: a slow peer, and
    /// one whose answer a client that gives up first never sees.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.lock().delay = delay;
    }

    /// Answers the next `count` requests with `status` (503, 429, …; with
    /// `Retry-After: retry_after` seconds when given), without acting on them.
    pub fn fail_next(&self, count: u32, status: u16, retry_after: Option<u64>) {
        let mut state = self.shared.lock();
        state.failures = count;
        state.failure = Answer {
            status,
            headers: retry_after
                .map(|seconds| vec![("Retry-After".to_owned(), seconds.to_string())])
                .unwrap_or_default(),
            body: format!(r#"{{"error":"injected {status}"}}"#).into_bytes(),
        };
    }

    /// While `hang` holds, requests are read and recorded but neither acted on nor
    /// answered.
    pub fn set_hang(&self, hang: bool) {
        self.shared.lock().hang = hang;
        self.shared.changed.notify_all();
    }

    /// Keeps at most `limit` requests in [`HttpPeer::requests`] (default 100,000);
    /// counts per key go on.
    pub fn set_record_limit(&self, limit: usize) {
        self.shared.lock().record_limit = limit;
    }

    /// Every request received, in order (up to the record limit).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many times each idempotency key was acted on (at most once, unless the peer
    /// was wrong).
    pub fn acted(&self) -> BTreeMap<String, usize> {
        self.shared.lock().acted.clone()
    }

    /// How many times a request with each idempotency key arrived (retries and
    /// resends included).
    pub fn delivered(&self) -> BTreeMap<String, usize> {
        self.shared.lock().delivered.clone()
    }

    /// Checks that exactly the `expected` keys were acted on, each once: the error
    /// lists the keys never acted on, acted on more than once, and not expected.
    pub fn check_acted_once<'a>(
        &self,
        expected: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), String> {
        let acted = self.acted();
        let expected: std::collections::BTreeSet<&str> = expected.into_iter().collect();
        let missing: Vec<&str> = expected
            .iter()
            .copied()
            .filter(|key| !acted.contains_key(*key))
            .collect();
        let repeated: Vec<(&String, &usize)> =
            acted.iter().filter(|(_, count)| **count > 1).collect();
        let unexpected: Vec<&String> = acted
            .keys()
            .filter(|key| !expected.contains(key.as_str()))
            .collect();
        if missing.is_empty() && repeated.is_empty() && unexpected.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} key(s) never acted on {:?}, {} acted on more than once {:?}, {} not expected {:?}",
                missing.len(),
                missing.iter().take(5).collect::<Vec<_>>(),
                repeated.len(),
                repeated.iter().take(5).collect::<Vec<_>>(),
                unexpected.len(),
                unexpected.iter().take(5).collect::<Vec<_>>(),
            ))
        }
    }

    /// How many requests without an idempotency key it acted on.
    pub fn acted_without_key(&self) -> usize {
        self.shared.lock().acted_without_key
    }

    /// Waits until `keys` keys were acted on, up to `timeout`; whether they were.
    pub fn wait_for_acted(&self, keys: usize, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.acted.len() < keys {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        true
    }
}

impl Drop for HttpPeer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // Wakes the accepting thread so it sees the stop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Serves requests on one connection until it closes or the peer stops.
fn serve(mut stream: impl Read + Write, shared: &Shared) {
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 << 10];
    loop {
        // Reads a whole head.
        let (request, head_len, body_len) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(&buffer) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let headers: Vec<(String, String)> = parsed
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_owned(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    let body_len = headers
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    let request = RecordedRequest {
                        method: parsed.method.unwrap_or("").to_owned(),
                        path: parsed.path.unwrap_or("").to_owned(),
                        idempotency_key: headers
                            .iter()
                            .find(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
                            .map(|(_, value)| value.clone()),
                        headers,
                        body: Vec::new(),
                        received: std::time::Instant::now(),
                    };
                    break (request, head_len, body_len);
                }
                Ok(httparse::Status::Partial) if buffer.len() < MAX_HEAD => {
                    if !read_more(&mut stream, &mut buffer, &mut chunk, shared) {
                        return;
                    }
                }
                _ => {
                    let _ = write_answer(
                        &mut stream,
                        &Answer {
                            status: 400,
                            headers: Vec::new(),
                            body: b"bad request".to_vec(),
                        },
                        false,
                    );
                    return;
                }
            }
        };
        if body_len > MAX_BODY {
            return;
        }
        while buffer.len() < head_len + body_len {
            if !read_more(&mut stream, &mut buffer, &mut chunk, shared) {
                return;
            }
        }
        let mut request = request;
        request.body = buffer[head_len..head_len + body_len].to_vec();
        buffer.drain(..head_len + body_len);
        let close = request
            .header("connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"));
        let Some((answer, replayed)) = handle(shared, request) else {
            return;
        };
        if write_answer(&mut stream, &answer, replayed).is_err() || close {
            return;
        }
    }
}

/// Reads more bytes; false when the connection ended or the peer stops.
fn read_more(
    stream: &mut impl Read,
    buffer: &mut Vec<u8>,
    chunk: &mut [u8],
    shared: &Shared,
) -> bool {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return false;
        }
        match stream.read(chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return false,
        }
    }
}

/// Records `request`, acts on it (once per key) and gives the answer; `None` when the
/// connection is to be dropped unanswered (hang, then stop).
fn handle(shared: &Shared, request: RecordedRequest) -> Option<(Answer, bool)> {
    let key = request.idempotency_key.clone();
    let mut state = shared.lock();
    if let Some(key) = &key {
        *state.delivered.entry(key.clone()).or_default() += 1;
    }
    if state.requests.len() < state.record_limit {
        state.requests.push(request);
    }
    shared.changed.notify_all();
    while state.hang {
        if shared.stop.load(Ordering::SeqCst) {
            return None;
        }
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(100))
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
    if state.failures > 0 {
        state.failures -= 1;
        return Some((state.failure.clone(), false));
    }
    let (answer, replayed) = match key {
        None => {
            state.acted_without_key += 1;
            (state.success.clone(), false)
        }
        Some(key) => match state.answers.get(&key) {
            Some(first) => (first.clone(), true),
            None => {
                let answer = state.success.clone();
                state.answers.insert(key.clone(), answer.clone());
                *state.acted.entry(key).or_default() += 1;
                (answer, false)
            }
        },
    };
    let delay = state.delay;
    shared.changed.notify_all();
    drop(state);
    if !delay.is_zero() {
        thread::sleep(delay);
    }
    Some((answer, replayed))
}

fn write_answer(stream: &mut impl Write, answer: &Answer, replayed: bool) -> io::Result<()> {
    let reason = match answer.status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        answer.status,
        answer.body.len()
    );
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if replayed {
        head.push_str("Idempotent-Replayed: true\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&answer.body);
    stream.write_all(&bytes)?;
    stream.flush()
}
