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
use clap::ValueEnum;
use rampart_enrich::Enricher;
use rampart_event::{Alert, JsonLineWriter};
use rampart_knowledge::Knowledge;
use std::io::{self, Write};

/// The output formats of `rampart hunt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per alert per line (the machine format; see the module docs).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Aligned columns for people.
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

/// Where alerts go, one at a time, in output order.
pub trait AlertSink {
    /// Writes one alert.
    fn write(&mut self, alert: &Alert) -> io::Result<()>;
    /// Whether this sink writes each alert as [`JsonLineWriter`] renders it and nothing
    /// else, so that scanning threads may render batches themselves and hand over the
    /// bytes ([`AlertSink::write_rendered`]).
    fn takes_json_lines(&self) -> bool {
        false
    }
    /// Writes alerts already rendered by [`JsonLineWriter`]; only called when
    /// [`AlertSink::takes_json_lines`] says so.
    fn write_rendered(&mut self, _lines: &[u8]) -> io::Result<()> {
        Err(io::Error::other(
            "internal error: this output format takes alerts, not rendered lines",
        ))
    }
    /// Flushes whatever is buffered; called once after the last alert.
    fn finish(&mut self) -> io::Result<()>;
}

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
        Format::Table => Box::new(Table {
            out,
            header_written: false,
        }),
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
fn matched_text(alert: &Alert) -> String {
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

fn or_empty<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl AlertSink for Csv {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        if !self.header_written {
            self.writer.write_record(CSV_HEADER)?;
            self.header_written = true;
        }
        let event = &alert.event;
        self.writer.write_record([
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
        ])?;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.writer.write_record(CSV_HEADER)?;
        }
        self.writer.flush()
    }
}

/// Fixed-width columns, so the table streams without knowing all rows first; long
/// cells are cut with `…`, and the rule title and matched values end the line.
struct Table {
    out: Box<dyn Write + Send>,
    header_written: bool,
}

const TABLE_WIDTHS: [usize; 6] = [24, 13, 18, 6, 10, 12];

/// `text` cut to `width` characters (ending in `…` when cut).
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// `text` cut or padded to exactly `width` characters.
fn cell(text: &str, width: usize) -> String {
    format!("{:<width$}", cut(text, width))
}

impl Table {
    fn row(&mut self, cells: [&str; 6], rest: &str) -> io::Result<()> {
        let mut line = String::new();
        for (text, width) in cells.iter().zip(TABLE_WIDTHS) {
            line.push_str(&cell(text, width));
            line.push_str("  ");
        }
        line.push_str(rest);
        writeln!(self.out, "{}", line.trim_end())
    }
}

impl AlertSink for Table {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        if !self.header_written {
            let header = [
                "TIME (UTC)",
                "LEVEL",
                "COMPUTER",
                "EVENT",
                "RECORD",
                "TECHNIQUE",
            ];
            self.row(header, "RULE  [MATCHED]")?;
            self.header_written = true;
        }
        let time = alert
            .event
            .timestamp
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let event_id = or_empty(alert.event.event_id);
        let record = or_empty(alert.event.record_id);
        let computer = or_empty(alert.event.computer.as_deref());
        let technique = alert.techniques.join(",");
        let level = alert.level.to_string();
        let matched = matched_text(alert);
        let rest = if matched.is_empty() {
            alert.rule_title.clone()
        } else {
            format!("{}  [{}]", alert.rule_title, cut(&matched, 120))
        };
        self.row(
            [&time, &level, &computer, &event_id, &record, &technique],
            &rest,
        )
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// `text` safe to print on a terminal: control characters (C0, DEL, C1) and the bidi
/// controls that reorder a line are written as escapes (`\n`, `\u{1b}`), so that
/// attacker-controlled values cannot move the cursor, clear the screen or disguise
/// themselves. Everything else is kept as is.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let needs =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(needs) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    std::borrow::Cow::Owned(escaped)
}
