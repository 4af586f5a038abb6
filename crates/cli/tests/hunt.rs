#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rampart hunt` and `rampart sigma test`, run as the built binary on the real data.

use rampart_event::{Alert, Level};
use rampart_testkit::data_path;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const LOG_CLEARED_RULE: &str = "d99b79d2-0a6f-4f46-ad8b-260b6e17f982";

fn rampart(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .env("RAMPART_DATA", rampart_testkit::data_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn alerts(output: &Output) -> Vec<Alert> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one alert"))
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn log_cleared_sample() -> PathBuf {
    data_path("evtx-attack-samples/Defense Evasion/DE_1102_security_log_cleared.evtx")
}

fn security_rules() -> PathBuf {
    data_path("sigma/rules/windows/builtin/security")
}

/// Alerts as comparable keys: what fired on which record.
fn keys(alerts: &[Alert]) -> Vec<(String, Option<u64>, Option<u32>)> {
    let mut keys: Vec<_> = alerts
        .iter()
        .map(|a| (a.rule_id.clone(), a.event.record_id, a.event.event_id))
        .collect();
    keys.sort();
    keys
}

#[test]
fn whole_corpus_with_default_rules_is_deterministic_across_thread_counts() {
    let corpus = data_path("evtx-attack-samples");
    let one = rampart(
        &["hunt", text(&corpus), "--threads", "1", "--format", "jsonl"],
        None,
    );
    let two = rampart(
        &["hunt", text(&corpus), "--threads", "2", "--format", "jsonl"],
        None,
    );
    assert_eq!(
        one.stdout, two.stdout,
        "output order must not depend on threads"
    );
    let alerts = alerts(&two);
    assert!(alerts.len() > 1000, "{}", alerts.len());
    let summary = stderr(&two);
    assert!(
        summary.contains("hunt: 277 files, 8,255 events"),
        "{summary}"
    );
    assert!(summary.contains("alerts: "), "{summary}");
    assert!(summary.contains("by tactic: "), "{summary}");
    // Every alert names its rule, its event and where the event came from.
    for alert in &alerts {
        assert!(!alert.rule_id.is_empty() && !alert.rule_title.is_empty());
        assert!(alert.event.source.ends_with(".evtx"));
        assert!(alert.event.record_id.is_some() && alert.event.event_id.is_some());
    }
    assert!(alerts.iter().any(|a| a.rule_id == LOG_CLEARED_RULE));
}

#[test]
fn security_log_cleared_is_detected_with_its_attack_tags() {
    let output = rampart(
        &[
            "hunt",
            text(&log_cleared_sample()),
            "--rules",
            text(&security_rules()),
            "--format",
            "jsonl",
        ],
        None,
    );
    let alerts = alerts(&output);
    let hit = alerts
        .iter()
        .find(|a| a.rule_id == LOG_CLEARED_RULE)
        .expect("the 1102 event fires Security Eventlog Cleared");
    assert_eq!(hit.rule_title, "Security Eventlog Cleared");
    assert_eq!(hit.level, Level::High);
    assert_eq!(hit.event.event_id, Some(1102));
    assert_eq!(hit.event.channel.as_deref(), Some("Security"));
    assert!(hit.event.timestamp.is_some() && hit.event.computer.is_some());
    assert!(!hit.techniques.is_empty() && !hit.tactics.is_empty());
    assert!(
        hit.matched
            .iter()
            .any(|m| m.field == "EventID" && m.value == "1102"),
        "{:?}",
        hit.matched
    );
}

#[test]
fn evtx_json_and_stdin_give_the_same_alerts() {
    let dir = data_path(
        "sigma/regression_data/rules/windows/process_creation/proc_creation_win_renamed_binary",
    );
    let file = |ext: &str| {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == ext))
            .unwrap()
    };
    let rules = data_path("sigma/rules/windows/process_creation");
    let run = |path: &str, stdin: Option<&[u8]>| {
        alerts(&rampart(
            &["hunt", path, "--rules", text(&rules), "--format", "jsonl"],
            stdin,
        ))
    };
    let from_evtx = run(text(&file("evtx")), None);
    let from_json = run(text(&file("json")), None);
    let json_bytes = std::fs::read(file("json")).unwrap();
    let from_stdin = run("-", Some(&json_bytes));
    assert!(!from_evtx.is_empty());
    assert_eq!(keys(&from_evtx), keys(&from_json));
    assert_eq!(keys(&from_json), keys(&from_stdin));
    assert!(from_stdin.iter().all(|a| &*a.event.source == "-"));
}

#[test]
fn csv_and_table_carry_the_same_alerts() {
    let (sample, rules) = (log_cleared_sample(), security_rules());
    let args = |format| {
        vec![
            "hunt",
            text(&sample),
            "--rules",
            text(&rules),
            "--format",
            format,
        ]
    };
    let jsonl = alerts(&rampart(&args("jsonl"), None));
    let csv = rampart(&args("csv"), None);
    let mut reader = csv::Reader::from_reader(&csv.stdout[..]);
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[2], "rule_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), jsonl.len());
    for (row, alert) in rows.iter().zip(&jsonl) {
        assert_eq!(&row[2], alert.rule_id);
        assert_eq!(row[9].parse::<u32>().ok(), alert.event.event_id);
    }
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("alerts.csv");
    let mut to_file = args("csv");
    to_file.extend(["--output", text(&file)]);
    let written = rampart(&to_file, None);
    assert!(written.status.success() && written.stdout.is_empty());
    assert_eq!(
        std::fs::read(&file).unwrap(),
        csv.stdout,
        "--output writes what stdout would"
    );
    let table = String::from_utf8(rampart(&args("table"), None).stdout).unwrap();
    assert!(table.starts_with("TIME (UTC)"));
    assert_eq!(table.lines().count(), jsonl.len() + 1);
    assert!(table.contains("Security Eventlog Cleared"));
}

#[test]
fn min_level_keeps_only_severe_rules() {
    let corpus = data_path("evtx-attack-samples/Lateral Movement");
    let all = alerts(&rampart(
        &["hunt", text(&corpus), "--format", "jsonl"],
        None,
    ));
    let high = alerts(&rampart(
        &[
            "hunt",
            text(&corpus),
            "--format",
            "jsonl",
            "--min-level",
            "high",
        ],
        None,
    ));
    assert!(!high.is_empty() && high.len() < all.len());
    assert!(high.iter().all(|a| a.level >= Level::High));
    let expected: Vec<_> = all
        .iter()
        .filter(|a| a.level >= Level::High)
        .cloned()
        .collect();
    assert_eq!(keys(&high), keys(&expected));
}

/// A broken rule, a garbled EVTX chunk and a garbage file are each reported, and
/// everything else is still hunted.
#[test]
fn damaged_inputs_and_a_broken_rule_lose_nothing_else() {
    let work = tempfile::tempdir().unwrap();
    let rules = work.path().join("rules");
    let inputs = work.path().join("inputs");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::copy(
        security_rules().join("win_security_audit_log_cleared.yml"),
        rules.join("log_cleared.yml"),
    )
    .unwrap();
    std::fs::write(
        rules.join("broken.yml"),
        "title: broken\ndetection:\n  condition: nothing_here\n",
    )
    .unwrap();
    std::fs::copy(log_cleared_sample(), inputs.join("a_cleared.evtx")).unwrap();
    let garbled = inputs.join("b_garbled.evtx");
    let mut bytes = std::fs::read(log_cleared_sample()).unwrap();
    bytes[4096..4104].copy_from_slice(b"XXXXXXXX");
    std::fs::write(&garbled, bytes).unwrap();
    std::fs::write(inputs.join("c_garbage.json"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();

    let output = rampart(
        &[
            "hunt",
            text(&inputs),
            "--rules",
            text(&rules),
            "--format",
            "jsonl",
        ],
        None,
    );
    // The hunt ran to its end but passed over damaged records: exit status 3.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let alerts: Vec<Alert> = String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one alert"))
        .collect();
    let errors = stderr(&output);
    assert!(
        alerts
            .iter()
            .any(|a| a.event.source.ends_with("a_cleared.evtx")),
        "{errors}"
    );
    assert!(
        errors.contains("b_garbled.evtx:chunk 0: chunk skipped"),
        "{errors}"
    );
    // Binary garbage is no longer sniffed away as a whole file: each line is read,
    // and one that is not JSON is a diagnostic with its line number.
    assert!(
        errors.contains("c_garbage.json:1: line skipped: malformed JSON"),
        "{errors}"
    );
    assert!(errors.contains("1 failed to load"), "{errors}");
    assert!(errors.contains("rampart sigma check"), "{errors}");
}

/// A path that does not exist fails the hunt with one readable line: the path and the
/// system's reason, said once.
#[test]
fn a_missing_input_is_named_with_its_reason_once() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("no_such_file.jsonl");
    let output = rampart(
        &["hunt", text(&missing), "--rules", text(&security_rules())],
        None,
    );
    assert!(!output.status.success());
    let errors = stderr(&output);
    assert!(
        errors.contains(&format!("cannot access {}", missing.display())),
        "{errors}"
    );
    assert_eq!(errors.matches("os error 2").count(), 1, "{errors}");
}

/// SigmaHQ's placeholder rules run once the site gives their values, from a file or
/// the command line; without values the hunt says which placeholder is missing.
#[test]
fn placeholder_rules_hunt_with_the_values_given() {
    let rule = data_path(
        "sigma/rules-placeholder/windows/process_creation/proc_creation_win_userdomain_variable_enumeration.yml",
    );
    let event = br#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1","CommandLine":"cmd /c echo CONTOSO"}"#;
    let hunt = |extra: &[&str]| {
        let mut args = vec!["hunt", "-", "--rules", text(&rule), "--format", "jsonl"];
        args.extend_from_slice(extra);
        rampart(&args, Some(event))
    };

    let without = hunt(&[]);
    assert_eq!(without.status.code(), Some(1));
    let errors = stderr(&without);
    assert!(
        errors.contains("proc_creation_win_userdomain_variable_enumeration.yml:20")
            && errors.contains("`%userdomain%`"),
        "{errors}"
    );

    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("site.yml");
    std::fs::write(&file, "vars:\n  userdomain: [FABRIKAM, contoso]\n").unwrap();
    let from_file = alerts(&hunt(&["--placeholders", text(&file)]));
    assert_eq!(from_file.len(), 1);
    assert_eq!(from_file[0].rule_id, "43311e65-84d8-42a5-b3d4-c94d9b67038f");

    let other_domain = alerts(&hunt(&["--placeholder", "userdomain=FABRIKAM"]));
    assert!(other_domain.is_empty(), "{other_domain:?}");
}

#[test]
fn sigma_regression_suite_passes() {
    let output = rampart(&["sigma", "test"], None);
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let last = stdout.lines().last().unwrap_or_default();
    let counts: Vec<u64> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(last, format!("{} passed, {} failed", counts[0], counts[1]));
    assert!(counts[0] >= 200, "{stdout}");
    assert_eq!(counts[1], 0, "{stdout}");
    assert!(output.status.success());
}

/// README's `sigma test` line, run as written: the suite's rules live in several
/// folders (rules, emerging threats, threat hunting), which the command finds itself.
#[test]
fn readme_sigma_test_command_passes() {
    let readme = include_str!("../../../README.md");
    let line = readme
        .lines()
        .find(|line| line.starts_with("rampart sigma test"))
        .unwrap();
    let data = rampart_testkit::data_dir();
    let command = line.replace("$RAMPART_DATA", data.to_str().unwrap());
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let output = rampart(&args, None);
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let last = stdout.lines().last().unwrap_or_default();
    assert!(output.status.success(), "{line}\n{stdout}");
    assert!(last.ends_with(" passed, 0 failed"), "{line}\n{stdout}");
}

#[test]
fn sigma_test_reports_a_failing_case() {
    // A suite whose sample does not contain what the rule looks for must fail loudly.
    let work = tempfile::tempdir().unwrap();
    let case = work.path().join("regression_data/case");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::copy(log_cleared_sample(), case.join("sample.evtx")).unwrap();
    std::fs::write(
        case.join("info.yml"),
        format!(
            "id: x\nrule_metadata:\n  - id: {LOG_CLEARED_RULE}\nregression_tests_info:\n  - name: t\n    type: evtx\n    match_count: 5\n    path: regression_data/case/sample.evtx\n"
        ),
    )
    .unwrap();
    let regression = work.path().join("regression_data");
    let output = rampart(
        &[
            "sigma",
            "test",
            "--rules",
            text(&security_rules()),
            "--regression",
            text(&regression),
        ],
        None,
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(!output.status.success());
    assert!(
        stdout.contains(&format!("FAIL {LOG_CLEARED_RULE}")),
        "{stdout}"
    );
    assert!(stdout.contains("expected 5 matches, got 1"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("0 passed, 1 failed"));
}

#[test]
fn rules_tagged_for_an_older_attack_are_said_once_in_the_summary() {
    let rules = tempfile::tempdir().unwrap();
    // SigmaHQ's log-cleared rule as ATT&CK 18 tagged it: 19.1 revoked T1070.001 and has
    // no `defense-evasion` tactic.
    for (name, id) in [("cleared.yml", "1"), ("cleared_too.yml", "2")] {
        std::fs::write(
            rules.path().join(name),
            format!("title: Log cleared {id}\nid: 00000000-0000-4000-8000-00000000000{id}\nstatus: test\ntags: [attack.defense-evasion, attack.t1070.001]\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID: 1102\n    condition: selection\nlevel: high\n"),
        )
        .unwrap();
    }
    let output = rampart(
        &[
            "hunt",
            text(&log_cleared_sample()),
            "--rules",
            text(rules.path()),
        ],
        None,
    );
    assert_eq!(alerts(&output).len(), 2);
    let message = stderr(&output);
    assert_eq!(
        message.matches("ATT&CK version skew").count(),
        1,
        "{message}"
    );
    for part in [
        "2 rule(s) use 1 technique id(s) revoked in ATT&CK 19.1",
        "T1070.001 → T1685.005",
        "(defense-evasion)",
        "`rampart data update`",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    // SigmaHQ's own rules, tagged for 19.1, say nothing of the kind.
    let output = rampart(
        &[
            "hunt",
            text(&log_cleared_sample()),
            "--rules",
            text(&security_rules()),
        ],
        None,
    );
    assert!(!alerts(&output).is_empty());
    assert!(
        !stderr(&output).contains("version skew"),
        "{}",
        stderr(&output)
    );
}

/// A JSON line of the Security event that fires "Security Eventlog Cleared".
const LOG_CLEARED_LINE: &str =
    r#"{"Channel":"Security","EventID":1102,"Provider_Name":"Microsoft-Windows-Eventlog"}"#;

/// A dangling symbolic link among the inputs no longer aborts the hunt: it is reported,
/// the other inputs are hunted, the summary counts it and the exit status (3) says the
/// run passed over some input.
#[test]
fn a_dangling_input_is_skipped_and_the_exit_status_says_so() {
    let work = tempfile::tempdir().unwrap();
    let dangling = work.path().join("gone.evtx");
    std::os::unix::fs::symlink(work.path().join("nowhere"), &dangling).unwrap();
    let sample = log_cleared_sample();
    let rules = security_rules();
    let args = [
        "hunt",
        text(&dangling),
        text(&sample),
        "--rules",
        text(&rules),
        "--format",
        "jsonl",
    ];
    let output = rampart(&args, None);
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{errors}");
    assert!(
        errors.contains(&format!("input skipped: {}", dangling.display())),
        "{errors}"
    );
    assert!(errors.contains("1 inputs skipped"), "{errors}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(LOG_CLEARED_RULE), "{stdout}");
    // The same hunt without the bad input is clean.
    let clean = rampart(&[&args[..1], &args[2..]].concat(), None);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
}

/// A line longer than --max-line-bytes is skipped and reported with its line number;
/// the event after it still alerts, and the exit status says a record was skipped.
#[test]
fn an_over_long_line_is_skipped_and_the_next_event_alerts() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("long.jsonl");
    let long = format!("{{\"pad\":\"{}\"}}", "x".repeat(10_000));
    std::fs::write(&path, format!("{long}\n{LOG_CLEARED_LINE}\n")).unwrap();
    let output = rampart(
        &[
            "hunt",
            text(&path),
            "--rules",
            text(&security_rules()),
            "--format",
            "jsonl",
            "--max-line-bytes",
            "4096",
        ],
        None,
    );
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{errors}");
    assert!(
        errors.contains(&format!(
            "{}:1: line skipped: longer than 4096 bytes",
            path.display()
        )),
        "{errors}"
    );
    assert!(errors.contains("1 records skipped"), "{errors}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(LOG_CLEARED_RULE), "{stdout}");
}

/// `ln -s . self` in a logs folder: by default the link is reported and not followed
/// (one alert per match, not 41); with --follow-links the loop is reported and the
/// hunt still ends with each alert once. A FIFO named `*.jsonl` in the folder is passed
/// over rather than waited on.
#[test]
fn symlink_loops_and_fifos_in_a_logs_folder_neither_repeat_nor_hang() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("events.jsonl"),
        format!("{LOG_CLEARED_LINE}\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(".", work.path().join("self")).unwrap();
    std::os::unix::fs::symlink(".", work.path().join("again")).unwrap();
    let fifo = work.path().join("pipe.jsonl");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let rules = security_rules();
    for follow in [false, true] {
        let mut args = vec![
            "hunt",
            text(work.path()),
            "--rules",
            text(&rules),
            "--format",
            "jsonl",
        ];
        if follow {
            args.push("--follow-links");
        }
        let output = rampart(&args, None);
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{errors}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(stdout.matches(LOG_CLEARED_RULE).count(), 1, "{stdout}");
        assert!(
            errors.contains("pipe.jsonl: not a regular file"),
            "{errors}"
        );
        let link_note = if follow {
            "symbolic link loop"
        } else {
            "symbolic link not followed"
        };
        assert_eq!(errors.matches(link_note).count(), 2, "{errors}");
    }
}
