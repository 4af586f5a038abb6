//! The binary cache is used only when valid, and rebuilt when stale or damaged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_knowledge::{CacheStatus, DataFiles, Knowledge};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A private copy of the Enterprise bundle (so its mtime can be changed) and ENGAGE.
fn sources(dir: &Path) -> DataFiles {
    let enterprise = dir.join("enterprise-attack-18.1.json.gz");
    std::fs::copy(
        rampart_testkit::data_path("mitre-attack/enterprise-attack-18.1.json.gz"),
        &enterprise,
    )
    .unwrap();
    DataFiles {
        root: dir.to_path_buf(),
        enterprise: Some(enterprise),
        engage_dir: Some(rampart_testkit::data_path("mitre-engage/Data/json")),
        ..DataFiles::default()
    }
}

fn cache_file(dir: &Path) -> PathBuf {
    dir.join("knowledge.bin")
}

fn is_rebuilt(status: &CacheStatus, why: &str) -> bool {
    matches!(status, CacheStatus::Rebuilt { reason } if reason.starts_with(why))
}

fn summary(k: &Knowledge) -> String {
    let hit = k.find("T1053.005").unwrap();
    serde_json::to_string(&k.report(hit).unwrap()).unwrap()
}

#[test]
fn cache_is_written_reused_and_rebuilt_when_stale() {
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let files = sources(data.path());

    let (built, status) = Knowledge::load_cached(&files, cache.path()).unwrap();
    assert!(is_rebuilt(&status, "missing"), "{status:?}");
    assert!(cache_file(cache.path()).is_file());

    let (cached, status) = Knowledge::load_cached(&files, cache.path()).unwrap();
    assert_eq!(status, CacheStatus::Fresh);
    assert_eq!(summary(&cached), summary(&built));
    assert_eq!(cached.enterprise().counts, built.enterprise().counts);
    assert_eq!(cached.find("cozy bear"), built.find("cozy bear"));

    // A new mtime on unchanged content is not a change: the key is the content.
    let enterprise = files.enterprise.clone().unwrap();
    let later = SystemTime::now() + Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&enterprise)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let (_, status) = Knowledge::load_cached(&files, cache.path()).unwrap();
    assert_eq!(status, CacheStatus::Fresh);
}

#[test]
fn an_edit_that_keeps_size_and_mtime_makes_the_cache_stale() {
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let ics = data.path().join("ics-attack-18.1.json");
    std::fs::copy(
        rampart_testkit::data_path("mitre-attack/ics-attack-18.1.json"),
        &ics,
    )
    .unwrap();
    let files = DataFiles {
        ics: Some(ics.clone()),
        ..sources(data.path())
    };
    let name_of_t0800 = |k: &Knowledge| {
        let hit = k.find("T0800").unwrap();
        k.matrix_of(hit).meta(hit.node).unwrap().name.clone()
    };
    let (k, _) = Knowledge::load_cached(&files, cache.path()).unwrap();
    assert_eq!(name_of_t0800(&k), "Activate Firmware Update Mode");
    let (_, status) = Knowledge::load_cached(&files, cache.path()).unwrap();
    assert_eq!(status, CacheStatus::Fresh);

    // Same length, same mtime, different content.
    let before = std::fs::metadata(&ics).unwrap();
    let text = std::fs::read_to_string(&ics).unwrap().replace(
        "Activate Firmware Update Mode",
        "Activate Firmware Update MODE",
    );
    std::fs::write(&ics, text).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&ics)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    let after = std::fs::metadata(&ics).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());

    let (k, status) = Knowledge::load_cached(&files, cache.path()).unwrap();
    assert!(is_rebuilt(&status, "stale"), "{status:?}");
    assert_eq!(name_of_t0800(&k), "Activate Firmware Update MODE");
}

#[test]
fn damaged_caches_are_rebuilt_never_trusted() {
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let files = sources(data.path());
    let (reference, _) = Knowledge::load_cached(&files, cache.path()).unwrap();
    let good = std::fs::read(cache_file(cache.path())).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    let truncated = good[..good.len() - 1000].to_vec();
    let garbage = b"not a cache at all".to_vec();
    for (damage, expected) in [
        (flipped, "corrupt (checksum"),
        (truncated, "corrupt (truncated"),
        (garbage, "corrupt (bad header"),
    ] {
        std::fs::write(cache_file(cache.path()), damage).unwrap();
        let (k, status) = Knowledge::load_cached(&files, cache.path()).unwrap();
        assert!(is_rebuilt(&status, expected), "{status:?}");
        assert_eq!(summary(&k), summary(&reference));
        // The rebuilt cache is whole again.
        assert_eq!(std::fs::read(cache_file(cache.path())).unwrap(), good);
    }
}

#[test]
fn an_unwritable_cache_still_loads() {
    let data = tempfile::tempdir().unwrap();
    let files = sources(data.path());
    // A regular file where the cache folder should be.
    let blocker = data.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let (k, status) = Knowledge::load_cached(&files, &blocker).unwrap();
    assert!(
        matches!(status, CacheStatus::NotWritten { .. }),
        "{status:?}"
    );
    assert!(k.find("T1053.005").is_some());
}
