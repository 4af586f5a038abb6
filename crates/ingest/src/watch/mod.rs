//! Watched folders: files dropped into a folder, and JSON-lines files that grow.
//!
//! A [`Watcher`] polls its folders (recursively) rather than asking the kernel for
//! change notices: polling works the same on every filesystem (network mounts and
//! container volumes deliver no inotify events for writes made elsewhere), costs one
//! directory walk per interval, and needs no queue that could overflow and lose a
//! notice. Each file is known by its device and inode, so a rename (log rotation)
//! keeps its reading position and a new file created at the old path is a new file.
//!
//! A file is read in one of two ways, chosen once when it is first seen:
//! - JSON lines are *tailed*: only complete lines (up to `\n`) are read, a partial last
//!   line waits, and the file is read again as it grows. A file that shrinks below the
//!   position read was truncated and is read again from its start. A tailed file that
//!   leaves the folders (rotated away, deleted) is read to its end through the handle
//!   still open on it, so its last lines are not lost.
//! - EVTX, gzip, JSON arrays and pretty-printed documents are read *whole* once their
//!   size has not changed for one poll and, for EVTX, the file holds every chunk its
//!   header counts (or has not changed for 20 polls: a damaged file is still read).
//!
//! Exactly once: each [`WatchBatch`] carries the checkpoints that become true once it
//! is committed. The caller stores them in the same transaction as what it made of
//! the batch's events, and hands them back through `resume` when a new watcher
//! starts; the watcher then skips what was committed and nothing more. A checkpoint is
//! an opaque string to the caller (JSON: path, mode, offset, lines, records, done and a
//! fingerprint of the file's first bytes, so a reused inode is not mistaken for the
//! file it once was).
//!
//! Bounded: one batch (at most 64 lines, or one EVTX chunk) is read ahead of the
//! caller, whose callback may block; at most [`WatchOptions::max_open_files`] tailed
//! files keep a handle open (the ones idle longest are closed, and opened again by
//! path when they grow; one that leaves the folders while closed cannot be read to
//! its end); a file that cannot be read is a diagnostic, and the watcher goes on.

mod checkpoint;
mod read;

use crate::{Diagnostic, Place, ReadOptions};
use checkpoint::{Checkpoint, FileId, Head, Mode};
use rampart_event::Event;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Polls an EVTX file shorter than its header says must stay unchanged before it is
/// read anyway: a copy that stalls for a moment is not read half, and a truncated
/// file is still read (its damage reported).
const INCOMPLETE_GRACE_POLLS: u32 = 20;

/// Every checkpoint key the watcher makes starts with this.
pub const CHECKPOINT_PREFIX: &str = "watch:";

/// How a [`Watcher`] works.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Time between two looks at the folders.
    pub poll_interval: Duration,
    /// How files are decoded (`parallel` is ignored: a watched file is read in order,
    /// on the watcher's thread, so that checkpoints follow the events).
    pub read: ReadOptions,
    /// At most this many tailed files keep a handle open between polls; the ones idle
    /// longest are closed first (and opened again by path when they grow).
    pub max_open_files: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            poll_interval: Duration::from_millis(250),
            read: ReadOptions::default(),
            max_open_files: 64,
        }
    }
}

/// Events read from one watched file, with the checkpoints their commit makes true.
#[derive(Debug)]
pub struct WatchBatch {
    /// The file, as found in the watched folder.
    pub source: Arc<str>,
    /// The events, in file order.
    pub events: Vec<Event>,
    /// `(key, value)` pairs to store with what was made of `events`, in the same
    /// transaction; keys start with [`CHECKPOINT_PREFIX`].
    pub checkpoints: Vec<(String, String)>,
}

/// Where a [`Watcher`] delivers what it reads, on the watcher's thread.
pub trait WatchSink: Send {
    /// Takes one batch. Blocking here slows the watcher down (nothing is read ahead);
    /// `Break` stops it, and the batch counts as not committed unless the caller
    /// committed it.
    fn batch(&mut self, batch: WatchBatch) -> ControlFlow<()>;
    /// Takes one problem: a file that cannot be read, a bad line or record.
    fn diagnostic(&mut self, diagnostic: Diagnostic);
    /// Whether to stop now: looked at between batches, and between the chunks or
    /// blocks of a file read whole, so that a stop does not wait for a big file's
    /// end. Never, by default.
    fn stopped(&self) -> bool {
        false
    }
}

/// Gives a checkpoint key's stored value.
type Resume = Box<dyn Fn(&str) -> Option<String> + Send>;

/// Polls folders for telemetry files and reads them into a [`WatchSink`].
pub struct Watcher {
    dirs: Vec<PathBuf>,
    options: WatchOptions,
    resume: Resume,
    files: HashMap<FileId, Tracked>,
    /// Files that are not telemetry (by name and first bytes), not looked at again.
    ignored: HashSet<FileId>,
    /// Folder problems already reported, so a poll every 250 ms does not repeat them.
    reported: HashSet<(PathBuf, String)>,
    poll: u64,
}

/// What the watcher knows of one file.
struct Tracked {
    key: String,
    path: PathBuf,
    name: Arc<str>,
    state: State,
    /// Size and modification time at the previous poll.
    seen: Option<(u64, Option<SystemTime>)>,
    /// Polls in a row that found the file unchanged.
    unchanged: u32,
    /// Problems of the file shown so far (see [`WatchOptions::read`]'s cap).
    shown: u64,
    /// A tailed file's open handle.
    handle: Option<File>,
    /// The poll at which the file last gave lines.
    last_read: u64,
}

enum State {
    /// Not yet classified: empty, or its first line not yet complete.
    New,
    /// Tailed JSON lines.
    Lines(Progress),
    /// Read whole once stable; `records` were already delivered and are skipped.
    File(Progress),
    /// Read to its end, nothing more to do.
    Done(Progress),
    /// Could not be read as it was; tried again when it changes.
    Failed((u64, Option<SystemTime>)),
}

/// How far a file was read.
#[derive(Debug, Clone)]
struct Progress {
    offset: u64,
    lines: u64,
    records: u64,
    head: Head,
}

impl Progress {
    fn fresh(head: Head) -> Self {
        Progress {
            offset: 0,
            lines: 0,
            records: 0,
            head,
        }
    }

    fn checkpoint(&self, path: &Path, mode: Mode, done: bool) -> String {
        Checkpoint {
            path: path.to_string_lossy().into_owned(),
            mode,
            offset: self.offset,
            lines: self.lines,
            records: self.records,
            done,
            head_len: self.head.len,
            head_hash: self.head.hash.clone(),
        }
        .to_json()
    }
}

/// One regular file found in the folders.
struct Seen {
    id: FileId,
    path: PathBuf,
    size: u64,
    modified: Option<SystemTime>,
}

impl Watcher {
    /// A watcher over `dirs` (each walked recursively). `resume` gives the stored value
    /// of a checkpoint key (`None` when there is none): what a previous watcher's
    /// batches made true once committed.
    pub fn new(
        dirs: Vec<PathBuf>,
        options: WatchOptions,
        resume: impl Fn(&str) -> Option<String> + Send + 'static,
    ) -> Self {
        let mut options = options;
        options.read.parallel = false;
        Watcher {
            dirs,
            options,
            resume: Box::new(resume),
            files: HashMap::new(),
            ignored: HashSet::new(),
            reported: HashSet::new(),
            poll: 0,
        }
    }

    /// Polls until `stop` is set (checked between polls and before each batch is
    /// delivered) or the sink says `Break`.
    pub fn run_until(&mut self, stop: &AtomicBool, sink: &mut dyn WatchSink) {
        let mut stopping = Stopping { inner: sink, stop };
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            if self.poll(&mut stopping).is_break() {
                return;
            }
            // Sleep in short steps, so a stop is seen quickly.
            while !stop.load(Ordering::Relaxed) {
                let left = self.options.poll_interval.saturating_sub(started.elapsed());
                if left.is_zero() {
                    break;
                }
                std::thread::sleep(left.min(Duration::from_millis(25)));
            }
        }
    }

    /// Looks at the folders once and reads whatever is ready; `Break` when the sink
    /// said so.
    pub fn poll(&mut self, sink: &mut dyn WatchSink) -> ControlFlow<()> {
        self.poll += 1;
        let (seen, complete) = self.scan(sink);
        let present: HashSet<FileId> = seen.iter().map(|file| file.id).collect();
        // Files that left the folders first: a rotated file's last lines come before
        // those of the new file at its path. A walk that could not see everything
        // says nothing of what it did not see.
        let mut gone: Vec<FileId> = (self.files.keys())
            .filter(|id| complete && !present.contains(id))
            .copied()
            .collect();
        gone.sort();
        for id in gone {
            if let Some(mut file) = self.files.remove(&id) {
                if let State::Lines(progress) = &mut file.state {
                    if let Some(handle) = file.handle.take() {
                        let mut progress = progress.clone();
                        let tail = read::Tail {
                            handle: &handle,
                            name: &file.name,
                            path: &file.path,
                            key: &file.key,
                            options: &self.options.read,
                            last: true,
                        };
                        tail.read(&mut progress, &mut file.shown, sink)?;
                    } else if let Some((size, _)) =
                        file.seen.filter(|(size, _)| *size > progress.offset)
                    {
                        // Its handle was closed to stay under the cap of open files.
                        let message = format!(
                            "left the watched folders with {} bytes unread",
                            size - progress.offset
                        );
                        sink.diagnostic(file_diagnostic(&file.path, message));
                    }
                }
            }
        }
        if complete {
            self.ignored.retain(|id| present.contains(id));
        }
        for file in seen {
            self.step(file, sink)?;
        }
        self.close_idle_handles();
        ControlFlow::Continue(())
    }

    /// The number of files being followed (tailed, waiting or done).
    pub fn files(&self) -> usize {
        self.files.len()
    }

    /// Every regular file under the folders, in path order, and whether the walk saw
    /// everything (no folder or file it could not look at).
    fn scan(&mut self, sink: &mut dyn WatchSink) -> (Vec<Seen>, bool) {
        let mut seen = Vec::new();
        let (mut problems, mut notes) = (HashSet::new(), HashSet::new());
        for dir in &self.dirs {
            for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) => {
                        let path = error.path().unwrap_or(dir).to_path_buf();
                        let message = match error.io_error() {
                            Some(io) => format!("cannot be watched: {io}"),
                            None => "cannot be watched".to_string(),
                        };
                        problems.insert((path, message));
                        continue;
                    }
                };
                // Links are not followed, FIFOs and devices never opened (as in a hunt).
                if entry.file_type().is_symlink() && telemetry_name(entry.path()) {
                    let message = format!("{}: symbolic link not followed", entry.path().display());
                    notes.insert((entry.path().to_path_buf(), message));
                }
                if !entry.file_type().is_file() {
                    continue;
                }
                match entry.metadata() {
                    Ok(metadata) => seen.push(Seen {
                        id: FileId::of(entry.path(), &metadata),
                        path: entry.path().to_path_buf(),
                        size: metadata.len(),
                        modified: metadata.modified().ok(),
                    }),
                    Err(error) => {
                        let path = entry.path().to_path_buf();
                        let message = format!("cannot be watched: {error}");
                        problems.insert((path, message));
                    }
                }
            }
        }
        let complete = problems.is_empty();
        let mut messages = HashSet::new();
        let mut said: Vec<(PathBuf, String)> = problems.into_iter().chain(notes).collect();
        said.sort();
        for said in said {
            if !self.reported.contains(&said) {
                sink.diagnostic(file_diagnostic(&said.0, said.1.clone()));
            }
            messages.insert(said);
        }
        // A problem that went away is reported again if it comes back.
        self.reported = messages;
        (seen, complete)
    }

    /// Reads what is ready of one file.
    fn step(&mut self, seen: Seen, sink: &mut dyn WatchSink) -> ControlFlow<()> {
        if sink.stopped() {
            return ControlFlow::Break(());
        }
        if self.ignored.contains(&seen.id) {
            return ControlFlow::Continue(());
        }
        if !self.files.contains_key(&seen.id) {
            match self.track(&seen, sink) {
                Some(file) => {
                    self.files.insert(seen.id, file);
                }
                None => return ControlFlow::Continue(()),
            }
        }
        let Some(file) = self.files.get_mut(&seen.id) else {
            return ControlFlow::Continue(());
        };
        if file.path != seen.path {
            file.path.clone_from(&seen.path);
            file.name = Arc::from(seen.path.to_string_lossy().as_ref());
        }
        let now = (seen.size, seen.modified);
        let stable = file.seen == Some(now);
        file.seen = Some(now);
        file.unchanged = if stable { file.unchanged + 1 } else { 0 };
        // A file read whole is ready once unchanged for a poll, and, if it is an EVTX
        // file, holding every chunk its header counts (or unchanged for long).
        let ready = stable
            && matches!(file.state, State::File(_))
            && (file.unchanged >= INCOMPLETE_GRACE_POLLS || evtx_complete(&file.path, seen.size));
        let options = &self.options.read;
        match &mut file.state {
            State::New => {
                if let Some(state) = classify(&seen, stable, sink) {
                    file.state = state;
                    // A file read whole waits one more poll to be stable.
                    if matches!(file.state, State::Lines(_)) {
                        return tail(file, seen.size, options, self.poll, sink);
                    }
                }
            }
            State::Lines(_) => return tail(file, seen.size, options, self.poll, sink),
            State::File(progress) if ready => {
                let whole = read::Whole {
                    path: &file.path,
                    name: &file.name,
                    key: &file.key,
                    options,
                };
                match whole.read(progress, sink) {
                    Ok(ControlFlow::Continue(())) => file.state = State::Done(progress.clone()),
                    // Stopped part way: what was delivered stays delivered.
                    Ok(ControlFlow::Break(())) => return ControlFlow::Break(()),
                    Err(error) => {
                        sink.diagnostic(file_diagnostic(
                            &file.path,
                            rampart_event::error_chain(&error),
                        ));
                        file.state = State::Failed(now);
                    }
                }
            }
            State::File(_) => {}
            State::Done(progress) => {
                // A finished file that changes is either appended to (ignored: it was
                // read whole) or another file on a reused inode (read as new).
                if !stable && !progress.head.matches(&seen.path) {
                    file.state = State::New;
                }
            }
            State::Failed(when) => {
                if *when != now {
                    file.state = State::New;
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Starts following a file found for the first time, from its checkpoint when
    /// there is one that still fits it; `None` when it is not telemetry.
    fn track(&mut self, seen: &Seen, sink: &mut dyn WatchSink) -> Option<Tracked> {
        let key = seen.id.key();
        let name: Arc<str> = Arc::from(seen.path.to_string_lossy().as_ref());
        let mut state = State::New;
        if let Some(value) = (self.resume)(&key) {
            match serde_json::from_str::<Checkpoint>(&value) {
                Ok(checkpoint) => state = resumed(checkpoint, &seen.path),
                Err(error) => sink.diagnostic(file_diagnostic(
                    &seen.path,
                    format!("checkpoint {key} unreadable, file read from its start: {error}"),
                )),
            }
        }
        if matches!(state, State::New) && !is_telemetry(seen, &mut self.ignored) {
            return None;
        }
        Some(Tracked {
            key,
            path: seen.path.clone(),
            name,
            state,
            seen: None,
            unchanged: 0,
            shown: 0,
            handle: None,
            last_read: self.poll,
        })
    }

    /// Keeps at most `max_open_files` handles, closing those idle longest.
    fn close_idle_handles(&mut self) {
        let mut open: Vec<(u64, FileId)> = (self.files.iter())
            .filter(|(_, file)| file.handle.is_some())
            .map(|(id, file)| (file.last_read, *id))
            .collect();
        if open.len() <= self.options.max_open_files {
            return;
        }
        open.sort();
        let excess = open.len() - self.options.max_open_files;
        for (_, id) in open.into_iter().take(excess) {
            if let Some(file) = self.files.get_mut(&id) {
                file.handle = None;
            }
        }
    }
}

/// A sink that stops delivering once `stop` is set: a batch not delivered is not
/// committed, and is read again by the next watcher.
struct Stopping<'a> {
    inner: &'a mut dyn WatchSink,
    stop: &'a AtomicBool,
}

impl WatchSink for Stopping<'_> {
    fn batch(&mut self, batch: WatchBatch) -> ControlFlow<()> {
        if self.stop.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        self.inner.batch(batch)
    }

    fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.inner.diagnostic(diagnostic);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.inner.stopped()
    }
}

/// Reads a tailed file's new complete lines.
fn tail(
    file: &mut Tracked,
    size: u64,
    options: &ReadOptions,
    poll: u64,
    sink: &mut dyn WatchSink,
) -> ControlFlow<()> {
    let State::Lines(progress) = &mut file.state else {
        return ControlFlow::Continue(());
    };
    // Truncated in place (copytruncate), or truncated and written past where it had
    // been read before this poll: its first bytes tell.
    let rewritten =
        size > progress.offset && progress.offset > 0 && !progress.head.matches(&file.path);
    if size < progress.offset || rewritten {
        let what = if rewritten {
            "written again from its start"
        } else {
            "truncated"
        };
        sink.diagnostic(file_diagnostic(
            &file.path,
            format!(
                "{what} ({size} bytes, had been read to {}): read again from its start",
                progress.offset
            ),
        ));
        file.handle = None;
        match Head::read(&file.path, size) {
            Ok(head) => {
                let records = progress.records;
                *progress = Progress::fresh(head);
                progress.records = records;
            }
            Err(_) => return ControlFlow::Continue(()),
        }
    }
    if size == progress.offset {
        return ControlFlow::Continue(());
    }
    if progress.head.len == 0 {
        // Emptied, then written again: fingerprint what it holds now.
        match Head::read(&file.path, size) {
            Ok(head) => progress.head = head,
            Err(_) => return ControlFlow::Continue(()),
        }
    }
    if file.handle.is_none() {
        match open_same(&file.path, &file.key) {
            Ok(handle) => file.handle = Some(handle),
            Err(message) => {
                sink.diagnostic(file_diagnostic(&file.path, message));
                return ControlFlow::Continue(());
            }
        }
    }
    let Some(handle) = &file.handle else {
        return ControlFlow::Continue(());
    };
    let before = progress.offset;
    let tail = read::Tail {
        handle,
        name: &file.name,
        path: &file.path,
        key: &file.key,
        options,
        last: false,
    };
    let flow = tail.read(progress, &mut file.shown, sink);
    if progress.offset != before {
        file.last_read = poll;
    }
    flow
}

/// Opens `path` if it is still the file of checkpoint key `key`.
fn open_same(path: &Path, key: &str) -> Result<File, String> {
    let handle =
        File::open(path).map_err(|error| format!("cannot open {}: {error}", path.display()))?;
    let same = handle
        .metadata()
        .is_ok_and(|metadata| FileId::of(path, &metadata).key() == key);
    if same {
        Ok(handle)
    } else {
        Err(format!(
            "{} was replaced while being opened",
            path.display()
        ))
    }
}

/// The state a checkpoint gives back, when the file still begins as it did.
fn resumed(checkpoint: Checkpoint, path: &Path) -> State {
    let head = Head {
        len: checkpoint.head_len,
        hash: checkpoint.head_hash,
    };
    if !head.matches(path) {
        return State::New;
    }
    let progress = Progress {
        offset: checkpoint.offset,
        lines: checkpoint.lines,
        records: checkpoint.records,
        head,
    };
    match (checkpoint.done, checkpoint.mode) {
        (true, _) => State::Done(progress),
        (false, Mode::Lines) => State::Lines(progress),
        (false, Mode::File) => State::File(progress),
    }
}

/// Whether a file's name says it is telemetry (`.evtx`, `.json`, `.jsonl`, `.ndjson`,
/// `.log`, each also with `.gz`).
fn telemetry_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".evtx", ".json", ".jsonl", ".ndjson", ".log"]
        .iter()
        .any(|extension| name.ends_with(extension))
}

/// File names taken as telemetry; other files only when they start as EVTX does.
fn is_telemetry(seen: &Seen, ignored: &mut HashSet<FileId>) -> bool {
    if telemetry_name(&seen.path) {
        return true;
    }
    let mut magic = [0u8; 8];
    let read = File::open(&seen.path).and_then(|mut file| file.read(&mut magic));
    match read {
        Ok(8) if magic.as_slice() == crate::input::EVTX_MAGIC => true,
        // Too short to tell yet: look again next time.
        Ok(_) if seen.size < 8 => false,
        _ => {
            ignored.insert(seen.id);
            false
        }
    }
}

/// How a new file is read, from its first bytes: `None` while that cannot be told.
fn classify(seen: &Seen, stable: bool, sink: &mut dyn WatchSink) -> Option<State> {
    if seen.size == 0 {
        return None;
    }
    let mut start = Vec::new();
    let opened = File::open(&seen.path)
        .and_then(|file| file.take(checkpoint::HEAD_BYTES).read_to_end(&mut start));
    if let Err(error) = opened {
        sink.diagnostic(file_diagnostic(
            &seen.path,
            format!("cannot read {}: {error}", seen.path.display()),
        ));
        return None;
    }
    let whole = if start.starts_with(crate::input::EVTX_MAGIC) || start.starts_with(&[0x1f, 0x8b]) {
        true
    } else if start.len() < 8 && named_evtx(&seen.path) {
        // An EVTX file still being written: wait for its signature.
        return None;
    } else {
        let content = start.iter().position(|byte| !byte.is_ascii_whitespace());
        match content.map(|at| (at, start[at])) {
            Some((_, b'[')) => true,
            Some((at, b'{')) => match memchr::memchr(b'\n', &start[at..]) {
                // A line of its own `{` starts a pretty-printed document.
                Some(end) => start[at..at + end].trim_ascii() == b"{",
                // A first line longer than the look: JSON lines.
                None if start.len() as u64 >= checkpoint::HEAD_BYTES => false,
                // A short first line that stopped growing: one document.
                None if stable => true,
                // No whole first line yet: wait.
                None => return None,
            },
            // Blank so far: JSON lines may follow.
            None => false,
            // Text logs (`.log` is a common name for both): said once, never read,
            // rather than one "malformed JSON" per line for ever.
            Some(_) => {
                let message =
                    "neither EVTX nor JSON (its first character is not `{` or `[`): not read";
                sink.diagnostic(file_diagnostic(&seen.path, message.into()));
                let head = Head::read(&seen.path, seen.size).ok()?;
                return Some(State::Done(Progress::fresh(head)));
            }
        }
    };
    let head = match Head::read(&seen.path, seen.size) {
        Ok(head) => head,
        Err(_) => return None,
    };
    let progress = Progress::fresh(head);
    Some(if whole {
        State::File(progress)
    } else {
        State::Lines(progress)
    })
}

/// Whether a file holds the chunks its EVTX header counts (true when it is not EVTX).
fn evtx_complete(path: &Path, size: u64) -> bool {
    const HEADER_BLOCK: u64 = 4096;
    const CHUNK: u64 = 65536;
    let mut header = [0u8; 44];
    let read = File::open(path).and_then(|mut file| file.read_exact(&mut header));
    if read.is_err() || !header.starts_with(crate::input::EVTX_MAGIC) {
        return true;
    }
    let chunks = u64::from(u16::from_le_bytes([header[42], header[43]]));
    size >= HEADER_BLOCK + chunks * CHUNK
}

fn named_evtx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("evtx"))
}

fn file_diagnostic(path: &Path, message: String) -> Diagnostic {
    Diagnostic {
        source: Arc::from(path.to_string_lossy().as_ref()),
        place: Place::File,
        message,
    }
}
