//! Plain indicator lists (one value per line, as vendors publish hash lists) and CSV
//! lists with a header.
//!
//! A plain list: blank lines and lines starting with `#` or `//` are skipped; the
//! value is the first word of a line and the rest (a `#` comment or free text) its
//! description — except for file names, registry keys and command lines given as the
//! list's kind, which may contain spaces and so take the whole line. Each value's kind
//! is given for the whole list or detected per line ([`normalize::detect_kind`]).
//!
//! A CSV list names its columns in a header: the value in `value` / `indicator` /
//! `ioc` / `observable`, optionally its kind in `kind` / `type` and a comment in
//! `comment` / `description`.
//!
//! Lists carry no ids: an indicator's id is a digest of source and value
//! ([`derived_indicator_id`]); a value listed twice is one indicator.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::diagnostics::Diagnostics;
use crate::normalize::{detect_kind, normalize};
use crate::{
    derived_indicator_id, file_label, DiagnosticKind, Error, Feed, Indicator, Observable,
    ObservableKind, ReadOptions,
};

/// Longest line of a list read; a longer one is skipped with a `Limit` diagnostic.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Reads the list at `path` (CSV when its name ends in `.csv`), every value of kind
/// `kind`, or of the kind each line's value looks like when `None`.
pub fn read_list(path: &Path, kind: Option<ObservableKind>) -> Result<Feed, Error> {
    read_list_with(path, kind, &ReadOptions::default())
}

/// [`read_list`] within `options`.
pub fn read_list_with(
    path: &Path,
    kind: Option<ObservableKind>,
    options: &ReadOptions,
) -> Result<Feed, Error> {
    if path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"))
    {
        return read_csv_with(path, kind, options);
    }
    let file = open_capped(path, options)?;
    read_lines(path, BufReader::new(file), kind, options)
}

/// Opens `path` for streaming, refusing a file larger than the cap; the reader it
/// returns stops one byte past the cap, so a file that grows is caught too.
fn open_capped(path: &Path, options: &ReadOptions) -> Result<std::io::Take<File>, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    if file.metadata().map_err(io)?.len() > options.max_bytes {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            limit: options.max_bytes,
        });
    }
    Ok(file.take(options.max_bytes.saturating_add(1)))
}

/// Builds indicators from values as lists give them, deduplicated by id.
struct ListBuilder {
    feed: Feed,
    seen: HashSet<String>,
    diagnostics: Diagnostics,
    /// The file as diagnostics name it; a line's location is made only when needed.
    label: String,
}

impl ListBuilder {
    fn new(path: &Path) -> Self {
        let label = path.display().to_string();
        ListBuilder {
            feed: Feed {
                source: format!("list:{}", file_label(path)),
                ..Feed::default()
            },
            seen: HashSet::new(),
            diagnostics: Diagnostics::new(label.clone()),
            label,
        }
    }

    fn location(&self, line: u64) -> String {
        format!("{}:{line}", self.label)
    }

    fn report(&mut self, kind: DiagnosticKind, line: u64, message: String) {
        let location = self.location(line);
        self.diagnostics.push(kind, location, message);
    }

    fn add(
        &mut self,
        line: u64,
        value: &str,
        kind: Option<ObservableKind>,
        description: Option<String>,
    ) {
        let Some(kind) = kind.or_else(|| detect_kind(value)) else {
            self.report(
                DiagnosticKind::UnsupportedType,
                line,
                "not a hash, IP address or network, URL, e-mail address or domain name".to_owned(),
            );
            return;
        };
        let value = match normalize(kind, value) {
            Ok(value) => value,
            Err(error) => {
                self.report(DiagnosticKind::InvalidValue, line, error.to_string());
                return;
            }
        };
        let all_of = vec![Observable { kind, value }];
        let id = derived_indicator_id(&self.feed.source, &all_of);
        if !self.seen.insert(id.clone()) {
            return;
        }
        self.feed.indicators.push(Indicator {
            id,
            source: self.feed.source.clone(),
            all_of,
            name: None,
            description,
            confidence: None,
            labels: Vec::new(),
            valid_from: None,
            valid_until: None,
            first_seen: None,
            last_seen: None,
            detect: true,
            context: Default::default(),
        });
    }

    fn finish(mut self) -> Feed {
        self.feed.diagnostics = self.diagnostics.finish();
        self.feed
    }
}

/// Whether values of `kind` may contain spaces, so a line is one value whole.
fn takes_whole_line(kind: Option<ObservableKind>) -> bool {
    matches!(
        kind,
        Some(ObservableKind::FileName | ObservableKind::RegistryKey | ObservableKind::CommandLine)
    )
}

fn read_lines(
    path: &Path,
    mut reader: impl BufRead,
    kind: Option<ObservableKind>,
    options: &ReadOptions,
) -> Result<Feed, Error> {
    let mut builder = ListBuilder::new(path);
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut total = 0u64;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    while let Some((read, complete)) = read_line_capped(&mut reader, &mut line).map_err(io)? {
        total += read;
        if total > options.max_bytes {
            return Err(Error::TooLarge {
                path: path.to_path_buf(),
                limit: options.max_bytes,
            });
        }
        number += 1;
        if !complete {
            builder.report(
                DiagnosticKind::Limit,
                number,
                format!("line longer than {MAX_LINE_BYTES} bytes skipped"),
            );
            continue;
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            builder.report(
                DiagnosticKind::Malformed,
                number,
                "line is not UTF-8".to_owned(),
            );
            continue;
        };
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() || text.starts_with('#') || text.starts_with("//") {
            continue;
        }
        if takes_whole_line(kind) {
            builder.add(number, text, kind, None);
            continue;
        }
        let (value, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let comment = rest.trim().trim_start_matches('#').trim();
        let description = (!comment.is_empty()).then(|| comment.to_owned());
        builder.add(number, value, kind, description);
    }
    Ok(builder.finish())
}

/// Reads the next line into `line` (without its `\n`), holding at most
/// [`MAX_LINE_BYTES`] of it: the rest of a longer line is consumed unheld. Gives the
/// bytes consumed and whether the line was held whole, or `None` at the end.
fn read_line_capped(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
) -> std::io::Result<Option<(u64, bool)>> {
    line.clear();
    let mut consumed = 0u64;
    let mut whole = true;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((consumed > 0).then_some((consumed, whole)));
        }
        let (chunk, used, ended) = match memchr::memchr(b'\n', buffer) {
            Some(at) => (&buffer[..at], at + 1, true),
            None => (buffer, buffer.len(), false),
        };
        if whole && line.len() + chunk.len() <= MAX_LINE_BYTES {
            line.extend_from_slice(chunk);
        } else {
            whole = false;
            line.clear();
        }
        reader.consume(used);
        consumed += used as u64;
        if ended {
            return Ok(Some((consumed, whole)));
        }
    }
}

/// Header names of the value column, lower-case.
const VALUE_COLUMNS: [&str; 6] = [
    "value",
    "indicator",
    "ioc",
    "observable",
    "ioc_value",
    "ioc value",
];
/// Header names of the kind column, lower-case.
const KIND_COLUMNS: [&str; 5] = ["kind", "type", "ioc_type", "indicator_type", "ioc type"];
/// Header names of the comment column, lower-case.
const COMMENT_COLUMNS: [&str; 4] = ["comment", "description", "note", "comments"];

/// Reads the CSV list at `path`; `kind`, when given, is the kind of rows without a
/// kind column.
pub fn read_csv(path: &Path, kind: Option<ObservableKind>) -> Result<Feed, Error> {
    read_csv_with(path, kind, &ReadOptions::default())
}

/// [`read_csv`] within `options`.
pub fn read_csv_with(
    path: &Path,
    kind: Option<ObservableKind>,
    options: &ReadOptions,
) -> Result<Feed, Error> {
    let file = open_capped(path, options)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(file);
    let headers = reader
        .headers()
        .map_err(|source| Error::Csv {
            path: path.to_path_buf(),
            reason: "cannot read the header".to_owned(),
            source: Some(source),
        })?
        .clone();
    let column = |names: &[&str]| {
        headers.iter().position(|header| {
            let header = header.trim_start_matches('\u{feff}').to_ascii_lowercase();
            names.contains(&header.as_str())
        })
    };
    let Some(value_column) = column(&VALUE_COLUMNS) else {
        return Err(Error::Csv {
            path: path.to_path_buf(),
            reason: format!(
                "no value column: the header names none of {}",
                VALUE_COLUMNS.join(", ")
            ),
            source: None,
        });
    };
    let kind_column = column(&KIND_COLUMNS);
    let comment_column = column(&COMMENT_COLUMNS);
    let mut builder = ListBuilder::new(path);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                if matches!(error.kind(), csv::ErrorKind::Io(_)) {
                    return Err(Error::Csv {
                        path: path.to_path_buf(),
                        reason: "cannot read".to_owned(),
                        source: Some(error),
                    });
                }
                builder.report(
                    DiagnosticKind::Malformed,
                    line,
                    rampart_event::error_chain(&error),
                );
                continue;
            }
        }
        if reader.position().byte() > options.max_bytes {
            return Err(Error::TooLarge {
                path: path.to_path_buf(),
                limit: options.max_bytes,
            });
        }
        let line = record.position().map_or(0, csv::Position::line);
        let value = record.get(value_column).unwrap_or("");
        if value.is_empty() {
            continue;
        }
        let row_kind = match kind_column
            .and_then(|at| record.get(at))
            .filter(|k| !k.is_empty())
        {
            Some(label) => match kind_from_label(label) {
                Some(kind) => Some(kind),
                None => {
                    builder.report(
                        DiagnosticKind::UnsupportedType,
                        line,
                        format!(
                            "kind {:?} is no indicator kind Rampart knows",
                            crate::shorten(label)
                        ),
                    );
                    continue;
                }
            },
            None => kind,
        };
        let description = comment_column
            .and_then(|at| record.get(at))
            .filter(|comment| !comment.is_empty())
            .map(str::to_owned);
        builder.add(line, value, row_kind, description);
    }
    Ok(builder.finish())
}

/// The kind a list's kind column names: Rampart's names (`sha256`, `file-name`) and
/// the usual spellings of feeds (`SHA-256`, `ipv4`, `ip-dst`, `hostname`, `filename`,
/// `regkey`).
pub fn kind_from_label(label: &str) -> Option<ObservableKind> {
    let lower = label.trim().to_ascii_lowercase();
    if let Some(kind) = ObservableKind::from_name(&lower) {
        return Some(kind);
    }
    let kind = match lower.as_str() {
        "sha-1" => ObservableKind::Sha1,
        "sha-256" => ObservableKind::Sha256,
        "sha-512" => ObservableKind::Sha512,
        "ipv4" | "ipv6" | "ip-src" | "ip-dst" | "ipv4-addr" | "ipv6-addr" | "cidr"
        | "ip-address" => ObservableKind::Ip,
        "hostname" | "domain-name" | "fqdn" | "host" => ObservableKind::Domain,
        "uri" | "link" => ObservableKind::Url,
        "email-addr" | "email-src" | "email-dst" | "e-mail" => ObservableKind::Email,
        "filename" | "file_name" | "file" => ObservableKind::FileName,
        "regkey" | "registry" | "windows-registry-key" => ObservableKind::RegistryKey,
        "command_line" | "cmdline" | "commandline" => ObservableKind::CommandLine,
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_of(text: &str, kind: Option<ObservableKind>) -> Feed {
        let path = Path::new("test.txt");
        match read_lines(path, text.as_bytes(), kind, &ReadOptions::default()) {
            Ok(feed) => feed,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn lines_detect_their_kind_and_keep_comments() {
        let feed = list_of(
            "# header comment\n\n\u{feff}203.0.113.7 # C2\r\nEVIL[.]example\nhxxp://evil.example/a\n\
             {}  dropper\n203.0.113.7\nnonsense value\n",
            None,
        );
        assert_eq!(feed.source, "list:test.txt");
        assert_eq!(feed.indicators.len(), 3, "{:#?}", feed.indicators);
        assert_eq!(feed.indicators[0].all_of[0].value, "203.0.113.7");
        assert_eq!(feed.indicators[0].description.as_deref(), Some("C2"));
        assert_eq!(feed.indicators[1].all_of[0].kind, ObservableKind::Domain);
        assert_eq!(feed.indicators[2].all_of[0].value, "http://evil.example/a");
        // `{}` and `nonsense` are no indicator; the repeated IP is one indicator.
        assert_eq!(feed.diagnostics.len(), 2, "{:#?}", feed.diagnostics);
        assert!(feed
            .diagnostics
            .iter()
            .all(|d| d.kind == DiagnosticKind::UnsupportedType));
        assert_eq!(feed.diagnostics[0].location, "test.txt:6");
    }

    #[test]
    fn a_given_kind_applies_to_every_line() {
        let feed = list_of(
            "C:\\Temp\\Evil Tool.exe\nok.dll\n",
            Some(ObservableKind::FileName),
        );
        let values: Vec<&str> = feed
            .indicators
            .iter()
            .map(|i| i.all_of[0].value.as_str())
            .collect();
        assert_eq!(values, ["evil tool.exe", "ok.dll"]);
        let feed = list_of(
            &format!("{}\nabc\n", "a".repeat(64)),
            Some(ObservableKind::Sha256),
        );
        assert_eq!(feed.indicators.len(), 1);
        assert_eq!(feed.diagnostics[0].kind, DiagnosticKind::InvalidValue);
        assert_eq!(feed.diagnostics[0].location, "test.txt:2");
    }

    #[test]
    fn long_lines_are_consumed_unheld_across_buffer_refills() {
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        // A line of exactly the cap is held; the last line has no newline.
        let exact = format!("{}.example", "a".repeat(MAX_LINE_BYTES - 8));
        let text = format!("evil.example\n{long}\n{exact}\n203.0.113.9");
        let reader = std::io::BufReader::with_capacity(7, text.as_bytes());
        let feed = match read_lines(Path::new("t.txt"), reader, None, &ReadOptions::default()) {
            Ok(feed) => feed,
            Err(error) => panic!("{error}"),
        };
        let values: Vec<&str> = feed
            .indicators
            .iter()
            .map(|i| i.all_of[0].value.as_str())
            .collect();
        assert_eq!(values, ["evil.example", "203.0.113.9"]);
        let kinds: Vec<(DiagnosticKind, &str)> = feed
            .diagnostics
            .iter()
            .map(|d| (d.kind, d.location.as_str()))
            .collect();
        // The exact-cap line is held and read (an invalid domain: too long).
        assert_eq!(
            kinds,
            [
                (DiagnosticKind::Limit, "t.txt:2"),
                (DiagnosticKind::UnsupportedType, "t.txt:3")
            ]
        );
    }

    #[test]
    fn ids_are_stable_digests() {
        let first = list_of("evil.example\n", None);
        let second = list_of("# other\nEVIL.example.\n", None);
        assert_eq!(first.indicators[0].id, second.indicators[0].id);
        assert!(first.indicators[0].id.starts_with("indicator:"));
    }

    #[test]
    fn labels_name_kinds() {
        assert_eq!(kind_from_label("SHA-256"), Some(ObservableKind::Sha256));
        assert_eq!(kind_from_label("ip-dst"), Some(ObservableKind::Ip));
        assert_eq!(kind_from_label("file-name"), Some(ObservableKind::FileName));
        assert_eq!(kind_from_label("mutex"), None);
    }
}
