//! TCP and UDP syslog listeners on plain threads (the ingest crate has no async
//! runtime): one thread accepts or receives, one thread per TCP connection reads.
//!
//! Events go to a caller's [`BatchSink`] in small batches, flushed when full or at
//! the latest one flush interval after their first event. A TCP reader delivers with
//! `wait = true` and the sink may block: the reader then stops reading and TCP's
//! window slows the sender (backpressure). UDP cannot be slowed: its thread delivers
//! with `wait = false`, and a batch the sink refuses is dropped and its datagrams
//! counted in [`ListenerStats::datagrams_dropped`] and reported, never silently lost.

use super::{parse, Framer, MAX_MESSAGE_BYTES};
use crate::{Diagnostic, EventBatch, Place};
use chrono::Utc;
use rampart_event::Event;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The sink refused a batch: the service is saturated (UDP) or shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saturated;

/// Where listeners deliver events and report problems.
pub trait BatchSink: Send + Sync + 'static {
    /// Takes a batch. With `wait` (TCP) the call may block until there is room; with
    /// `wait` false (UDP) it must not block, and returns [`Saturated`] when there is
    /// no room. A TCP reader whose batch is refused closes its connection. Batch
    /// `seq` numbers rise in delivery order across a listener's connections (with
    /// gaps where UDP batches were refused).
    ///
    /// [`Listener::shutdown`] waits for every reader, and readers deliver what they
    /// hold before they end: a sink must not block forever once its consumer is
    /// gone (it should return [`Saturated`] then).
    fn deliver(&self, batch: EventBatch, wait: bool) -> Result<(), Saturated>;
    /// Takes a diagnostic: a cut message, a dropped batch, a refused connection.
    fn diagnostic(&self, diagnostic: Diagnostic);
}

/// Limits and timing of a listener.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// TCP connections served at once; further ones are closed at once (counted).
    pub max_connections: usize,
    /// A TCP connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// The longest message; longer ones are cut and reported.
    pub max_message_bytes: usize,
    /// Events per batch at most.
    pub batch_events: usize,
    /// A batch is delivered at the latest this long after its first event arrived.
    pub flush_interval: Duration,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            max_connections: 256,
            idle_timeout: Duration::from_secs(600),
            max_message_bytes: MAX_MESSAGE_BYTES,
            batch_events: 256,
            flush_interval: Duration::from_millis(100),
        }
    }
}

/// What a listener has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerStats {
    /// Messages read into events.
    pub messages: u64,
    /// Messages longer than the cap, cut.
    pub truncated: u64,
    /// TCP connections accepted.
    pub connections: u64,
    /// TCP connections closed at once because `max_connections` were open.
    pub connections_refused: u64,
    /// Events of TCP batches the sink refused (their connection was closed).
    pub events_refused: u64,
    /// UDP datagrams dropped because the sink was saturated.
    pub datagrams_dropped: u64,
}

#[derive(Debug, Default)]
struct Counters {
    messages: AtomicU64,
    truncated: AtomicU64,
    connections: AtomicU64,
    connections_refused: AtomicU64,
    events_refused: AtomicU64,
    datagrams_dropped: AtomicU64,
    seq: AtomicU64,
}

/// How often blocked reads wake to flush a batch or see a shutdown.
const POLL: Duration = Duration::from_millis(20);

/// A running listener. Dropping it shuts it down, as [`Listener::shutdown`] does.
#[derive(Debug)]
pub struct Listener {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// The address the listener is bound to (the port chosen when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// What the listener has seen so far.
    pub fn stats(&self) -> ListenerStats {
        let c = &self.counters;
        ListenerStats {
            messages: c.messages.load(Ordering::Relaxed),
            truncated: c.truncated.load(Ordering::Relaxed),
            connections: c.connections.load(Ordering::Relaxed),
            connections_refused: c.connections_refused.load(Ordering::Relaxed),
            events_refused: c.events_refused.load(Ordering::Relaxed),
            datagrams_dropped: c.datagrams_dropped.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting and receiving, delivers what each connection has read, and
    /// waits for every thread to end.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            // A panicked thread has nothing left to deliver.
            let _ = thread.join();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Listens for syslog over TCP (octet-counted or LF-terminated frames) on `addr`.
pub fn listen_tcp(
    addr: impl ToSocketAddrs,
    options: ListenOptions,
    sink: Arc<dyn BatchSink>,
) -> io::Result<Listener> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let shared = Shared {
        options,
        sink,
        stop: stop.clone(),
        counters: counters.clone(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("syslog-tcp {local_addr}"))
        .spawn(move || accept_loop(&listener, shared))?;
    Ok(Listener {
        local_addr,
        stop,
        counters,
        thread: Some(thread),
    })
}

/// Listens for syslog over UDP (one message per datagram) on `addr`.
pub fn listen_udp(
    addr: impl ToSocketAddrs,
    options: ListenOptions,
    sink: Arc<dyn BatchSink>,
) -> io::Result<Listener> {
    let socket = UdpSocket::bind(addr)?;
    socket.set_read_timeout(Some(POLL))?;
    let local_addr = socket.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let shared = Shared {
        options,
        sink,
        stop: stop.clone(),
        counters: counters.clone(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("syslog-udp {local_addr}"))
        .spawn(move || receive_loop(&socket, &shared))?;
    Ok(Listener {
        local_addr,
        stop,
        counters,
        thread: Some(thread),
    })
}

/// What every thread of a listener shares.
#[derive(Clone)]
struct Shared {
    options: ListenOptions,
    sink: Arc<dyn BatchSink>,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn report(&self, source: &Arc<str>, place: Place, message: String) {
        self.sink.diagnostic(Diagnostic {
            source: source.clone(),
            place,
            message,
        });
    }

    fn deliver(&self, events: Vec<Event>, wait: bool) -> Result<(), Saturated> {
        let seq = self.counters.seq.fetch_add(1, Ordering::Relaxed);
        self.sink.deliver(EventBatch { seq, events }, wait)
    }
}

/// Events read but not yet delivered, with the time the first arrived.
struct Pending {
    events: Vec<Event>,
    since: Option<Instant>,
}

impl Pending {
    fn new() -> Self {
        Pending {
            events: Vec::new(),
            since: None,
        }
    }

    fn push(&mut self, event: Event) {
        self.since.get_or_insert_with(Instant::now);
        self.events.push(event);
    }

    fn due(&self, options: &ListenOptions) -> bool {
        self.events.len() >= options.batch_events
            || self
                .since
                .is_some_and(|since| since.elapsed() >= options.flush_interval)
    }

    fn take(&mut self) -> Vec<Event> {
        self.since = None;
        std::mem::take(&mut self.events)
    }
}

fn accept_loop(listener: &TcpListener, shared: Shared) {
    let listener_name: Arc<str> = Arc::from(format!(
        "syslog tcp {}",
        listener
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string())
    ));
    let active = Arc::new(AtomicUsize::new(0));
    let mut readers: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, peer)) => {
                readers.retain(|reader| !reader.is_finished());
                if active.load(Ordering::SeqCst) >= shared.options.max_connections {
                    shared
                        .counters
                        .connections_refused
                        .fetch_add(1, Ordering::Relaxed);
                    shared.report(
                        &listener_name,
                        Place::File,
                        format!(
                            "connection from {peer} refused: {} connections open",
                            shared.options.max_connections
                        ),
                    );
                    continue;
                }
                shared.counters.connections.fetch_add(1, Ordering::Relaxed);
                active.fetch_add(1, Ordering::SeqCst);
                let (reader_shared, reader_active) = (shared.clone(), active.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("syslog-tcp {peer}"))
                    .spawn(move || {
                        read_connection(stream, peer, &reader_shared);
                        reader_active.fetch_sub(1, Ordering::SeqCst);
                    });
                match spawned {
                    Ok(reader) => readers.push(reader),
                    Err(error) => {
                        active.fetch_sub(1, Ordering::SeqCst);
                        shared.report(
                            &listener_name,
                            Place::File,
                            format!("cannot start a reader for {peer}: {error}"),
                        );
                    }
                }
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(error) => {
                // Out of descriptors and the like: wait and go on serving.
                shared.report(
                    &listener_name,
                    Place::File,
                    format!("accept failed: {error}"),
                );
                std::thread::sleep(POLL * 5);
            }
        }
    }
    for reader in readers {
        let _ = reader.join();
    }
}

fn read_connection(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let source: Arc<str> = Arc::from(format!("syslog tcp {peer}"));
    if let Err(error) = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(POLL)))
    {
        shared.report(
            &source,
            Place::File,
            format!("cannot set up the connection: {error}"),
        );
        return;
    }
    let options = &shared.options;
    let mut framer = Framer::new(options.max_message_bytes);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut pending = Pending::new();
    let mut number = 0u64;
    let mut last_read = Instant::now();
    let mut take = |frame: super::Frame, pending: &mut Pending| {
        number += 1;
        read_frame(frame, number, &source, shared, pending);
    };
    loop {
        if shared.stopping() {
            break;
        }
        match stream.read(&mut buffer) {
            Ok(0) => {
                if let Some(frame) = framer.finish() {
                    take(frame, &mut pending);
                }
                break;
            }
            Ok(read) => {
                last_read = Instant::now();
                framer.push(&buffer[..read]);
                while let Some(frame) = framer.next_frame() {
                    take(frame, &mut pending);
                    if pending.events.len() >= options.batch_events
                        && !flush(shared, &source, &mut pending)
                    {
                        return;
                    }
                }
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                if last_read.elapsed() >= options.idle_timeout {
                    shared.report(
                        &source,
                        Place::File,
                        format!(
                            "closed after {} s without data",
                            options.idle_timeout.as_secs()
                        ),
                    );
                    break;
                }
            }
            Err(error) => {
                shared.report(&source, Place::File, format!("read failed: {error}"));
                break;
            }
        }
        if pending.due(options) && !flush(shared, &source, &mut pending) {
            return;
        }
    }
    flush(shared, &source, &mut pending);
}

/// Delivers a TCP reader's pending events, waiting for room; false when the sink
/// refused them (the connection is then closed).
fn flush(shared: &Shared, source: &Arc<str>, pending: &mut Pending) -> bool {
    let events = pending.take();
    if events.is_empty() {
        return true;
    }
    let count = events.len() as u64;
    if shared.deliver(events, true).is_err() {
        shared
            .counters
            .events_refused
            .fetch_add(count, Ordering::Relaxed);
        shared.report(
            source,
            Place::File,
            format!("{count} events refused by the service: connection closed"),
        );
        return false;
    }
    true
}

/// Parses one frame into `pending`, reporting a cut message.
fn read_frame(
    frame: super::Frame,
    number: u64,
    source: &Arc<str>,
    shared: &Shared,
    pending: &mut Pending,
) {
    if frame.truncated {
        shared.counters.truncated.fetch_add(1, Ordering::Relaxed);
        shared.report(
            source,
            Place::Message(number),
            format!(
                "message longer than {} bytes: cut",
                shared.options.max_message_bytes
            ),
        );
    }
    if let Ok(mut event) = parse(&frame.bytes, Utc::now()) {
        shared.counters.messages.fetch_add(1, Ordering::Relaxed);
        event.meta.source = source.clone();
        pending.push(event);
    }
}

fn receive_loop(socket: &UdpSocket, shared: &Shared) {
    let source_of_socket: Arc<str> = Arc::from(format!(
        "syslog udp {}",
        socket
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string())
    ));
    let options = &shared.options;
    let mut buffer = vec![0u8; 65_536];
    let mut pending = Pending::new();
    let mut number = 0u64;
    let mut sources: Option<(SocketAddr, Arc<str>)> = None;
    let mut drops = DropReport::default();
    let mut deliver = |pending: &mut Pending| {
        let events = pending.take();
        let count = events.len() as u64;
        if count > 0 && shared.deliver(events, false).is_err() {
            shared
                .counters
                .datagrams_dropped
                .fetch_add(count, Ordering::Relaxed);
            drops.unreported += count;
            if drops
                .last
                .is_none_or(|last| last.elapsed() >= Duration::from_secs(1))
            {
                shared.report(
                    &source_of_socket,
                    Place::File,
                    format!(
                        "{} datagrams dropped: the service is saturated",
                        drops.unreported
                    ),
                );
                drops.unreported = 0;
                drops.last = Some(Instant::now());
            }
        }
    };
    while !shared.stopping() {
        match socket.recv_from(&mut buffer) {
            Ok((length, peer)) => {
                number += 1;
                let source = match &sources {
                    Some((known, source)) if *known == peer => source.clone(),
                    _ => {
                        let source: Arc<str> = Arc::from(format!("syslog udp {peer}"));
                        sources = Some((peer, source.clone()));
                        source
                    }
                };
                let kept = length.min(options.max_message_bytes);
                let frame = super::Frame {
                    bytes: buffer[..kept].to_vec(),
                    truncated: kept < length,
                };
                read_frame(frame, number, &source, shared, &mut pending);
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(error) => {
                shared.report(
                    &source_of_socket,
                    Place::File,
                    format!("receive failed: {error}"),
                );
                std::thread::sleep(POLL);
            }
        }
        if pending.due(options) {
            deliver(&mut pending);
        }
    }
    deliver(&mut pending);
    if drops.unreported > 0 {
        shared.report(
            &source_of_socket,
            Place::File,
            format!(
                "{} datagrams dropped: the service is saturated",
                drops.unreported
            ),
        );
    }
}

/// Dropped datagrams not yet reported: reports come at most once a second.
#[derive(Default)]
struct DropReport {
    unreported: u64,
    last: Option<Instant>,
}
