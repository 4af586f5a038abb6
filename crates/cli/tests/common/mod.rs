//! Running the `rampart` binary as a user would, shared by the CLI integration tests.
// Each test binary compiles its own copy and uses only some of these helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

/// A cache directory private to this test run, shared by its commands: the shared data
/// may be read-only, so the knowledge graph cache goes to the platform cache dir,
/// which is pointed here.
pub fn cache_home() -> &'static Path {
    static CACHE: OnceLock<tempfile::TempDir> = OnceLock::new();
    CACHE.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// Runs the binary with the reference data.
pub fn rampart(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(rampart_testkit::data_dir())
        .args(args)
        .env("XDG_CACHE_HOME", cache_home())
        .env_remove("RAMPART_LOG")
        .output()
        .unwrap()
}

/// Runs the binary and fails the test, showing stderr, unless it succeeds.
pub fn ok(args: &[&str]) -> Output {
    let output = rampart(args);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs the binary, which must succeed, and parses its stdout as one JSON document.
pub fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&ok(args).stdout).unwrap()
}
