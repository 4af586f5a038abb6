#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Finding inputs in hostile folders: symbolic link loops, FIFOs, dangling links.

mod common;

use rampart_ingest::{inputs, FindOptions, Found, Input, ReadOptions};
use std::os::unix::fs::symlink;
use std::path::Path;

const EVENT: &str = "{\"EventID\":1,\"Image\":\"a.exe\"}\n";

fn names(found: &Found) -> Vec<String> {
    found
        .inputs
        .iter()
        .map(|input| input.name().to_string())
        .collect()
}

fn skipped(found: &Found) -> Vec<String> {
    found.skipped.iter().map(ToString::to_string).collect()
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// `ln -s . self` (twice) in a folder: without --follow-links the links are reported
/// and not followed; with it, each loop is reported once. Either way the one file is
/// found once and the walk ends.
#[test]
fn symlink_loops_neither_repeat_nor_hang_a_walk() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.jsonl"), EVENT).unwrap();
    symlink(".", dir.path().join("self")).unwrap();
    symlink(".", dir.path().join("again")).unwrap();
    let found = inputs(&[dir.path()], FindOptions::default());
    assert_eq!(found.inputs.len(), 1, "{:?}", names(&found));
    assert_eq!(found.skipped.len(), 2, "{:?}", skipped(&found));
    assert!(skipped(&found)
        .iter()
        .all(|line| line.contains("symbolic link not followed")));

    let follow = FindOptions { follow_links: true };
    let found = inputs(&[dir.path()], follow);
    assert_eq!(found.inputs.len(), 1, "{:?}", names(&found));
    assert_eq!(found.skipped.len(), 2, "{:?}", skipped(&found));
    assert!(skipped(&found)
        .iter()
        .all(|line| line.contains("symbolic link loop")));
}

/// With --follow-links, a link to a folder outside the walk is followed.
#[test]
fn followed_links_reach_other_folders() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("far.jsonl"), EVENT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    symlink(outside.path(), dir.path().join("linked")).unwrap();
    let follow = FindOptions { follow_links: true };
    let found = inputs(&[dir.path()], follow);
    assert_eq!(found.inputs.len(), 1);
    assert!(found.skipped.is_empty(), "{:?}", skipped(&found));
    assert!(names(&found)[0].ends_with("linked/far.jsonl"));
}

/// A FIFO named `*.jsonl` in a folder is passed over without being opened (which
/// would wait for a writer for ever); a dangling link, in a folder or named, is a
/// diagnostic and the other inputs are still found.
#[test]
fn fifos_and_dangling_links_are_skipped_with_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.jsonl"), EVENT).unwrap();
    mkfifo(&dir.path().join("pipe.jsonl"));
    let dangling = dir.path().join("gone.jsonl");
    symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let follow = FindOptions { follow_links: true };
    for options in [FindOptions::default(), follow] {
        let found = inputs(&[dir.path(), &dangling], options);
        assert_eq!(names(&found).len(), 1, "{:?}", names(&found));
        assert!(names(&found)[0].ends_with("a.jsonl"));
        let skipped = skipped(&found);
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(skipped
            .iter()
            .any(|line| line.contains("pipe.jsonl: not a regular file")));
        assert!(skipped.iter().any(|line| line.contains("cannot access")));
    }
}

/// A FIFO named on the command line is read: the user asked for it, and its first
/// bytes are not lost to format sniffing.
#[test]
fn a_named_fifo_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("pipe.jsonl");
    mkfifo(&pipe);
    let writer = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::write(pipe, EVENT.repeat(3)).unwrap())
    };
    let found = inputs(&[&pipe], FindOptions::default());
    assert!(found.skipped.is_empty());
    let input: &Input = &found.inputs[0];
    let (events, diagnostics, _) = common::read_input(input, &ReadOptions::default());
    writer.join().unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(events.len(), 3);
}
