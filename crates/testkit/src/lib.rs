//! Test support shared by every crate's tests: where the reference data lives.
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

/// The workspace root (the folder holding the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_reference_data() {
        assert!(super::data_path("mitre-attack").is_dir());
    }
}
