#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `import` of hostile folders: gzip bombs, links out of the imported tree, files that
//! are not regular. What is refused is reported, the rest is imported, and nothing of
//! the refused files reaches the data directory.

use flate2::write::GzEncoder;
use rampart_refdata::{discover, import, ImportOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Every file under `dir` (hidden ones included), links not followed.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A gzip file whose head is that of an Enterprise bundle and which then expands to
/// `expanded` bytes of spaces: a few KiB on disk.
fn write_bomb(path: &Path, expanded: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz = GzEncoder::new(file, flate2::Compression::fast());
    gz.write_all(
        br#"{"type": "bundle", "id": "bundle--1", "objects": [{"type": "x-mitre-collection", "name": "Enterprise ATT&CK", "x_mitre_version": "18.1"}"#,
    )
    .unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..expanded / spaces.len() {
        gz.write_all(&spaces).unwrap();
    }
    gz.write_all(b"]}").unwrap();
    gz.finish().unwrap();
}

#[test]
fn a_gzip_bomb_is_refused_as_it_expands_and_leaves_nothing_behind() {
    let source = tempfile::tempdir().unwrap();
    let bomb = source.path().join("enterprise-attack-18.1.json.gz");
    write_bomb(&bomb, 64 << 20);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let data = tempfile::tempdir().unwrap();
    let options = ImportOptions {
        max_expanded: 4 << 20,
    };
    // As a folder and as a single file.
    for path in [source.path(), bomb.as_path()] {
        let report = import(data.path(), path, &options).unwrap();
        assert!(report.installed.is_empty(), "{:?}", report.installed);
        assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
        let message = report.failed[0].error.to_string();
        assert!(
            message.contains("enterprise-attack-18.1.json.gz")
                && message.contains("more than 4194304 bytes")
                && message.contains("not installed"),
            "{message}"
        );
        assert!(
            files_under(data.path()).is_empty(),
            "{:?}",
            files_under(data.path())
        );
    }
    // Within a large enough limit the same file is read to its end (and is then
    // refused for what it is: a bundle without techniques).
    let report = import(
        data.path(),
        &bomb,
        &ImportOptions {
            max_expanded: 128 << 20,
        },
    )
    .unwrap();
    let message = report.failed[0].error.to_string();
    assert!(message.contains("no attack-pattern"), "{message}");
}

#[test]
fn the_limit_spans_the_whole_import() {
    let source = tempfile::tempdir().unwrap();
    for file in ["goals.json", "activities.json", "attack_mapping.json"] {
        std::fs::copy(
            rampart_testkit::data_path(&format!("mitre-engage/Data/json/{file}")),
            source.path().join(file),
        )
        .unwrap();
    }
    let sizes: Vec<u64> = ["goals.json", "activities.json", "attack_mapping.json"]
        .iter()
        .map(|f| std::fs::metadata(source.path().join(f)).unwrap().len())
        .collect();
    let largest = *sizes.iter().max().unwrap();
    assert!(sizes.iter().sum::<u64>() > largest + 1);
    // Each file fits alone, not all of them together.
    let data = tempfile::tempdir().unwrap();
    let report = import(
        data.path(),
        source.path(),
        &ImportOptions {
            max_expanded: largest + 1,
        },
    )
    .unwrap();
    assert!(!report.failed.is_empty(), "{:?}", report.installed);
    assert!(
        report
            .failed
            .iter()
            .any(|f| f.error.to_string().contains("size limit for one command")),
        "{:?}",
        report.failed
    );
}

#[test]
fn links_out_of_the_imported_tree_and_special_files_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    std::fs::write(&secret, "root:SECRET-HASH:19000:0:99999:7:::\n").unwrap();

    let source = tempfile::tempdir().unwrap();
    let rules = source.path().join("sigma/rules/windows");
    std::fs::create_dir_all(&rules).unwrap();
    let rule = rampart_testkit::data_files("sigma/rules/windows", "yml")
        .into_iter()
        .next()
        .unwrap();
    std::fs::copy(&rule, rules.join("real.yml")).unwrap();
    let link = |target: &Path, name: &str| std::os::unix::fs::symlink(target, rules.join(name));
    link(&secret, "shadow.yml").unwrap();
    link(&rules.join("real.yml"), "alias.yml").unwrap();
    link(source.path(), "loop").unwrap();
    link(&outside.path().join("missing"), "dangling.yml").unwrap();
    let fifo = rules.join("pipe.yml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // A real bundle, but outside the tree: refused all the same.
    std::os::unix::fs::symlink(
        rampart_testkit::data_path("mitre-attack/ics-attack-18.1.json"),
        source.path().join("ics-attack-18.1.json"),
    )
    .unwrap();
    let engage = source.path().join("engage");
    std::os::unix::fs::symlink(
        rampart_testkit::data_path("mitre-engage/Data/json"),
        &engage,
    )
    .unwrap();

    let data = tempfile::tempdir().unwrap();
    let report = import(data.path(), source.path(), &ImportOptions::default()).unwrap();
    let failures: Vec<String> = report.failed.iter().map(|f| f.error.to_string()).collect();
    let failure_for = |name: &str| {
        failures
            .iter()
            .find(|f| f.contains(name))
            .unwrap_or_else(|| panic!("no failure for {name}: {failures:#?}"))
    };
    assert!(failure_for("shadow.yml").contains("leading out of the imported folder"));
    assert!(failure_for("ics-attack-18.1.json").contains("leading out of the imported folder"));
    assert!(failure_for("attack_mapping.json").contains("leading out of the imported folder"));
    assert!(failure_for("loop").contains("to a folder is not followed"));
    assert!(failure_for("dangling.yml").contains("leads nowhere"));
    assert!(failure_for("pipe.yml").contains("not a regular file"));

    // The rule folder itself is imported, with the link that stays inside.
    assert_eq!(report.installed.len(), 1, "{failures:#?}");
    let copied = data.path().join("sigma/rules/windows");
    let mut names: Vec<String> = std::fs::read_dir(&copied)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["alias.yml", "real.yml"]);
    for file in files_under(data.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("SECRET-HASH"),
            "{} holds the secret",
            file.display()
        );
    }
    let found = discover(data.path()).unwrap();
    assert!(found.ics.is_none() && found.engage_dir.is_none());
}

#[test]
fn a_folder_linked_into_itself_is_walked_once() {
    let source = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        rampart_testkit::data_path("mitre-attack/ics-attack-18.1.json"),
        source.path().join("ics-attack-18.1.json"),
    )
    .unwrap();
    // Eight links to the folder itself: walking them all to the depth limit would take
    // 8^12 steps.
    for n in 0..8 {
        std::os::unix::fs::symlink(source.path(), source.path().join(format!("again{n}"))).unwrap();
    }
    let started = std::time::Instant::now();
    let found = discover(source.path()).unwrap();
    assert!(found.ics.is_some());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_changelog_beside_the_ontology_is_copied_only_when_it_is_a_regular_file() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("shadow");
    std::fs::write(&secret, "root:SECRET-HASH:19000:0:99999:7:::\n").unwrap();
    let source = tempfile::tempdir().unwrap();
    std::fs::copy(
        rampart_testkit::data_path("mitre-d3fend/d3fend-protege.ttl"),
        source.path().join("d3fend-protege.ttl"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret, source.path().join("CHANGELOG.md")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let report = import(data.path(), source.path(), &ImportOptions::default()).unwrap();
    assert_eq!(report.installed.len(), 1, "{:?}", report.failed);
    assert!(!data.path().join("mitre-d3fend/CHANGELOG.md").exists());
}
