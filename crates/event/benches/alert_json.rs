//! Rendering hunt alerts as JSON lines: serde's derived path against [`JsonLineWriter`]
//! (which caches each rule's part of the line), over alerts shaped like a hunt's: a few
//! hundred rules, each firing on many events.
//!
//! `cargo bench -p rampart-event --bench alert_json`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rampart_event::{Alert, EventMeta, JsonLineWriter, Level, MatchedField};
use std::sync::Arc;

const RULES: usize = 300;
const ALERTS: usize = 20_000;

fn alerts() -> Vec<Alert> {
    let source: Arc<str> = "logs/2024-05-01/DC01-Security.jsonl".into();
    let start = Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap();
    (0..ALERTS)
        .map(|n| {
            let rule = (n * 7919) % RULES;
            Alert {
                id: String::new(),
                rule_id: format!("{rule:08x}-3f1b-4d68-a2fb-4d11bdd56f1c"),
                rule_title: format!("Suspicious Process Creation Pattern Number {rule}"),
                level: Level::ALL[rule % 5],
                status: Some("test".into()),
                techniques: vec!["T1059.001".into(), "T1027".into()],
                tactics: vec!["execution".into(), "defense-evasion".into()],
                tags: vec![
                    "attack.execution".into(),
                    "attack.defense-evasion".into(),
                    "attack.t1059.001".into(),
                    "attack.t1027".into(),
                ],
                event: EventMeta {
                    source: Arc::clone(&source),
                    timestamp: Some(start + chrono::Duration::milliseconds(n as i64 * 137)),
                    computer: Some("DC01.corp.example.com".into()),
                    channel: Some("Microsoft-Windows-Sysmon/Operational".into()),
                    provider: Some("Microsoft-Windows-Sysmon".into()),
                    event_id: Some(1),
                    record_id: Some(100_000 + n as u64),
                },
                context: Vec::new(),
                intel: None,
                matched: vec![
                    MatchedField {
                        field: "Image".into(),
                        value: r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe".into(),
                    },
                    MatchedField {
                        field: "CommandLine".into(),
                        value: format!(
                            "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBi{n}"
                        ),
                    },
                ],
            }
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let alerts = alerts();
    let mut group = c.benchmark_group("alert_json");
    group.throughput(Throughput::Elements(alerts.len() as u64));
    let mut out = Vec::with_capacity(16 << 20);
    group.bench_function("serde", |b| {
        b.iter(|| {
            out.clear();
            for alert in &alerts {
                serde_json::to_writer(&mut out, alert).unwrap();
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    // The writer lives across iterations as it lives across a hunt's batches.
    let mut writer = JsonLineWriter::new();
    group.bench_function("json_line_writer", |b| {
        b.iter(|| {
            out.clear();
            for alert in &alerts {
                writer.write(alert, &mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
