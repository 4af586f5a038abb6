//! Collecting a reader's diagnostics without letting a hostile feed fill memory with
//! them: past a cap per kind, further ones are only counted, and the count is
//! reported at the end.
//!
//! The same per-file state keeps the budget of context entries: the model gives every
//! indicator its own copy of its context (actors, malware, ATT&CK ids, reports) and
//! labels, so a feed of many indicators sharing a long context (a MISP event of a
//! million attributes and thousands of galaxy clusters) would multiply one into the
//! other. Past [`CONTEXT_BUDGET`] entries copied, indicators are kept without their
//! context, and one `Limit` diagnostic says how many.

use std::collections::BTreeMap;

use crate::model::{Diagnostic, DiagnosticKind};

/// How many diagnostics of one kind a reader keeps for one file.
pub(crate) const KEPT_PER_KIND: usize = 1000;

/// How many context entries (names, ids, labels) a reader copies into the indicators
/// of one feed: far above any real feed (an ESET event copies a few dozen per
/// attribute).
pub(crate) const CONTEXT_BUDGET: usize = 16 * 1024 * 1024;

/// Diagnostics of one file, capped per kind.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    kept: Vec<Diagnostic>,
    per_kind: BTreeMap<DiagnosticKindKey, (usize, usize)>,
    location: String,
    context_left: usize,
    context_dropped: usize,
}

/// `DiagnosticKind` as a map key (the model type does not derive `Ord`).
type DiagnosticKindKey = u8;

fn key(kind: DiagnosticKind) -> DiagnosticKindKey {
    kind as u8
}

impl Diagnostics {
    /// Diagnostics of the file named `location` (used for the summary of those left out).
    pub(crate) fn new(location: impl Into<String>) -> Self {
        Diagnostics {
            location: location.into(),
            context_left: CONTEXT_BUDGET,
            ..Diagnostics::default()
        }
    }

    /// The same with a smaller context budget, for tests.
    #[cfg(test)]
    pub(crate) fn with_context_budget(mut self, entries: usize) -> Self {
        self.context_left = entries;
        self
    }

    /// Whether an indicator may carry `entries` more context entries; if not, it is
    /// counted as kept without them.
    pub(crate) fn spend_context(&mut self, entries: usize) -> bool {
        if entries <= self.context_left {
            self.context_left -= entries;
            true
        } else {
            self.context_dropped += 1;
            false
        }
    }

    /// Adds one, or counts it when its kind's cap is reached.
    pub(crate) fn push(&mut self, kind: DiagnosticKind, location: String, message: String) {
        let entry = self.per_kind.entry(key(kind)).or_default();
        if entry.0 < KEPT_PER_KIND {
            entry.0 += 1;
            self.kept.push(Diagnostic {
                kind,
                location,
                message,
            });
        } else {
            entry.1 += 1;
        }
    }

    /// Adds an already-built diagnostic (see [`Diagnostics::push`]).
    pub(crate) fn add(&mut self, diagnostic: Diagnostic) {
        self.push(diagnostic.kind, diagnostic.location, diagnostic.message);
    }

    /// The diagnostics kept, then one per kind that passed the cap saying how many of
    /// that kind were left out.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        if self.context_dropped > 0 {
            self.kept.push(Diagnostic {
                kind: DiagnosticKind::Limit,
                location: self.location.clone(),
                message: format!(
                    "{} indicators kept without their context and labels: the feed's indicators already carry {CONTEXT_BUDGET} context entries",
                    self.context_dropped
                ),
            });
        }
        for kind in [
            DiagnosticKind::Malformed,
            DiagnosticKind::PatternSyntax,
            DiagnosticKind::UnsupportedPattern,
            DiagnosticKind::UnsupportedType,
            DiagnosticKind::InvalidValue,
            DiagnosticKind::Limit,
        ] {
            if let Some((_, dropped)) = self.per_kind.get(&key(kind)) {
                if *dropped > 0 {
                    self.kept.push(Diagnostic {
                        kind: DiagnosticKind::Limit,
                        location: self.location.clone(),
                        message: format!(
                            "{dropped} more diagnostics of kind {kind:?} not listed (at most {KEPT_PER_KIND} per kind and file)"
                        ),
                    });
                }
            }
        }
        self.kept
    }
}
