//! The TAXII client against servers that misbehave: a small HTTP server on std's
//! `TcpListener`, written here to inject each fault (medallion serves the happy
//! paths, `taxii_medallion.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rampart_intel::taxii::{Auth, Client, ClientConfig, Error};
use rampart_intel::DiagnosticKind;
use serde_json::json;

/// One request as the fault server saw it.
#[derive(Debug, Clone)]
struct Request {
    target: String,
    authorization: Option<String>,
}

/// What the fault server does with a request.
enum Reply {
    /// Answers with a status, extra headers and a body.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Sends an answer head announcing no length, then `bytes` of body without end.
    Stream { bytes: usize },
    /// Never answers (until the client gives up).
    Stall,
    /// Sends an answer head, then one byte of body every 100 ms, without end.
    Trickle,
}

fn taxii(body: serde_json::Value, date_added_last: Option<&str>) -> Reply {
    let mut headers = vec![(
        "Content-Type".to_owned(),
        "application/taxii+json;version=2.1".to_owned(),
    )];
    if let Some(last) = date_added_last {
        headers.push(("X-TAXII-Date-Added-Last".to_owned(), last.to_owned()));
    }
    Reply::Answer {
        status: 200,
        headers,
        body: serde_json::to_vec(&body).unwrap(),
    }
}

fn indicator(n: usize) -> serde_json::Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": format!("[domain-name:value = 'host{n}.example']"),
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    })
}

/// A server on a free port answering each request (the n-th, from 0) with
/// `reply(n, &request)`; it records the requests.
struct FaultServer {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FaultServer {
    fn start(reply: impl Fn(usize, &Request) -> Reply + Send + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api1/", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        // The thread ends with the test process; a stalled connection is held open
        // by a detached thread so the listener keeps accepting.
        thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                seen.lock().unwrap().push(request.clone());
                let action = reply(n, &request);
                thread::spawn(move || respond(stream, action));
            }
        });
        FaultServer { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_owned();
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_owned());
            }
        }
    }
    Some(Request {
        target,
        authorization,
    })
}

fn respond(mut stream: TcpStream, reply: Reply) {
    match reply {
        Reply::Answer {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        Reply::Stream { bytes } => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\n\
                        Connection: close\r\n\r\n{\"objects\": [";
            let _ = stream.write_all(head.as_bytes());
            let chunk = vec![b' '; 64 << 10];
            let mut sent = 0;
            while sent < bytes {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
                sent += chunk.len();
            }
        }
        Reply::Stall => thread::sleep(Duration::from_secs(30)),
        Reply::Trickle => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\n\
                        Connection: close\r\n\r\n";
            let _ = stream.write_all(head.as_bytes());
            while stream.write_all(b" ").is_ok() {
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn quick_client(config: ClientConfig) -> Client {
    Client::new(
        Auth::None,
        ClientConfig {
            read_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_secs(20),
            ..config
        },
    )
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = FaultServer::start(|_, _| Reply::Stall);
    let error = quick_client(ClientConfig::default())
        .poll(&server.url, "c1", None)
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    let message = rampart_event::error_chain(&error).to_lowercase();
    assert!(message.contains("timed out"), "{message}");
}

#[test]
fn a_server_that_trickles_is_cut_at_the_request_deadline() {
    let server = FaultServer::start(|_, _| Reply::Trickle);
    let client = Client::new(
        Auth::None,
        ClientConfig {
            read_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_secs(2),
            ..ClientConfig::default()
        },
    );
    let error = client.poll(&server.url, "c1", None).unwrap_err();
    assert!(matches!(error, Error::Read { .. }), "{error:?}");
    let message = rampart_event::error_chain(&error);
    assert!(message.contains("timed out"), "{message}");
}

#[test]
fn a_timeout_after_the_first_page_keeps_the_pages_before_it() {
    let server = FaultServer::start(|n, _| match n {
        0 => taxii(
            json!({"more": true, "next": "p2", "objects": [indicator(1), indicator(2)]}),
            Some("2024-01-01T00:00:02.000000Z"),
        ),
        _ => Reply::Stall,
    });
    let poll = quick_client(ClientConfig::default())
        .poll(&server.url, "c1", Some("2023-12-31T00:00:00.000000Z"))
        .unwrap();
    assert!(!poll.complete);
    assert_eq!(poll.pages, 1);
    assert_eq!(poll.objects.len(), 2);
    assert_eq!(poll.cursor.as_deref(), Some("2024-01-01T00:00:02.000000Z"));
    assert_eq!(poll.diagnostics.len(), 1);
    let message = &poll.diagnostics[0].message;
    assert!(message.contains("page 2 failed"), "{message}");
    assert!(message.to_lowercase().contains("timed out"), "{message}");
    let requests = server.requests();
    assert!(requests[1].target.contains("next=p2"), "{requests:?}");
    assert!(
        requests[1].target.contains("added_after=2023-12-31"),
        "the same filter with next: {requests:?}"
    );
    assert_eq!(poll.into_feed().indicators.len(), 2);
}

#[test]
fn a_server_repeating_a_page_stops_the_poll() {
    let server = FaultServer::start(|n, _| {
        taxii(
            json!({"more": true, "next": "again", "objects": [indicator(1)]}),
            Some(&format!("2024-01-01T00:00:0{}.000000Z", n + 1)),
        )
    });
    let poll = quick_client(ClientConfig::default())
        .poll(&server.url, "c1", None)
        .unwrap();
    assert!(!poll.complete);
    assert_eq!(poll.pages, 2);
    assert_eq!(poll.objects.len(), 1, "the object once");
    assert_eq!(
        poll.cursor.as_deref(),
        Some("2024-01-01T00:00:01.000000Z"),
        "the repeating page does not move the cursor"
    );
    assert_eq!(poll.diagnostics.len(), 1);
    assert_eq!(poll.diagnostics[0].kind, DiagnosticKind::Malformed);
    assert!(
        poll.diagnostics[0].message.contains("repeats objects"),
        "{:?}",
        poll.diagnostics
    );
}

#[test]
fn more_with_no_objects_stops_the_poll() {
    let server = FaultServer::start(|n, _| match n {
        0 => taxii(
            json!({"more": true, "next": "p2", "objects": [indicator(1)]}),
            Some("2024-01-01T00:00:01.000000Z"),
        ),
        _ => taxii(json!({"more": true, "next": "p3", "objects": []}), None),
    });
    let poll = quick_client(ClientConfig::default())
        .poll(&server.url, "c1", None)
        .unwrap();
    assert!(!poll.complete);
    assert_eq!(poll.pages, 2);
    assert_eq!(server.requests().len(), 2);
    assert!(
        poll.diagnostics[0].message.contains("holds no object"),
        "{:?}",
        poll.diagnostics
    );
    assert_eq!(poll.objects.len(), 1);
}

#[test]
fn paging_that_never_ends_stops_at_the_page_cap() {
    let server = FaultServer::start(|n, _| {
        taxii(
            json!({"more": true, "next": format!("p{}", n + 1), "objects": [indicator(n)]}),
            Some(&format!("2024-01-01T00:00:{n:02}.000000Z")),
        )
    });
    let poll = quick_client(ClientConfig {
        max_pages: 5,
        ..ClientConfig::default()
    })
    .poll(&server.url, "c1", None)
    .unwrap();
    assert!(!poll.complete);
    assert_eq!(poll.pages, 5);
    assert_eq!(server.requests().len(), 5);
    assert_eq!(poll.cursor.as_deref(), Some("2024-01-01T00:00:04.000000Z"));
    assert_eq!(poll.diagnostics[0].kind, DiagnosticKind::Limit);
    assert!(poll.diagnostics[0].message.contains("5 pages"));
}

#[test]
fn more_without_next_pages_by_added_after() {
    let server = FaultServer::start(|n, _| {
        taxii(
            json!({"more": n < 2, "objects": [indicator(n)]}),
            Some(&format!("2024-01-01T00:00:0{n}.000000Z")),
        )
    });
    let poll = quick_client(ClientConfig::default())
        .poll(&server.url, "c1", None)
        .unwrap();
    assert!(poll.complete, "{:?}", poll.diagnostics);
    assert_eq!(poll.pages, 3);
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert!(!targets[0].contains("added_after"), "{targets:?}");
    assert!(
        targets[1].contains("added_after=2024-01-01T00%3A00%3A00.000000Z"),
        "{targets:?}"
    );
    assert!(
        targets[2].contains("added_after=2024-01-01T00%3A00%3A01.000000Z"),
        "{targets:?}"
    );
}

#[test]
fn a_page_over_the_cap_is_refused() {
    // Announced too large: refused before reading.
    let server = FaultServer::start(|_, _| Reply::Answer {
        status: 200,
        headers: vec![(
            "Content-Type".into(),
            "application/taxii+json;version=2.1".into(),
        )],
        body: vec![b' '; 3 << 20],
    });
    let config = ClientConfig {
        max_page_bytes: 1 << 20,
        ..ClientConfig::default()
    };
    let error = quick_client(config.clone())
        .poll(&server.url, "c1", None)
        .unwrap_err();
    assert!(matches!(error, Error::TooLarge { .. }), "{error:?}");

    // Streamed without a length after a first good page: the stream is cut at the
    // cap, the first page kept.
    let server = FaultServer::start(|n, _| match n {
        0 => taxii(
            json!({"more": true, "next": "p2", "objects": [indicator(1)]}),
            Some("2024-01-01T00:00:01.000000Z"),
        ),
        _ => Reply::Stream { bytes: 1 << 30 },
    });
    let poll = quick_client(config).poll(&server.url, "c1", None).unwrap();
    assert_eq!(poll.objects.len(), 1);
    assert_eq!(poll.diagnostics[0].kind, DiagnosticKind::Limit);
    assert!(
        poll.diagnostics[0].message.contains("1048576 bytes"),
        "{:?}",
        poll.diagnostics
    );
}

#[test]
fn a_login_page_is_not_taxii() {
    let server = FaultServer::start(|_, _| Reply::Answer {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: b"<html>Please log in</html>".to_vec(),
    });
    let error = quick_client(ClientConfig::default())
        .collections(&server.url)
        .unwrap_err();
    assert!(matches!(error, Error::MediaType { .. }), "{error:?}");
}

#[test]
fn a_redirect_is_reported_not_followed() {
    let server = FaultServer::start(|_, _| Reply::Answer {
        status: 302,
        headers: vec![("Location".into(), "http://elsewhere.invalid/api1/".into())],
        body: Vec::new(),
    });
    let client = Client::new(
        Auth::Bearer("s3cret".into()),
        ClientConfig {
            read_timeout: Duration::from_millis(500),
            ..ClientConfig::default()
        },
    );
    let error = client.poll(&server.url, "c1", None).unwrap_err();
    assert!(matches!(error, Error::Redirect { .. }), "{error:?}");
    assert!(error.to_string().contains("elsewhere.invalid"));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_bearer_token_is_sent_and_taxii_errors_are_shown() {
    let server = FaultServer::start(|_, request| {
        if request.authorization.as_deref() == Some("Bearer s3cret") {
            taxii(json!({"objects": [indicator(7)]}), None)
        } else {
            Reply::Answer {
                status: 401,
                headers: vec![(
                    "Content-Type".into(),
                    "application/taxii+json;version=2.1".into(),
                )],
                body: serde_json::to_vec(&json!({
                    "title": "Unauthorized",
                    "description": "token expired"
                }))
                .unwrap(),
            }
        }
    });
    let config = ClientConfig {
        read_timeout: Duration::from_millis(500),
        ..ClientConfig::default()
    };
    let good = Client::new(Auth::Bearer("s3cret".into()), config.clone());
    let poll = good.poll(&server.url, "c1", None).unwrap();
    assert_eq!(poll.objects.len(), 1);
    // No date header: the objects are kept, the cursor stays, and it is said.
    assert_eq!(poll.cursor, None);
    assert!(poll.diagnostics[0]
        .message
        .contains("X-TAXII-Date-Added-Last"));

    let bad = Client::new(Auth::Bearer("old".into()), config);
    let error = bad.poll(&server.url, "c1", None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "the TAXII server refused access to {}collections/c1/objects/ (HTTP 401): \
             Unauthorized: token expired",
            server.url
        )
    );
}
