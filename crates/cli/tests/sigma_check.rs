//! `rampart sigma check`: diagnostics, summary, JSON and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn rampart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .expect("rampart runs")
}

fn path_arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn all_of_sigmahq_rules_folder_loads_and_exits_zero() {
    let rules = rampart_testkit::data_path("sigma/rules");
    let output = rampart(&["sigma", "check", path_arg(&rules), "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["rules"], 3_141);
    assert_eq!(report["loaded"], 3_141);
    assert_eq!(report["failed"], 0);
}

#[test]
fn a_broken_rule_is_reported_with_file_and_line_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let good = rampart_testkit::data_path(
        "sigma/rules/windows/process_creation/proc_creation_win_certutil_download.yml",
    );
    std::fs::copy(&good, dir.path().join("good.yml")).unwrap();
    std::fs::write(
        dir.path().join("broken.yml"),
        "title: broken\nlogsource:\n    product: windows\ndetection:\n    sel:\n        Image|endwith: x\n    condition: sel\n",
    )
    .unwrap();

    let output = rampart(&["sigma", "check", path_arg(dir.path())]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("broken.yml:6: error [unknown-modifier]"),
        "{text}"
    );
    assert!(text.contains("`|endwith`"), "{text}");
    assert!(text.contains("rules: 2\n"), "{text}");
    assert!(text.contains("loaded: 1 "), "{text}");
    assert!(
        text.contains("failed: 1\n  unknown-modifier: 1\n"),
        "{text}"
    );

    let output = rampart(&["sigma", "check", path_arg(dir.path()), "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (
            report["rules"].as_u64(),
            report["loaded"].as_u64(),
            report["failed"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(report["failed_by_kind"]["unknown-modifier"], 1);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["line"], 6);
    assert_eq!(diagnostic["kind"], "unknown-modifier");
    assert!(diagnostic["path"].as_str().unwrap().ends_with("broken.yml"));
}

#[test]
fn placeholders_given_on_the_command_line_are_expanded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("placeholder.yml"),
        "title: admins\nlogsource:\n    product: windows\ndetection:\n    sel:\n        User|expand: '%Administrators%'\n    condition: sel\n",
    )
    .unwrap();
    let without = rampart(&["sigma", "check", path_arg(dir.path())]);
    assert_eq!(without.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&without.stdout).contains("placeholder: 1"));
    let with = rampart(&[
        "sigma",
        "check",
        path_arg(dir.path()),
        "--placeholder",
        "Administrators=adm_*",
        "--placeholder",
        "%Administrators%=root",
    ]);
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stdout)
    );
}

/// `ln -s . self` twice in a rules folder loaded every rule again through each link
/// (and two such links hung the walk); a FIFO named `*.yml` hung it too. Now links are
/// reported and passed over (or, with --follow-links, followed with each loop
/// reported), the FIFO is reported, and the one rule loads once.
#[test]
fn symlink_loops_and_fifos_in_a_rules_folder_neither_repeat_nor_hang() {
    let dir = tempfile::tempdir().unwrap();
    let good = rampart_testkit::data_path(
        "sigma/rules/windows/process_creation/proc_creation_win_certutil_download.yml",
    );
    std::fs::copy(&good, dir.path().join("good.yml")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("self")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("again")).unwrap();
    let fifo = dir.path().join("pipe.yml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (follow, note) in [
        (false, "symbolic link not followed"),
        (true, "symbolic link loop"),
    ] {
        let mut args = vec!["sigma", "check", path_arg(dir.path()), "--json"];
        if follow {
            args.push("--follow-links");
        }
        let output = rampart(&args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["rules"], 1, "{stdout}");
        assert_eq!(report["loaded"], 1, "{stdout}");
        assert_eq!(stdout.matches(note).count(), 2, "{stdout}");
        assert!(stdout.contains("not a regular file"), "{stdout}");
    }
}
