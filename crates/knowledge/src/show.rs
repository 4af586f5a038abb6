//! What `rampart attack show QUERY` shows, as one lookup the command line and the
//! service's `/api/v1/attack/{id}` share: D3FEND ids (`D3-…`), ENGAGE activity ids
//! (`EAC` and digits), then ATT&CK ids, names and aliases (revoked ones included),
//! then D3FEND class names (`ProcessSpawnAnalysis`).

use crate::knowledge::Knowledge;
use crate::report::Report;
use crate::resolve::Resolution;

/// Why [`Knowledge::show`] has no report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShowError {
    /// The query is empty (or only white space).
    #[error("no id or name given")]
    Empty,
    /// The query names a D3FEND or ENGAGE id, and that source is not loaded.
    #[error("{0} is not loaded")]
    NotLoaded(&'static str),
    /// Nothing by that id or name.
    #[error("unknown {what} {query:?}")]
    Unknown {
        /// What was looked for: `ATT&CK id or name`, `D3FEND technique`, `ENGAGE
        /// activity`.
        what: &'static str,
        /// The query, trimmed.
        query: String,
        /// The closest ATT&CK (id, name) pairs, best first (ATT&CK queries only).
        nearest: Vec<(String, String)>,
    },
}

impl Knowledge {
    /// The report `attack show` gives for `query` (see the module doc for the order
    /// in which the query is tried).
    pub fn show(&self, query: &str) -> Result<Report, ShowError> {
        let trimmed = query.trim();
        if trimmed.is_empty() {
            return Err(ShowError::Empty);
        }
        let unknown = |what, nearest| ShowError::Unknown {
            what,
            query: trimmed.to_owned(),
            nearest,
        };
        // `get`, not `[..3]`: the query is user text and may start with a multi-byte
        // char.
        let prefixed = |prefix: &str| {
            trimmed
                .get(..3)
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        };
        if prefixed("D3-") {
            return match self.d3fend_report(trimmed) {
                Some(report) => Ok(Report::D3fend(Box::new(report))),
                None if self.d3fend().is_none() => Err(ShowError::NotLoaded("D3FEND")),
                None => Err(unknown("D3FEND technique", Vec::new())),
            };
        }
        // An ENGAGE activity id is `EAC` and digits; a name that merely starts with
        // "eac" is looked up like any other name.
        if prefixed("EAC") && trimmed[3..].starts_with(|c: char| c.is_ascii_digit()) {
            return match self.engage_report(trimmed) {
                Some(report) => Ok(Report::Engage(Box::new(report))),
                None if self.engage().is_none() => Err(ShowError::NotLoaded("ENGAGE")),
                None => Err(unknown("ENGAGE activity", Vec::new())),
            };
        }
        match self.resolve(trimmed) {
            Resolution::Unknown { nearest } => {
                // A D3FEND class name (`ProcessSpawnAnalysis`) names a technique too.
                if let Some(report) = self.d3fend_report(trimmed) {
                    return Ok(Report::D3fend(Box::new(report)));
                }
                let nearest = nearest.into_iter().map(|s| (s.id, s.name)).collect();
                Err(unknown("ATT&CK id or name", nearest))
            }
            resolution => resolution
                .named()
                .and_then(|hit| self.report(hit))
                .ok_or_else(|| unknown("ATT&CK id or name", Vec::new())),
        }
    }
}
