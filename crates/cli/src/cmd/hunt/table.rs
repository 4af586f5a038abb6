//! `rampart hunt --format table`: aligned columns for people.
//!
//! Rows are kept until the end (or until [`MAX_BUFFERED_ROWS`]) so that they can be
//! sorted by event time (then rule, then record) and every column made as wide as its
//! widest value: host names and technique lists are never cut. Every value passes
//! through [`rampart_event::terminal::escape`], so one alert is one line whatever its
//! fields hold, and no escape sequence reaches the terminal. Only the matched values,
//! which end the line, are cut (with `…`).

use super::output::{matched_text, or_empty, AlertSink};
use chrono::{DateTime, Utc};
use rampart_enrich::Enricher;
use rampart_event::terminal::escape;
use rampart_event::{Alert, AlertIntel};
use rampart_knowledge::Knowledge;
use std::io::{self, Write};

/// Rows sorted and written together at most; past this the table is written in
/// sorted runs of this many rows, so memory stays bounded on a huge hunt (a table that
/// long is for a pager, and `--format jsonl` suits it better).
pub const MAX_BUFFERED_ROWS: usize = 100_000;

/// Characters of matched values shown at the end of a row.
const MATCHED_WIDTH: usize = 120;

const HEADER: [&str; 6] = [
    "TIME (UTC)",
    "LEVEL",
    "COMPUTER",
    "EVENT",
    "RECORD",
    "TECHNIQUE",
];
const HEADER_REST: &str = "RULE  [MATCHED]";

/// One alert, rendered and escaped, with its sort key.
struct Row {
    time: Option<DateTime<Utc>>,
    rule_id: String,
    record: Option<u64>,
    cells: [String; 6],
    rest: String,
}

/// The table sink.
pub struct Table {
    out: Box<dyn Write + Send>,
    rows: Vec<Row>,
    runs_written: usize,
    /// Joins IoC alerts' actors and malware to ATT&CK, when the graph is loaded.
    enricher: Option<Enricher<'static>>,
}

impl Table {
    /// A table written to `out`; with `knowledge`, an IoC alert's row names the ATT&CK
    /// groups and software its intelligence joins to.
    pub fn new(out: Box<dyn Write + Send>, knowledge: Option<&'static Knowledge>) -> Self {
        Table {
            out,
            rows: Vec::new(),
            runs_written: 0,
            enricher: knowledge.map(Enricher::new),
        }
    }

    /// ` → APT29 (G0016)`: what an IoC alert's intelligence is attributed to, joined to
    /// ATT&CK when the graph is loaded, else as the feed names it.
    fn attributed(&self, intel: &AlertIntel) -> String {
        let joined = self
            .enricher
            .as_ref()
            .and_then(|enricher| enricher.attribution(intel));
        let names: Vec<String> = match joined {
            Some(attribution)
                if !(attribution.groups.is_empty() && attribution.software.is_empty()) =>
            {
                attribution
                    .groups
                    .iter()
                    .chain(&attribution.software)
                    .map(|j| format!("{} ({})", j.name, j.id))
                    .collect()
            }
            _ => intel.actors.iter().chain(&intel.malware).cloned().collect(),
        };
        if names.is_empty() {
            String::new()
        } else {
            format!(" → {}", names.join(", "))
        }
    }

    /// Sorts and writes the buffered rows, with a header.
    fn write_run(&mut self) -> io::Result<()> {
        if self.runs_written == 1 {
            eprintln!(
                "warning: more than {MAX_BUFFERED_ROWS} alerts: the table is sorted in runs \
                 of {MAX_BUFFERED_ROWS} (use --format jsonl for large hunts)"
            );
        }
        // Stable: alerts of one time, rule and record keep their output order.
        self.rows.sort_by(|a, b| {
            (a.time.is_none(), a.time, &a.rule_id, a.record).cmp(&(
                b.time.is_none(),
                b.time,
                &b.rule_id,
                b.record,
            ))
        });
        let mut widths = HEADER.map(|h| h.chars().count());
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(&row.cells) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let header = HEADER.map(str::to_string);
        write_line(&mut self.out, &widths, &header, HEADER_REST)?;
        for row in std::mem::take(&mut self.rows) {
            write_line(&mut self.out, &widths, &row.cells, &row.rest)?;
        }
        self.runs_written += 1;
        Ok(())
    }
}

fn write_line(
    out: &mut dyn Write,
    widths: &[usize; 6],
    cells: &[String; 6],
    rest: &str,
) -> io::Result<()> {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        line.push_str(&format!("{cell:<width$}  "));
    }
    line.push_str(rest);
    writeln!(out, "{}", line.trim_end())
}

/// `text` cut to `width` characters (ending in `…` when cut).
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

impl AlertSink for Table {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        let event = &alert.event;
        let time = event
            .timestamp
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let mut title = escape(&alert.rule_title).into_owned();
        if let Some(intel) = &alert.intel {
            title.push_str(&escape(&self.attributed(intel)));
        }
        let matched = matched_text(alert);
        let rest = if matched.is_empty() {
            title
        } else {
            format!("{title}  [{}]", cut(&escape(&matched), MATCHED_WIDTH))
        };
        self.rows.push(Row {
            time: event.timestamp,
            rule_id: alert.rule_id.clone(),
            record: event.record_id,
            cells: [
                time,
                alert.level.to_string(),
                escape(&or_empty(event.computer.as_deref())).into_owned(),
                or_empty(event.event_id),
                or_empty(event.record_id),
                escape(&alert.techniques.join(",")).into_owned(),
            ],
            rest,
        });
        if self.rows.len() >= MAX_BUFFERED_ROWS {
            self.write_run()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.rows.is_empty() {
            self.write_run()?;
        }
        self.out.flush()
    }
}
