//! The listeners over real loopback sockets: framing, batching deadlines, caps,
//! backpressure, saturation and shutdown.

use super::Keep;
use rampart_event::Value;
use rampart_ingest::syslog::{listen_tcp, listen_udp, ListenOptions};
use rampart_ingest::Place;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

fn message(event: &rampart_event::Event) -> String {
    event
        .get("Message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn tcp_reads_both_framings_and_flushes_a_lone_message_promptly() {
    let keep = Arc::new(Keep::default());
    let listener = listen_tcp("127.0.0.1:0", ListenOptions::default(), keep.clone()).unwrap();
    let mut stream = TcpStream::connect(listener.local_addr()).unwrap();
    let octets = "<38>1 2026-05-02T11:58:01Z web01 sshd 42 - - first";
    let started = Instant::now();
    writeln!(
        stream,
        "{} {octets}<38>May  2 11:58:02 web01 sshd[42]: second",
        octets.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // The connection stays open: the batch goes out on the flush deadline.
    let events = keep.wait_for(WAIT, |events| events.len() == 2);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let messages: Vec<String> = events.iter().map(message).collect();
    assert_eq!(messages, ["first", "second"]);
    let peer = stream.local_addr().unwrap().to_string();
    assert_eq!(events[0].meta.source.as_ref(), format!("syslog tcp {peer}"));
    assert_eq!(events[1].meta.computer.as_deref(), Some("web01"));
    drop(stream);
    let stats = listener.stats();
    assert_eq!((stats.messages, stats.connections), (2, 1));
    listener.shutdown();
}

#[test]
fn long_messages_are_cut_and_reported() {
    let keep = Arc::new(Keep::default());
    let options = ListenOptions {
        max_message_bytes: 100,
        ..ListenOptions::default()
    };
    let listener = listen_tcp("127.0.0.1:0", options, keep.clone()).unwrap();
    let mut stream = TcpStream::connect(listener.local_addr()).unwrap();
    let long = format!("<13>May  2 11:58:01 h app: {}\n", "x".repeat(1000));
    stream.write_all(long.as_bytes()).unwrap();
    stream
        .write_all(b"<13>May  2 11:58:01 h app: short\n")
        .unwrap();
    drop(stream);
    let events = keep.wait_for(WAIT, |events| events.len() == 2);
    assert_eq!(events.len(), 2);
    assert!(message(&events[0]).len() < 100);
    assert_eq!(message(&events[1]), "short");
    let diagnostics = keep.diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].place, Place::Message(1));
    assert!(diagnostics[0].message.contains("longer than 100 bytes"));
    assert_eq!(listener.stats().truncated, 1);
}

#[test]
fn a_blocked_sink_stops_the_reader_and_loses_nothing() {
    let keep = Arc::new(Keep::blocked());
    let options = ListenOptions {
        batch_events: 64,
        ..ListenOptions::default()
    };
    let listener = listen_tcp("127.0.0.1:0", options, keep.clone()).unwrap();
    let address = listener.local_addr();
    const LINES: usize = 200_000;
    let writer = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        let mut block = String::new();
        for number in 0..LINES {
            block.push_str(&format!("<13>May  2 11:58:01 h app: line {number}\n"));
            if block.len() > 60_000 {
                stream.write_all(block.as_bytes()).unwrap();
                block.clear();
            }
        }
        stream.write_all(block.as_bytes()).unwrap();
    });
    std::thread::sleep(Duration::from_millis(500));
    // Blocked in its first delivery, the reader has parsed at most one read's worth
    // (64 KiB, about 1,800 lines); the rest waits in the kernel and the sender.
    let read = listener.stats().messages;
    assert!(read < 5_000, "{read} messages read while the sink blocked");
    assert!(!writer.is_finished(), "the sender was not slowed");
    keep.release();
    writer.join().unwrap();
    let events = keep.wait_for(WAIT * 3, |events| events.len() == LINES);
    assert_eq!(events.len(), LINES);
    assert!(events
        .iter()
        .enumerate()
        .all(|(number, event)| message(event) == format!("line {number}")));
    let seqs = keep.seqs();
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]));
    listener.shutdown();
}

#[test]
fn connections_past_the_cap_are_refused_and_counted() {
    let keep = Arc::new(Keep::default());
    let options = ListenOptions {
        max_connections: 1,
        ..ListenOptions::default()
    };
    let listener = listen_tcp("127.0.0.1:0", options, keep.clone()).unwrap();
    let mut first = TcpStream::connect(listener.local_addr()).unwrap();
    first
        .write_all(b"<13>May  2 11:58:01 h app: one\n")
        .unwrap();
    keep.wait_for(WAIT, |events| events.len() == 1);
    let mut second = TcpStream::connect(listener.local_addr()).unwrap();
    second.set_read_timeout(Some(WAIT)).unwrap();
    let mut byte = [0u8; 1];
    // Closed by the listener: end of stream (or a reset), never data.
    assert!(matches!(second.read(&mut byte), Ok(0) | Err(_)));
    let stats = listener.stats();
    assert_eq!((stats.connections, stats.connections_refused), (1, 1));
    assert!(keep
        .diagnostics()
        .iter()
        .any(|d| d.message.contains("refused")));
    listener.shutdown();
}

#[test]
fn udp_counts_and_reports_what_a_saturated_sink_refuses() {
    let keep = Arc::new(Keep::refusing());
    let listener = listen_udp("127.0.0.1:0", ListenOptions::default(), keep.clone()).unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for number in 0..50 {
        let datagram = format!("<13>May  2 11:58:01 h app: datagram {number}");
        socket
            .send_to(datagram.as_bytes(), listener.local_addr())
            .unwrap();
    }
    let deadline = Instant::now() + WAIT;
    while listener.stats().datagrams_dropped < 50 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = listener.stats();
    assert_eq!((stats.messages, stats.datagrams_dropped), (50, 50));
    listener.shutdown();
    assert!(keep.events().is_empty());
    let reported: u64 = keep
        .diagnostics()
        .iter()
        .filter_map(|d| {
            d.message
                .strip_suffix(" datagrams dropped: the service is saturated")
        })
        .map(|count| count.parse::<u64>().unwrap())
        .sum();
    assert_eq!(reported, 50);
}

#[test]
fn udp_delivers_each_datagram_and_shutdown_flushes() {
    let keep = Arc::new(Keep::default());
    let options = ListenOptions {
        flush_interval: Duration::from_secs(3600),
        ..ListenOptions::default()
    };
    let listener = listen_udp("127.0.0.1:0", options, keep.clone()).unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .send_to(
            b"<86>May  2 11:58:01 h su: pam_unix(su:auth): authentication failure\n",
            listener.local_addr(),
        )
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while listener.stats().messages < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Not yet due (an hour's flush interval): shutdown delivers it.
    assert!(keep.events().is_empty());
    listener.shutdown();
    let events = keep.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].meta.channel.as_deref(), Some("Linux/su"));
    assert_eq!(
        message(&events[0]),
        "pam_unix(su:auth): authentication failure"
    );
}

#[test]
fn idle_connections_are_closed_and_shutdown_delivers_open_ones() {
    let keep = Arc::new(Keep::default());
    let options = ListenOptions {
        idle_timeout: Duration::from_millis(300),
        flush_interval: Duration::from_secs(3600),
        ..ListenOptions::default()
    };
    let listener = listen_tcp("127.0.0.1:0", options, keep.clone()).unwrap();
    let mut idle = TcpStream::connect(listener.local_addr()).unwrap();
    idle.set_read_timeout(Some(WAIT)).unwrap();
    let started = Instant::now();
    let mut byte = [0u8; 1];
    assert!(matches!(idle.read(&mut byte), Ok(0) | Err(_)));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(keep
        .diagnostics()
        .iter()
        .any(|d| d.message.contains("without data")));

    // A message waits for its (hour-long) flush deadline on an open connection;
    // shutdown delivers it.
    let mut open = TcpStream::connect(listener.local_addr()).unwrap();
    open.write_all(b"<13>May  2 11:58:01 h app: pending\n")
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while listener.stats().messages < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(keep.events().is_empty());
    listener.shutdown();
    let events = keep.events();
    assert_eq!(events.len(), 1);
    assert_eq!(message(&events[0]), "pending");
    drop(open);
}
