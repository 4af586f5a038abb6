//! Turning the files `intel import` is given into feeds, and command-line values into
//! stored form: the intel crate's readers and normalisation, chosen per file.

use rampart_intel::{normalize, Feed, ObservableKind};
use std::path::Path;

/// Reads one feed file (or MISP feed folder); its format is guessed from its content,
/// and `kind` is the kind of every value of a plain list or CSV.
pub fn read_feed(path: &Path, kind: Option<ObservableKind>) -> Result<Feed, rampart_intel::Error> {
    use rampart_intel::{detect_format, list, Format};
    match (kind, detect_format(path)?) {
        (Some(kind), Format::List) => list::read_list(path, Some(kind)),
        (Some(kind), Format::Csv) => list::read_csv(path, Some(kind)),
        _ => rampart_intel::read_path(path),
    }
}

/// A value in the form the store keeps for its kind (refanged, canonical, case folded
/// where the kind ignores case).
pub fn normalize_value(kind: ObservableKind, raw: &str) -> anyhow::Result<String> {
    Ok(normalize::normalize(kind, raw)?)
}

/// A `--value` filter: normalised for its kind when given (or the kind its shape
/// says), else as typed.
pub fn normalize_query(kind: Option<ObservableKind>, raw: &str) -> String {
    kind.or_else(|| normalize::detect_kind(raw))
        .and_then(|kind| normalize::normalize(kind, raw).ok())
        .unwrap_or_else(|| raw.trim().to_string())
}
