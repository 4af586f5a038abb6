//! Alert output formats, behind one small trait so that more (enriched native JSON,
//! OCSF, a `--store DB` sink) can be added without touching the hunt loop.
//!
//! # JSON lines schema
//!
//! One [`rampart_event::Alert`] per line, serialised as is:
//!
//! ```json
//! {"id": "…32 hex digits…", "rule_id": "…uuid…", "rule_title": "…", "level": "high", "status": "test",
//!  "techniques": ["T1059.001"], "tactics": ["execution"], "tags": ["attack.t1059.001", …],
//!  "event": {"source": "path/file.evtx", "timestamp": "2019-03-19T23:39:22.123Z",
//!            "computer": "host", "channel": "Security", "provider": "…",
//!            "event_id": 4688, "record_id": 1234},
//!  "matched": [{"field": "CommandLine", "value": "…"}],
//!  "context": [{"field": "SubjectUserName", "value": "…"}, {"field": "Image", "value": "…"}]}
//! ```
//!
//! `id` is the alert's stable id: the same in every run, in the store (`alerts show
//! ID`) and as OCSF `finding_info.uid`; it comes from the rule and the event's identity
//! (host, channel, provider, event id, time, record id or a digest of its fields),
//! never from the file path. `context` holds the event's context fields
//! (`rampart_event::CONTEXT_FIELDS`: users, logon id, process and parent with command
//! lines, ids and hashes, host, …) or, with `--full-event`, every field; each value is
//! capped at 4 KiB.
//!
//! `level` is one of `informational`, `low`, `medium`, `high`, `critical`; absent event
//! header values are `null`; `record_id` is the EVTX record id, or for JSON input the
//! event's `EventRecordID` else its line number.

use super::enriched::{EnrichedKind, EnrichedLines};
use super::table::Table;
use clap::ValueEnum;
use rampart_coverage::spreadsheet_safe;
use rampart_enrich::Enricher;
use rampart_event::{Alert, JsonLineWriter};
use rampart_knowledge::Knowledge;
use std::io::{self, Write};

/// The output formats of `rampart hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per alert per line (the machine format; see the module docs).
    Jsonl,
    /// Comma-separated values with a header row; a cell a spreadsheet would run as a
    /// formula (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`.
    Csv,
    /// Aligned columns for people, sorted by event time; control characters in values
    /// are shown as escapes (`\x1b`, `\n`).
    Table,
    /// Enriched JSON lines: the alert with its ATT&CK, D3FEND and ENGAGE context and
    /// ECS `threat.*` fields (schema in the `rampart-enrich` crate).
    Native,
    /// OCSF Detection Finding (class 2004) JSON lines, ATT&CK and D3FEND filled.
    Ocsf,
}

impl Format {
    /// Whether writing this format needs the knowledge graph.
    pub fn needs_knowledge(self) -> bool {
        matches!(self, Format::Native | Format::Ocsf)
    }
}

pub use rampart_pipeline::AlertSink;

/// A sink for `format` over `out`; the enriched formats need `knowledge`.
pub fn sink(
    format: Format,
    out: Box<dyn Write + Send>,
    knowledge: Option<&'static Knowledge>,
) -> anyhow::Result<Box<dyn AlertSink + Send>> {
    Ok(match format {
        Format::Native => enriched_sink(out, knowledge, EnrichedKind::Native)?,
        Format::Ocsf => enriched_sink(out, knowledge, EnrichedKind::Ocsf)?,
        Format::Jsonl => Box::new(JsonLines {
            out,
            writer: JsonLineWriter::new(),
            line: Vec::new(),
        }),
        Format::Csv => Box::new(Csv {
            writer: csv::Writer::from_writer(out),
            header_written: false,
        }),
        Format::Table => Box::new(Table::new(out, knowledge)),
    })
}

fn enriched_sink(
    out: Box<dyn Write + Send>,
    knowledge: Option<&'static Knowledge>,
    kind: EnrichedKind,
) -> anyhow::Result<Box<dyn AlertSink + Send>> {
    let Some(knowledge) = knowledge else {
        anyhow::bail!("enriched output ({kind:?}) needs the ATT&CK data (see --data-dir)");
    };
    Ok(Box::new(EnrichedLines::new(
        out,
        Enricher::new(knowledge),
        kind,
    )))
}

/// Plain JSON lines; most lines arrive rendered by the scanning threads, the rest
/// (correlation results) are rendered here the same way.
struct JsonLines {
    out: Box<dyn Write + Send>,
    writer: JsonLineWriter,
    line: Vec<u8>,
}

impl AlertSink for JsonLines {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        self.line.clear();
        self.writer.write(alert, &mut self.line);
        self.out.write_all(&self.line)
    }

    fn takes_json_lines(&self) -> bool {
        true
    }

    fn write_rendered(&mut self, lines: &[u8]) -> io::Result<()> {
        self.out.write_all(lines)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

const CSV_HEADER: [&str; 13] = [
    "timestamp",
    "level",
    "rule_id",
    "rule_title",
    "status",
    "techniques",
    "tactics",
    "computer",
    "channel",
    "event_id",
    "record_id",
    "source",
    "matched",
];

struct Csv {
    writer: csv::Writer<Box<dyn Write + Send>>,
    header_written: bool,
}

/// `field=value` pairs joined by `; `: one cell for a list of any length.
pub(super) fn matched_text(alert: &Alert) -> String {
    alert
        .matched
        .iter()
        .map(|m| format!("{}={}", m.field, m.value))
        .collect::<Vec<_>>()
        .join("; ")
}

fn timestamp_text(alert: &Alert) -> String {
    alert
        .event
        .timestamp
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub(super) fn or_empty<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl AlertSink for Csv {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        if !self.header_written {
            self.writer.write_record(CSV_HEADER)?;
            self.header_written = true;
        }
        let event = &alert.event;
        let cells = [
            timestamp_text(alert),
            alert.level.to_string(),
            alert.rule_id.clone(),
            alert.rule_title.clone(),
            alert.status.clone().unwrap_or_default(),
            alert.techniques.join(";"),
            alert.tactics.join(";"),
            or_empty(event.computer.as_deref()),
            or_empty(event.channel.as_deref()),
            or_empty(event.event_id),
            or_empty(event.record_id),
            event.source.to_string(),
            matched_text(alert),
        ];
        self.writer
            .write_record(cells.into_iter().map(spreadsheet_safe))?;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.writer.write_record(CSV_HEADER)?;
        }
        self.writer.flush()
    }
}
