//! Feeds too large to hold are refused before they are read: a clear `Limit`
//! diagnostic, not an out-of-memory. The big files are sparse, made by the test.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use rampart_intel::{read_path, read_path_with, DiagnosticKind, Error, ReadOptions};

/// A sparse file of `len` bytes starting with `head`.
fn sparse(path: &Path, head: &[u8], len: u64) {
    let mut file = File::create(path).unwrap_or_else(|e| panic!("{e}"));
    file.write_all(head).unwrap_or_else(|e| panic!("{e}"));
    file.set_len(len).unwrap_or_else(|e| panic!("{e}"));
}

const TWO_GIB: u64 = 2 * 1024 * 1024 * 1024;

#[test]
fn a_two_gigabyte_feed_is_refused_whatever_its_format() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, head) in [
        (
            "bundle.json",
            &br#"{"type": "bundle", "id": "bundle--1", "objects": ["#[..],
        ),
        (
            "event.json",
            &br#"{"Event": {"uuid": "x", "Attribute": ["#[..],
        ),
        ("list.txt", &b"203.0.113.7\n"[..]),
        ("list.csv", &b"value,kind\n203.0.113.7,ip\n"[..]),
    ] {
        let path = dir.path().join(name);
        sparse(&path, head, TWO_GIB);
        let error = match read_path(&path) {
            Err(error) => error,
            Ok(feed) => panic!("{name} read: {} indicators", feed.indicators.len()),
        };
        assert!(
            matches!(error, Error::TooLarge { limit, .. } if limit == rampart_intel::DEFAULT_MAX_BYTES),
            "{name}: {error:?}"
        );
        let diagnostic = error.to_diagnostic();
        assert_eq!(diagnostic.kind, DiagnosticKind::Limit);
        assert!(diagnostic.location.ends_with(name));
        assert!(diagnostic.message.contains("cap"), "{}", diagnostic.message);
    }
}

#[test]
fn the_cap_is_configurable() {
    let example = rampart_testkit::data_path(
        "threat-intel/stix2-json-schemas/examples/threat-reports/poisonivy.json",
    );
    let small = ReadOptions { max_bytes: 1024 };
    assert!(matches!(
        read_path_with(&example, &small),
        Err(Error::TooLarge { limit: 1024, .. })
    ));
    assert!(read_path(&example).is_ok());
    // A list is streamed, and stops at the cap too.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let list = dir.path().join("ips.txt");
    let lines: String = (0..200)
        .map(|i| format!("203.0.113.{}\n", i % 250))
        .collect();
    std::fs::write(&list, lines).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        read_path_with(&list, &small),
        Err(Error::TooLarge { .. })
    ));
    let feed = read_path(&list).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(feed.indicators.len(), 200);
}

#[test]
fn a_long_line_is_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let list = dir.path().join("list.txt");
    let text = format!(
        "evil.example\n{}\n203.0.113.9\n",
        "a".repeat(rampart_intel::list::MAX_LINE_BYTES + 1)
    );
    std::fs::write(&list, text).unwrap_or_else(|e| panic!("{e}"));
    let feed = read_path(&list).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(feed.indicators.len(), 2);
    assert_eq!(feed.diagnostics.len(), 1);
    assert_eq!(feed.diagnostics[0].kind, DiagnosticKind::Limit);
    assert!(feed.diagnostics[0].location.ends_with("list.txt:2"));
}

#[test]
fn csv_lists_name_their_columns() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let csv = dir.path().join("iocs.csv");
    std::fs::write(
        &csv,
        "Type,Value,Comment\nip-dst,203.0.113.7,C2\nfilename,C:\\x\\Evil Tool.exe,\nmutex,Global\\x,\n,evil[.]example,detected\nsha256,zz,bad\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let feed = read_path(&csv).unwrap_or_else(|e| panic!("{e}"));
    let values: Vec<(&str, &str)> = feed
        .indicators
        .iter()
        .map(|i| (i.all_of[0].kind.name(), i.all_of[0].value.as_str()))
        .collect();
    assert_eq!(
        values,
        [
            ("ip", "203.0.113.7"),
            ("file-name", "evil tool.exe"),
            ("domain", "evil.example")
        ]
    );
    assert_eq!(feed.indicators[0].description.as_deref(), Some("C2"));
    let kinds: Vec<(DiagnosticKind, &str)> = feed
        .diagnostics
        .iter()
        .map(|d| (d.kind, d.location.rsplit(':').next().unwrap_or("")))
        .collect();
    assert_eq!(
        kinds,
        [
            (DiagnosticKind::UnsupportedType, "4"),
            (DiagnosticKind::InvalidValue, "6")
        ]
    );
    let headless = dir.path().join("headless.csv");
    std::fs::write(&headless, "a,b\n1,2\n").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(read_path(&headless), Err(Error::Csv { .. })));
}
