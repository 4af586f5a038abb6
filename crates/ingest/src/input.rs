//! Finding inputs (files, directories, stdin) and reading one into a sink.

use crate::{evtx_reader, json_reader, Diagnostic, FieldAliases, IngestError, Place, Sink};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The EVTX file signature.
pub(crate) const EVTX_MAGIC: &[u8] = b"ElfFile\0";

/// How an input is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// A Windows EVTX file.
    Evtx,
    /// JSON lines or concatenated JSON documents, plain or gzip-compressed.
    Json,
}

/// One telemetry input: a file or stdin.
#[derive(Debug, Clone)]
pub struct Input {
    path: Option<PathBuf>,
    name: Arc<str>,
    kind: InputKind,
    size: Option<u64>,
}

/// How inputs are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// How nested JSON paths become Sigma field names.
    pub aliases: Arc<FieldAliases>,
    /// Decode and deliver batches of one input on several threads (the rayon pool).
    pub parallel: bool,
    /// At most this many diagnostics per input; the rest are counted in one line.
    pub max_diagnostics: u64,
    /// A JSON line (or the first line of a JSON input) longer than this is skipped,
    /// read through to its end without being held, and reported.
    pub max_line_bytes: usize,
}

/// The default line cap: far above any real record (the corpus's longest is a few
/// KB), far below what would strain memory, as log shippers cap theirs.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            aliases: Arc::new(FieldAliases::builtin()),
            parallel: true,
            max_diagnostics: 50,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// What reading one input produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Events delivered.
    pub events: u64,
    /// Bytes read (file size, or bytes taken from stdin).
    pub bytes: u64,
    /// Problems found (all of them, including ones past the display cap).
    pub diagnostics: u64,
    /// Records lost among those problems (lines or documents that could not be read;
    /// EVTX records that could not be decoded).
    pub records_skipped: u64,
}

/// Reads JSON (JSON lines, an array, or concatenated documents; gzip recognised by its
/// magic bytes) from any reader into `sink`, exactly as a JSON file is read: for
/// bodies of HTTP requests and other streams that are not files. `name` is what the
/// events and diagnostics carry as their source.
pub fn read_json<R: Read + Send, S: Sink + ?Sized>(
    reader: R,
    name: &Arc<str>,
    options: &ReadOptions,
    sink: &S,
) -> Result<ReadStats, IngestError> {
    json_reader::read(reader, name, options, sink)
}

/// File names a directory walk picks up; named files are taken whatever their name.
fn is_telemetry_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".evtx", ".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|extension| name.ends_with(extension))
}

/// How [`inputs`] walks folders.
#[derive(Debug, Clone, Copy, Default)]
pub struct FindOptions {
    /// Follow symbolic links in folders (a link that leads back to a folder being
    /// walked is reported, not followed again). Off by default: a link is reported
    /// and passed over, so a link loop cannot repeat or hang a walk.
    pub follow_links: bool,
}

/// What [`inputs`] found: the inputs to read, and those passed over.
#[derive(Debug, Default)]
pub struct Found {
    /// Files (and stdin) to read, in the order found.
    pub inputs: Vec<Input>,
    /// Paths passed over, each with why: missing, unreadable, a symbolic link not
    /// followed or a loop, a FIFO, socket or device met in a folder.
    pub skipped: Vec<Diagnostic>,
}

/// The inputs named by `paths`: files as given, directories walked recursively (in
/// name order, so runs are reproducible) for EVTX and JSON files, `-` for stdin. A
/// path that cannot be read is passed over with a diagnostic and the rest are found.
/// A file named directly is read whatever it is (a FIFO too: the user asked for it);
/// in a folder, only regular files are, as opening a FIFO would wait for a writer.
pub fn inputs<P: AsRef<Path>>(paths: &[P], options: FindOptions) -> Found {
    let mut found = Found::default();
    for path in paths {
        let path = path.as_ref();
        if path == Path::new("-") {
            found.inputs.push(Input::stdin());
            continue;
        }
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => walk(path, options, &mut found),
            Ok(_) => found.add_file(path),
            Err(error) => found.skip(path, format!("cannot access {}: {error}", path.display())),
        }
    }
    found
}

fn walk(dir: &Path, options: FindOptions, found: &mut Found) {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(options.follow_links)
        .sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(dir).to_path_buf();
                let message = match error.loop_ancestor() {
                    Some(ancestor) => format!(
                        "symbolic link loop back to {}: not followed again",
                        ancestor.display()
                    ),
                    None => match error.io_error() {
                        Some(io) => format!("cannot access {}: {io}", path.display()),
                        None => format!("cannot access {}", path.display()),
                    },
                };
                found.skip(&path, message);
                continue;
            }
        };
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        let path = entry.path();
        if kind.is_symlink() && (is_telemetry_name(path) || links_to_folder(path)) {
            // A link that could lead to input is said; one to a README is not input.
            found.skip(
                path,
                "symbolic link not followed (see --follow-links)".into(),
            );
        } else if kind.is_symlink() || !is_telemetry_name(path) {
            // Other files in a telemetry folder (READMEs, rules) are not inputs.
        } else if !kind.is_file() {
            found.skip(path, "not a regular file (a FIFO, socket or device)".into());
        } else {
            found.add_file(path);
        }
    }
}

/// Whether a symbolic link leads to a folder (which could hold input).
fn links_to_folder(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_dir())
}

impl Found {
    fn add_file(&mut self, path: &Path) {
        match Input::file(path) {
            Ok(input) => self.inputs.push(input),
            Err(error) => self.skip(path, rampart_event::error_chain(&error)),
        }
    }

    fn skip(&mut self, path: &Path, message: String) {
        self.skipped.push(Diagnostic {
            source: Arc::from(path.to_string_lossy().as_ref()),
            place: Place::File,
            message,
        });
    }
}

impl Input {
    /// Standard input, read as JSON (gzip is recognised by its magic bytes).
    pub fn stdin() -> Self {
        Input {
            path: None,
            name: Arc::from("-"),
            kind: InputKind::Json,
            size: None,
        }
    }

    /// A file; EVTX when it starts with the EVTX signature or is named `.evtx`,
    /// JSON otherwise. Only a regular file is opened to look at its start: a FIFO's
    /// bytes would be taken from the read that follows, so it is told by its name.
    pub fn file(path: &Path) -> Result<Self, IngestError> {
        let access = |source| IngestError::Access {
            path: path.to_path_buf(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(access)?;
        let named_evtx = path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("evtx"));
        let (mut magic, mut read) = ([0u8; 8], 0);
        if metadata.is_file() {
            let mut file = std::fs::File::open(path).map_err(access)?;
            read = file.read(&mut magic).map_err(access)?;
        }
        let size = metadata.len();
        let kind = if &magic[..read] == EVTX_MAGIC || named_evtx {
            InputKind::Evtx
        } else {
            InputKind::Json
        };
        Ok(Input {
            path: Some(path.to_path_buf()),
            name: Arc::from(path.to_string_lossy().as_ref()),
            kind,
            size: metadata.is_file().then_some(size),
        })
    }

    /// The name events and diagnostics carry: the path as given, or `-`.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// How the input is decoded.
    pub fn kind(&self) -> InputKind {
        self.kind
    }

    /// The file's size in bytes (unknown for stdin).
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Reads the whole input into `sink`. Damage inside the input becomes diagnostics;
    /// only an input that cannot be opened at all is an error.
    pub fn read<S: Sink + ?Sized>(
        &self,
        options: &ReadOptions,
        sink: &S,
    ) -> Result<ReadStats, IngestError> {
        match (&self.path, self.kind) {
            (Some(path), InputKind::Evtx) => evtx_reader::read(path, &self.name, options, sink),
            (Some(path), InputKind::Json) => {
                let file = std::fs::File::open(path).map_err(|source| IngestError::Read {
                    path: self.name.to_string(),
                    source,
                })?;
                json_reader::read(file, &self.name, options, sink)
            }
            (None, _) => json_reader::read(std::io::stdin(), &self.name, options, sink),
        }
    }
}
