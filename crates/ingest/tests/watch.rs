#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Watched folders: dropped files, tailed JSON lines, rotation, truncation, restarts.
//!
//! Most tests drive the watcher poll by poll, so they are exact and fast; one runs it
//! on its own thread as a service does.

mod common;

use common::{read_input, sorted_fields};
use rampart_event::Event;
use rampart_ingest::watch::{WatchBatch, WatchOptions, WatchSink, Watcher, CHECKPOINT_PREFIX};
use rampart_ingest::{Diagnostic, Input, ReadOptions};
use rampart_testkit::{data_files, data_path};
use std::collections::HashMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A sink that plays the store: it commits each batch's events with its checkpoints,
/// and can stop the watcher after a number of batches.
#[derive(Default, Clone)]
struct Store {
    inner: Arc<Mutex<Committed>>,
}

#[derive(Default)]
struct Committed {
    events: Vec<Event>,
    batches: usize,
    checkpoints: HashMap<String, String>,
    diagnostics: Vec<String>,
    /// Stop (without committing) at this batch.
    stop_at: Option<usize>,
    /// Say `stopped` once this many batches are committed.
    quiet_stop: Option<usize>,
}

impl Committed {
    fn quietly_stopped(&self) -> bool {
        self.quiet_stop.is_some_and(|at| self.batches >= at)
    }
}

impl WatchSink for Store {
    fn batch(&mut self, batch: WatchBatch) -> ControlFlow<()> {
        let mut committed = self.inner.lock().unwrap();
        assert!(
            !committed.quietly_stopped(),
            "a batch after the sink stopped"
        );
        if committed.stop_at == Some(committed.batches) {
            return ControlFlow::Break(());
        }
        assert_eq!(batch.checkpoints.len(), 1);
        for event in &batch.events {
            assert_eq!(*event.meta.source, *batch.source);
        }
        committed.batches += 1;
        committed.events.extend(batch.events);
        committed.checkpoints.extend(batch.checkpoints);
        ControlFlow::Continue(())
    }

    fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.inner
            .lock()
            .unwrap()
            .diagnostics
            .push(diagnostic.to_string());
    }

    fn stopped(&self) -> bool {
        self.inner.lock().unwrap().quietly_stopped()
    }
}

impl Store {
    fn events(&self) -> Vec<Event> {
        self.inner.lock().unwrap().events.clone()
    }

    fn take_events(&self) -> Vec<Event> {
        std::mem::take(&mut self.inner.lock().unwrap().events)
    }

    fn diagnostics(&self) -> Vec<String> {
        self.inner.lock().unwrap().diagnostics.clone()
    }

    /// A watcher over `dir` that resumes from this store's checkpoints.
    fn watcher(&self, dir: &Path) -> Watcher {
        let checkpoints = self.inner.lock().unwrap().checkpoints.clone();
        Watcher::new(
            vec![dir.to_path_buf()],
            WatchOptions::default(),
            move |key| checkpoints.get(key).cloned(),
        )
    }
}

/// Polls until a poll delivers nothing new (at least three polls: a dropped file is
/// read once it has been seen unchanged).
fn settle(watcher: &mut Watcher, store: &mut Store) {
    let mut quiet = 0;
    for _ in 0..50 {
        let before = store.inner.lock().unwrap().batches;
        assert!(watcher.poll(store).is_continue());
        let after = store.inner.lock().unwrap().batches;
        quiet = if after == before { quiet + 1 } else { 0 };
        if quiet >= 2 {
            return;
        }
    }
    panic!("the watcher never settled");
}

/// An event as compared: its source, record id and fields.
type Identity = (String, Option<u64>, Vec<(String, String)>);

fn identity(event: &Event) -> Identity {
    (
        event.meta.source.to_string(),
        event.meta.record_id,
        sorted_fields(event),
    )
}

/// The events as a sorted list of identities: equal lists mean the same events, each
/// as many times.
fn multiset(events: &[Event]) -> Vec<Identity> {
    let mut identities: Vec<_> = events.iter().map(identity).collect();
    identities.sort();
    identities
}

/// What the ordinary reader makes of a file.
fn reference(path: &Path) -> Vec<Event> {
    let (events, diagnostics, _) = read_input(&Input::file(path).unwrap(), &ReadOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    events
}

/// The SigmaHQ regression samples (evtx_dump documents) as one JSON-lines export.
fn export_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for file in data_files("sigma/regression_data", "json") {
        let text = std::fs::read_to_string(&file).unwrap();
        for document in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
            match document.unwrap() {
                serde_json::Value::Array(items) => {
                    lines.extend(items.iter().map(|item| format!("{item}\n")))
                }
                document => lines.push(format!("{document}\n")),
            }
        }
    }
    assert!(lines.len() > 200, "{}", lines.len());
    lines
}

/// A corpus EVTX file of several chunks.
fn big_evtx() -> PathBuf {
    data_path("evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx")
}

fn small_evtx() -> Vec<PathBuf> {
    let files = data_files("evtx-attack-samples/Lateral Movement", "evtx");
    assert!(files.len() >= 3);
    files.into_iter().take(3).collect()
}

fn append(path: &Path, lines: &[String]) {
    append_bytes(path, lines.concat().as_bytes());
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(bytes).unwrap();
}

/// EVTX files and a JSON-lines export (plain, gzip, in a subfolder) dropped into a
/// watched folder are read once each, as the ordinary readers read them; files that
/// are not telemetry are left alone.
#[test]
fn dropped_files_are_read_once_as_a_hunt_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::default();
    let mut watcher = store.watcher(dir.path());
    settle(&mut watcher, &mut store);
    assert!(store.events().is_empty());

    let mut expected = Vec::new();
    for file in small_evtx() {
        let to = dir.path().join(file.file_name().unwrap());
        std::fs::copy(&file, &to).unwrap();
        expected.extend(reference(&to));
    }
    // An EVTX file by its signature, whatever its name.
    let unnamed = dir.path().join("forwarded.bin");
    std::fs::copy(&small_evtx()[0], &unnamed).unwrap();
    expected.extend(reference(&unnamed));
    std::fs::create_dir(dir.path().join("export")).unwrap();
    let lines = dir.path().join("export/events.jsonl");
    append(&lines, &export_lines());
    expected.extend(reference(&lines));
    let gz = dir.path().join("export/events.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(export_lines().concat().as_bytes())
        .unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    expected.extend(reference(&gz));
    std::fs::write(dir.path().join("README.txt"), "not telemetry, never read\n").unwrap();

    settle(&mut watcher, &mut store);
    assert!(store.diagnostics().is_empty(), "{:?}", store.diagnostics());
    assert_eq!(multiset(&store.events()), multiset(&expected));
    // Read once: more polls bring nothing.
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().len(), expected.len());
    assert_eq!(watcher.files(), 6);
}

/// An EVTX file copied in slowly is read only once it holds every chunk its header
/// counts, not when the copy stalls half-way.
#[test]
fn a_half_copied_evtx_file_waits_for_its_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copying.evtx");
    let bytes = std::fs::read(big_evtx()).unwrap();
    let half = 4096 + 3 * 65536;
    append_bytes(&path, &bytes[..half]);
    let mut store = Store::default();
    let mut watcher = store.watcher(dir.path());
    for _ in 0..5 {
        assert!(watcher.poll(&mut store).is_continue());
    }
    assert!(store.events().is_empty());
    append_bytes(&path, &bytes[half..]);
    settle(&mut watcher, &mut store);
    assert_eq!(multiset(&store.events()), multiset(&reference(&path)));
    assert!(store.diagnostics().is_empty(), "{:?}", store.diagnostics());
}

/// A growing JSON-lines file is tailed: complete lines only, a partial last line waits
/// for its newline, line numbers run on across reads.
#[test]
fn a_growing_file_is_tailed_and_a_partial_line_waits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let lines = export_lines();
    let mut store = Store::default();
    let mut watcher = store.watcher(dir.path());

    append(&path, &lines[..10]);
    let (head, tail) = lines[10].as_bytes().split_at(lines[10].len() / 2);
    append_bytes(&path, head);
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().len(), 10);

    append_bytes(&path, tail);
    append(&path, &lines[11..100]);
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().len(), 100);
    assert_eq!(multiset(&store.events()), multiset(&reference(&path)));
    assert!(store.diagnostics().is_empty(), "{:?}", store.diagnostics());

    // A line without a record id is known by its line number, as in a hunt.
    append(
        &path,
        &["{\"EventID\": 1, \"Image\": \"C:\\\\a.exe\"}\n".to_string()],
    );
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().last().unwrap().meta.record_id, Some(101));
}

/// Rotation: the file is renamed (in the folder, or out of it) and a new one created
/// at its path. The old file's last lines and the new file's are each read once.
#[test]
fn rotation_loses_no_tail_and_reads_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let away = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let lines = export_lines();
    let mut store = Store::default();
    let mut watcher = store.watcher(dir.path());

    append(&path, &lines[..50]);
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().len(), 50);

    // Renamed in the folder (logrotate's app.jsonl.1), written to after the rename,
    // and a new file at the path, all between two polls.
    append(&path, &lines[50..60]);
    std::fs::rename(&path, dir.path().join("app.jsonl.1")).unwrap();
    append(&dir.path().join("app.jsonl.1"), &lines[60..65]);
    append(&path, &lines[100..120]);
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().len(), 85);

    // Renamed out of the folder: its last lines are read through the open handle.
    append(&path, &lines[120..130]);
    std::fs::rename(&path, away.path().join("app.jsonl")).unwrap();
    append(&path, &lines[130..140]);
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().len(), 105);
    assert!(store.diagnostics().is_empty(), "{:?}", store.diagnostics());

    let mut expected: Vec<String> = lines[..65].to_vec();
    expected.extend_from_slice(&lines[100..140]);
    let mut got: Vec<String> = store
        .events()
        .iter()
        .map(|event| format!("{:?}", sorted_fields(event)))
        .collect();
    let all = away.path().join("all.json");
    std::fs::write(&all, expected.concat()).unwrap();
    let mut want: Vec<String> = reference(&all)
        .iter()
        .map(|event| format!("{:?}", sorted_fields(event)))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

/// A file truncated in place (copytruncate) is read again from its start, with a
/// diagnostic saying so.
#[test]
fn a_truncated_file_is_read_again_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let lines = export_lines();
    let mut store = Store::default();
    let mut watcher = store.watcher(dir.path());
    append(&path, &lines[..40]);
    settle(&mut watcher, &mut store);
    std::fs::write(&path, lines[40..45].concat()).unwrap();
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().len(), 45);
    let diagnostics = store.diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(diagnostics[0].contains("truncated"), "{diagnostics:?}");

    // Truncated and written past the old end before the next poll: the first bytes
    // changed, so it is read from its start, not from the middle of a line.
    let mut rewritten = lines[50..55].to_vec();
    rewritten.extend_from_slice(&lines[40..45]);
    std::fs::write(&path, rewritten.concat()).unwrap();
    settle(&mut watcher, &mut store);
    assert_eq!(store.events().len(), 55);
    let diagnostics = store.diagnostics();
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    assert!(diagnostics[1].contains("written again"), "{diagnostics:?}");
    let last: Vec<Event> = store.events()[45..].to_vec();
    assert_eq!(multiset(&last), multiset(&reference(&path)));
}

/// Exactly once across restarts: a watcher stopped after N committed batches (in the
/// middle of an EVTX file, of a gzip file, of a tailed file, or between files), then a
/// new watcher started from the committed checkpoints, together read every event of
/// every file once; a third finds everything done.
#[test]
fn a_restart_resumes_after_the_committed_batches_exactly_once() {
    let source = tempfile::tempdir().unwrap();
    std::fs::copy(big_evtx(), source.path().join("a.evtx")).unwrap();
    append(&source.path().join("b.jsonl"), &export_lines());
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(export_lines().concat().as_bytes())
        .unwrap();
    std::fs::write(source.path().join("c.jsonl.gz"), encoder.finish().unwrap()).unwrap();
    let names = ["a.evtx", "b.jsonl", "c.jsonl.gz"];
    let copy = || {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            std::fs::copy(source.path().join(name), dir.path().join(name)).unwrap();
        }
        dir
    };

    // One uninterrupted run, for the number of batches.
    let dir = copy();
    let mut store = Store::default();
    settle(&mut store.watcher(dir.path()), &mut store);
    let batches = store.inner.lock().unwrap().batches;
    assert!(batches > 20, "{batches}");

    let stops = [1, 2, 5, 9, 13, 17, batches - 3, batches - 1];
    for (run, stop_at) in stops.into_iter().enumerate() {
        let dir = copy();
        let expected: Vec<Event> = (names.iter())
            .flat_map(|name| reference(&dir.path().join(name)))
            .collect();
        let mut store = Store::default();
        // Half the runs stop by answering `Break`, half by saying `stopped`.
        if run % 2 == 0 {
            store.inner.lock().unwrap().stop_at = Some(stop_at);
        } else {
            store.inner.lock().unwrap().quiet_stop = Some(stop_at);
        }
        let mut watcher = store.watcher(dir.path());
        let stopped = (0..10).any(|_| watcher.poll(&mut store).is_break());
        assert!(stopped, "{stop_at}");
        drop(watcher);
        let first = store.events().len();

        assert_eq!(store.inner.lock().unwrap().batches, stop_at);
        (
            store.inner.lock().unwrap().stop_at,
            store.inner.lock().unwrap().quiet_stop,
        ) = (None, None);
        settle(&mut store.watcher(dir.path()), &mut store);
        assert_eq!(
            multiset(&store.events()),
            multiset(&expected),
            "stopped after {stop_at} batches ({first} events)"
        );
        assert!(store.diagnostics().is_empty(), "{:?}", store.diagnostics());

        settle(&mut store.watcher(dir.path()), &mut store);
        assert_eq!(store.events().len(), expected.len());
    }
}

/// A tailed file resumes at its committed offset after a restart, and lines written
/// while no watcher ran are read then.
#[test]
fn a_tailed_file_resumes_at_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let lines = export_lines();
    append(&path, &lines[..150]);
    let mut store = Store::default();
    store.inner.lock().unwrap().stop_at = Some(1);
    let mut watcher = store.watcher(dir.path());
    assert!(watcher.poll(&mut store).is_break());
    assert_eq!(store.events().len(), 64);
    drop(watcher);
    append(&path, &lines[150..200]);
    store.inner.lock().unwrap().stop_at = None;
    let mut watcher = store.watcher(dir.path());
    settle(&mut watcher, &mut store);
    assert_eq!(multiset(&store.events()), multiset(&reference(&path)));
}

/// A file written again in place (or a new file on a reused inode) does not match
/// the fingerprint in its checkpoint: it is read as the new file it is.
#[test]
fn a_checkpoint_does_not_hide_another_file_on_the_same_inode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let lines = export_lines();
    append(&path, &lines[..30]);
    let mut store = Store::default();
    let mut watcher = store.watcher(dir.path());
    settle(&mut watcher, &mut store);
    drop(watcher);
    assert_eq!(store.take_events().len(), 30);
    // Same inode, other content, longer than the first read.
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all(lines[100..140].concat().as_bytes()).unwrap();
    drop(file);
    let mut watcher = store.watcher(dir.path());
    settle(&mut watcher, &mut store);
    assert_eq!(multiset(&store.events()), multiset(&reference(&path)));
}

/// Hostile folders: a damaged EVTX file is a diagnostic naming it (after a grace
/// period, as it looks incomplete) and the other files are read; a FIFO named like telemetry is never opened (which would wait for a
/// writer for ever).
#[test]
fn a_bad_file_is_a_diagnostic_and_the_watcher_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut broken = b"ElfFile\0".to_vec();
    broken.resize(108, 0xff);
    std::fs::write(dir.path().join("broken.evtx"), broken).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe.jsonl"))
        .status()
        .unwrap();
    assert!(status.success());
    let good = dir.path().join("z.evtx");
    std::fs::copy(&small_evtx()[1], &good).unwrap();
    // A link named like telemetry: said once, not followed.
    std::os::unix::fs::symlink(&good, dir.path().join("link.evtx")).unwrap();
    // A text log named like JSON lines: said once, not one diagnostic per line.
    let text = dir.path().join("syslog.log");
    append_bytes(
        &text,
        b"Dec  7 18:00:00 host sshd[1]: Accepted password for root\n",
    );

    let mut store = Store::default();
    let mut watcher = store.watcher(dir.path());
    settle(&mut watcher, &mut store);
    assert_eq!(multiset(&store.events()), multiset(&reference(&good)));
    // Shorter than its header says, the damaged file waits for its chunks a while.
    // The link is said once; the text log is said to be neither EVTX nor JSON, once,
    // however it grows.
    let diagnostics = store.diagnostics();
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    assert!(
        diagnostics[0].ends_with("/link.evtx: symbolic link not followed"),
        "{diagnostics:?}"
    );
    assert!(
        diagnostics[1].contains("syslog.log: neither EVTX nor JSON"),
        "{diagnostics:?}"
    );
    for _ in 0..20 {
        append_bytes(&text, b"Dec  7 18:00:01 host sshd[1]: session opened\n");
        assert!(watcher.poll(&mut store).is_continue());
    }
    let diagnostics = store.diagnostics();
    assert_eq!(diagnostics.len(), 3, "{diagnostics:?}");
    assert!(diagnostics[2].contains("broken.evtx"), "{diagnostics:?}");
    // Not retried while it stays as it is.
    settle(&mut watcher, &mut store);
    assert_eq!(store.diagnostics().len(), 3);
}

/// As a service runs it: the watcher on its own thread picks up files dropped and
/// lines appended while it runs, and stops when asked.
#[test]
fn a_running_watcher_picks_up_files_and_stops_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::default();
    let stop = Arc::new(AtomicBool::new(false));
    let options = WatchOptions {
        poll_interval: Duration::from_millis(20),
        ..WatchOptions::default()
    };
    let mut watcher = Watcher::new(vec![dir.path().to_path_buf()], options, |_| None);
    let thread = {
        let (mut store, stop) = (store.clone(), Arc::clone(&stop));
        std::thread::spawn(move || watcher.run_until(&stop, &mut store))
    };
    let evtx = dir.path().join("dropped.evtx");
    std::fs::copy(&small_evtx()[2], &evtx).unwrap();
    let path = dir.path().join("app.jsonl");
    let lines = export_lines();
    append(&path, &lines[..20]);
    std::thread::sleep(Duration::from_millis(50));
    append(&path, &lines[20..30]);
    let mut expected = reference(&evtx);
    expected.extend(reference(&path));

    let started = Instant::now();
    while store.events().len() < expected.len() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();
    assert_eq!(multiset(&store.events()), multiset(&expected));
    let keys = store.inner.lock().unwrap().checkpoints.clone();
    assert_eq!(keys.len(), 2);
    assert!(keys.keys().all(|key| key.starts_with(CHECKPOINT_PREFIX)));
}

/// An over-long line in a tailed file is read through without being held, reported
/// with its line number, and the lines after it are read.
#[test]
fn an_over_long_tailed_line_is_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let lines = export_lines();
    let short: Vec<String> = lines
        .iter()
        .filter(|line| line.len() < 1024)
        .cloned()
        .collect();
    let store = Store::default();
    let mut options = WatchOptions::default();
    options.read.max_line_bytes = 1024;
    let mut watcher = Watcher::new(vec![dir.path().to_path_buf()], options, |_| None);
    let long = format!("{{\"pad\": \"{}\"}}\n", "x".repeat(5000));
    append(&path, &short[..2]);
    // Half the long line first: it is not held while its end is not written.
    append_bytes(&path, &long.as_bytes()[..2500]);
    let mut sink = store.clone();
    settle(&mut watcher, &mut sink);
    assert_eq!(store.events().len(), 2);
    append_bytes(&path, &long.as_bytes()[2500..]);
    append(&path, &short[2..4]);
    settle(&mut watcher, &mut sink);
    assert_eq!(store.events().len(), 4);
    let diagnostics = store.diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(
        diagnostics[0].ends_with(":3: line skipped: longer than 1024 bytes"),
        "{diagnostics:?}"
    );
}

/// Counts batches, and says `stopped` after the first.
#[derive(Default)]
struct StopAfterOne(Mutex<usize>);

impl rampart_ingest::Sink for StopAfterOne {
    fn events(&self, _: rampart_ingest::EventBatch) {
        *self.0.lock().unwrap() += 1;
    }
    fn diagnostic(&self, _: Diagnostic) {}
    fn stopped(&self) -> bool {
        *self.0.lock().unwrap() >= 1
    }
}

/// The readers look at `Sink::stopped` between chunks and blocks, so a stopping
/// watcher does not wait for a big file's end.
#[test]
fn readers_end_early_when_the_sink_stops() {
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("export.jsonl");
    append(&lines, &export_lines());
    let pretty = dir.path().join("export.json");
    std::fs::write(&pretty, format!("[{}]", export_lines().join(","))).unwrap();
    let options = ReadOptions {
        parallel: false,
        ..ReadOptions::default()
    };
    for path in [big_evtx(), lines, pretty] {
        let all = rampart_ingest::Collector::new();
        let input = Input::file(&path).unwrap();
        input.read(&options, &all).unwrap();
        let (events, _) = all.into_parts();
        let sink = StopAfterOne::default();
        let stats = input.read(&options, &sink).unwrap();
        assert_eq!(*sink.0.lock().unwrap(), 1, "{}", path.display());
        assert!(stats.events < events.len() as u64 / 2, "{}", path.display());
    }
}

/// A tailed file of bad lines does not flood: its problems are shown up to the cap
/// over the file's life, then counted, a line per batch; good lines are still read.
#[test]
fn a_tailed_file_of_bad_lines_shows_its_problems_up_to_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.jsonl");
    let lines = export_lines();
    let store = Store::default();
    let mut options = WatchOptions::default();
    options.read.max_diagnostics = 5;
    let mut watcher = Watcher::new(vec![dir.path().to_path_buf()], options, |_| None);
    let mut sink = store.clone();
    append(&path, &lines[..1]);
    append(&path, &vec!["{\"cut\": \n".to_string(); 100]);
    append(&path, &lines[1..2]);
    settle(&mut watcher, &mut sink);
    append(&path, &vec!["{\"cut\": \n".to_string(); 29]);
    append(&path, &lines[2..3]);
    settle(&mut watcher, &mut sink);
    assert_eq!(store.events().len(), 3);
    let diagnostics = store.diagnostics();
    let shown = diagnostics
        .iter()
        .filter(|line| line.contains("line skipped: malformed JSON"))
        .count();
    let hidden: u64 = diagnostics
        .iter()
        .filter_map(|line| {
            line.split(": ")
                .nth(1)?
                .strip_suffix(" more problems in this input not shown")
        })
        .map(|count| count.parse::<u64>().unwrap())
        .sum();
    assert_eq!((shown, hidden), (5, 124), "{diagnostics:?}");
    assert!(diagnostics.len() <= 5 + 3, "{diagnostics:?}");
}

/// With more tailed files than open handles allowed, idle files are closed and
/// opened again by path when they grow (here two of three, at every poll); nothing
/// is lost or read twice.
#[test]
fn tailed_files_beyond_the_handle_cap_are_reopened_when_they_grow() {
    let dir = tempfile::tempdir().unwrap();
    let lines = export_lines();
    let store = Store::default();
    let options = WatchOptions {
        max_open_files: 1,
        ..WatchOptions::default()
    };
    let mut watcher = Watcher::new(vec![dir.path().to_path_buf()], options, |_| None);
    let mut sink = store.clone();
    let paths: Vec<PathBuf> = (0..3)
        .map(|n| dir.path().join(format!("app{n}.jsonl")))
        .collect();
    for round in 0..4 {
        for (n, path) in paths.iter().enumerate() {
            let at = 10 * (3 * round + n);
            append(path, &lines[at..at + 10]);
        }
        settle(&mut watcher, &mut sink);
    }
    let mut expected = Vec::new();
    for path in &paths {
        expected.extend(reference(path));
    }
    assert_eq!(multiset(&store.events()), multiset(&expected));
    assert!(store.diagnostics().is_empty(), "{:?}", store.diagnostics());
}
