//! Human and CSV output under hostile input, through the real binary: event fields and
//! rule text carrying terminal escape sequences (clear screen, OSC 52 clipboard writes,
//! window titles), CR/LF that would forge rows, and spreadsheet formulas; the
//! `--threads` bound; colour only where a person looks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{cache_home, ok, rampart};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A rule of a logsource the built-in map does not know: it runs on JSON events that
/// are not Windows records. Its title holds an OSC window-title sequence (`\e`, `\a`
/// are YAML escapes), as any rule author may write.
const HOSTILE_RULE: &str = r#"title: "Calc \e]0;pwned\a launched"
id: 6d1f3c52-7c3e-4b9f-9a59-0f3c1b2e4d01
status: test
description: "line one\r\nFORGED DESCRIPTION ROW"
level: high
tags:
    - attack.credential-access
    - attack.t1003.001
logsource:
    product: hostiletest
detection:
    sel:
        CommandLine|contains: calc
    condition: sel
"#;

/// The long host name must be shown in full; the other host name clears the screen
/// and sets the title; the command line writes the clipboard and forges a row. The
/// second event is earlier than the first.
const HOSTILE_EVENTS: &str = concat!(
    r#"{"@timestamp":"2024-05-01T10:00:02Z","Computer":"finance-department-workstation-0042.corp.example","CommandLine":"calc \u001b]52;c;SGVsbG8=\u0007\r\n2024-05-01 10:00:00  critical  FORGED"}"#,
    "\n",
    r#"{"@timestamp":"2024-05-01T10:00:01Z","Computer":"ws1\u001b[2J\u001b]0;owned\u0007","CommandLine":"calc.exe"}"#,
    "\n",
);

const LONG_HOST: &str = "finance-department-workstation-0042.corp.example";

/// A folder with the hostile rule and events.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(events: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        std::fs::write(dir.path().join("rules/hostile.yml"), HOSTILE_RULE).unwrap();
        std::fs::write(dir.path().join("events.jsonl"), events).unwrap();
        Fixture { dir }
    }

    fn rules(&self) -> String {
        path_text(&self.dir.path().join("rules"))
    }

    fn events(&self) -> String {
        path_text(&self.dir.path().join("events.jsonl"))
    }

    fn db(&self) -> String {
        path_text(&self.dir.path().join("rampart.db"))
    }

    fn hunt(&self, extra: &[&str]) -> Output {
        let (events, rules) = (self.events(), self.rules());
        let mut args = vec!["hunt", &events, "--rules", &rules];
        args.extend_from_slice(extra);
        ok(&args)
    }

    /// Hunts into a fresh store.
    fn stored(&self) -> String {
        let db = self.db();
        self.hunt(&["--format", "jsonl", "--quiet", "--store", &db]);
        db
    }
}

fn path_text(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// Fails unless `bytes` hold no character a terminal would act on raw: ESC, BEL, CR,
/// the C1 CSI, a bidi override.
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let raw: Vec<char> = text
        .chars()
        .filter(|&c| {
            matches!(
                c,
                '\u{1b}' | '\u{7}' | '\r' | '\u{9b}' | '\u{202e}' | '\u{2066}'
            )
        })
        .collect();
    assert!(
        raw.is_empty(),
        "{what} holds raw control characters {raw:?}:\n{text}"
    );
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn table_escapes_hostile_fields_keeps_one_row_per_alert_sorted_by_time() {
    let fixture = Fixture::new(HOSTILE_EVENTS);
    let output = fixture.hunt(&["--format", "table"]);
    assert_terminal_safe("table", &output.stdout);
    assert_terminal_safe("hunt stderr", &output.stderr);
    let rows = lines(&output.stdout);
    assert_eq!(rows.len(), 3, "a header and one row per alert:\n{rows:#?}");
    assert!(rows[0].starts_with("TIME"), "{rows:#?}");
    // Sorted by event time: the second event of the file happened first.
    assert!(rows[1].starts_with("2024-05-01 10:00:01"), "{rows:#?}");
    assert!(rows[1].contains(r"ws1\x1b[2J\x1b]0;owned\x07"), "{rows:#?}");
    assert!(rows[2].starts_with("2024-05-01 10:00:02"), "{rows:#?}");
    // Identifying columns are never cut.
    assert!(rows[2].contains(LONG_HOST), "{rows:#?}");
    assert!(rows[2].contains(r"\r\n2024-05-01"), "{rows:#?}");
    assert!(
        rows[2].contains(r"Calc \x1b]0;pwned\x07 launched"),
        "{rows:#?}"
    );
}

#[test]
fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
    let hosts = [
        "=cmd|' /C calc'!A0",
        "+SUM(1,1)",
        "-2+3",
        "@SUM(A1)",
        "\tTAB",
        "\rCR",
        "=\"quoted\",comma",
        "plain-host",
    ];
    let events: String = hosts
        .iter()
        .enumerate()
        .map(|(i, host)| {
            format!(
                "{}\n",
                serde_json::json!({
                    "@timestamp": format!("2024-05-01T10:00:0{i}Z"),
                    "Computer": host,
                    "CommandLine": "calc",
                })
            )
        })
        .collect();
    let fixture = Fixture::new(&events);
    let output = fixture.hunt(&["--format", "csv"]);
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    let computer = headers.iter().position(|h| h == "computer").unwrap();
    let cells: Vec<String> = reader
        .records()
        .map(|record| record.unwrap()[computer].to_string())
        .collect();
    let expected: Vec<String> = hosts
        .iter()
        .map(|host| match host.chars().next() {
            Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{host}"),
            _ => host.to_string(),
        })
        .collect();
    assert_eq!(cells, expected);
}

#[test]
fn alerts_list_escapes_stored_fields_one_line_per_alert() {
    let fixture = Fixture::new(HOSTILE_EVENTS);
    let db = fixture.stored();
    let output = ok(&["alerts", "list", "--store", &db]);
    assert_terminal_safe("alerts list", &output.stdout);
    let rows = lines(&output.stdout);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows.iter().any(|row| row.contains(LONG_HOST)), "{rows:#?}");
    assert!(
        rows.iter()
            .all(|row| row.contains(r"Calc \x1b]0;pwned\x07")),
        "{rows:#?}"
    );
}

#[test]
fn incidents_list_and_show_escape_stored_fields() {
    let fixture = Fixture::new(HOSTILE_EVENTS);
    let db = fixture.stored();
    let list = ok(&["incidents", "list", "--store", &db]);
    assert_terminal_safe("incidents list", &list.stdout);
    let rows = lines(&list.stdout);
    assert_eq!(rows.len(), 2, "one incident per host:\n{rows:#?}");
    assert!(rows.iter().any(|row| row.contains(LONG_HOST)), "{rows:#?}");

    let ids = ok(&["incidents", "list", "--json", "--store", &db]);
    for line in lines(&ids.stdout) {
        let incident: serde_json::Value = serde_json::from_str(&line).unwrap();
        let id = incident["id"].as_str().unwrap();
        let show = ok(&["incidents", "show", id, "--store", &db]);
        assert_terminal_safe("incidents show", &show.stdout);
        let text = String::from_utf8_lossy(&show.stdout);
        assert!(text.contains(r"Calc \x1b]0;pwned\x07 launched"), "{text}");
        assert!(!text.contains("\nFORGED"), "{text}");
    }
}

#[test]
fn alerts_runs_escapes_recorded_input_names() {
    let fixture = Fixture::new(HOSTILE_EVENTS);
    let hostile = fixture.dir.path().join("evil\u{1b}]0;owned\u{7}.jsonl");
    std::fs::write(&hostile, HOSTILE_EVENTS).unwrap();
    let db = fixture.db();
    let rules = fixture.rules();
    ok(&[
        "hunt",
        hostile.to_str().unwrap(),
        "--rules",
        &rules,
        "--quiet",
        "--format",
        "jsonl",
        "--store",
        &db,
    ]);
    let runs = ok(&["alerts", "runs", "--store", &db]);
    assert_terminal_safe("alerts runs", &runs.stdout);
    assert!(String::from_utf8_lossy(&runs.stdout).contains(r"evil\x1b]0;owned\x07.jsonl"));
}

#[test]
fn errors_and_diagnostics_escape_the_names_they_quote() {
    let fixture = Fixture::new(HOSTILE_EVENTS);
    let dir = &fixture.dir;
    let missing = dir.path().join("gone\u{1b}[2J\u{1b}]0;owned\u{7}.evtx");
    let good_rules = fixture.rules();
    let output = rampart(&[
        "hunt",
        missing.to_str().unwrap(),
        "--rules",
        &good_rules,
        "--quiet",
    ]);
    assert!(!output.status.success());
    assert_terminal_safe("hunt error", &output.stderr);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(r"gone\x1b[2J"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let rules = dir.path().join("bad-rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("bad\u{1b}]52;c;SGVsbG8=\u{7}.yml"),
        "title: [unclosed",
    )
    .unwrap();
    let check = rampart(&["sigma", "check", rules.to_str().unwrap()]);
    assert!(!check.status.success());
    assert_terminal_safe("sigma check", &check.stdout);
    assert!(String::from_utf8_lossy(&check.stdout).contains(r"bad\x1b]52;c;SGVsbG8=\x07.yml"));
    // A hunt whose only rule fails names it in its error.
    let hunt = rampart(&[
        "hunt",
        &fixture.events(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert!(!hunt.status.success());
    assert_terminal_safe("no-rules error", &hunt.stderr);
    assert!(String::from_utf8_lossy(&hunt.stderr).contains(r"bad\x1b]52;c;SGVsbG8=\x07.yml"));
}

/// Runs the binary, killing it and failing when it takes longer than `limit`.
fn run_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(rampart_testkit::data_dir())
        .args(args)
        .env("XDG_CACHE_HOME", cache_home())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("{args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn log_cleared_sample() -> PathBuf {
    rampart_testkit::data_path(
        "evtx-attack-samples/Defense Evasion/DE_1102_security_log_cleared.evtx",
    )
}

#[test]
fn an_absurd_thread_count_is_bounded_with_a_warning() {
    let sample = path_text(&log_cleared_sample());
    let rules = path_text(&rampart_testkit::data_path(
        "sigma/rules/windows/builtin/security",
    ));
    let args = ["hunt", &sample, "--rules", &rules, "--format", "jsonl"];
    let one = run_within(
        &[&args[..], &["--threads", "1"]].concat(),
        Duration::from_secs(60),
    );
    // Spawning 5,000 threads took minutes on a busy machine before the bound.
    let many = run_within(
        &[&args[..], &["--threads", "5000"]].concat(),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&many.stderr);
    assert!(many.status.success(), "{stderr}");
    assert!(stderr.contains("warning: --threads 5000"), "{stderr}");
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, many.stdout);
}

#[test]
fn logs_carry_no_colour_when_stderr_is_not_a_terminal() {
    // `-vv` logs at least where the knowledge graph came from (cache or rebuilt).
    let piped = ok(&["-vv", "attack", "show", "T1003.001"]);
    assert!(!piped.stderr.is_empty());
    assert_terminal_safe("log lines", &piped.stderr);
    let forced = ok(&["-vv", "--color", "always", "attack", "show", "T1003.001"]);
    assert!(
        forced.stderr.contains(&0x1b),
        "--color always colours the log"
    );
}
