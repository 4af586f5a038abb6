//! Test support shared by every crate's tests: where the reference data lives, and
//! what a measuring example reads of its own memory.
//!
//! Tests run against the real public data (ATT&CK, D3FEND, ENGAGE, SigmaHQ, EVTX
//! samples) that sits beside the checkout in `../shared/data`. `RAMPART_TEST_DATA`
//! overrides the path. A missing data directory fails the test loudly rather than
//! skipping it, so a green run always means the real data was exercised.

use std::path::{Path, PathBuf};

/// The reference data directory (`RAMPART_TEST_DATA`, else `<workspace>/../shared/data`).
///
/// # Panics
/// When the directory does not exist: tests must not pass without their data.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("RAMPART_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/data"));
    assert!(
        dir.is_dir(),
        "reference data not found at {}: put the shared data beside the checkout or set RAMPART_TEST_DATA",
        dir.display()
    );
    dir
}

/// A path inside the reference data directory.
pub fn data_path(relative: &str) -> PathBuf {
    data_dir().join(relative)
}

/// Every file below `relative` in the reference data whose extension is `extension`
/// (ignoring ASCII case), sorted; see [`files_under`].
pub fn data_files(relative: &str, extension: &str) -> Vec<PathBuf> {
    files_under(&data_path(relative), extension)
}

/// Every file below `dir` whose extension is `extension` (ignoring ASCII case), sorted.
///
/// # Panics
/// When a folder cannot be listed: a test must not pass on part of its data.
pub fn files_under(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case(extension))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The workspace root (the folder holding the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The process's peak resident set (`VmHWM` of `/proc/self/status`), in KiB; 0 where
/// there is no `/proc`: for the examples that measure what loading costs.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn reads_the_peak_resident_set() {
        // 64 MiB written, so resident: the peak is at least that.
        let held = vec![1u8; 64 << 20];
        let peak = super::peak_rss_kib();
        assert!(held.iter().all(|&b| b == 1));
        assert!(peak >= 64 << 10, "{peak} KiB");
    }

    #[test]
    fn finds_the_reference_data() {
        assert!(super::data_path("mitre-attack").is_dir());
    }

    #[test]
    fn lists_data_files_by_extension_in_order() {
        let files = super::data_files("evtx-attack-samples", "evtx");
        assert!(files.len() > 250, "{}", files.len());
        assert!(files.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(files
            .iter()
            .all(|f| f.extension().is_some_and(|e| e == "evtx")));
    }
}
