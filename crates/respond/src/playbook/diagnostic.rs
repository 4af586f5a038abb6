//! Findings about playbook files: where (file, line, column) and what.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Works, but probably not as meant (a revoked technique id, a step without
    /// approval that cannot be undone).
    Warning,
    /// The playbook is refused (loading) or must not be used (lint).
    Error,
}

impl Severity {
    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding about a playbook file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when the finding is about the whole file).
    pub line: usize,
    /// 1-based column (0 when the finding is about the whole file).
    pub column: usize,
    /// Warning or error.
    pub severity: Severity,
    /// A short, stable name of the check (`yaml`, `version`, `schema`, `duplicate-id`,
    /// `d3fend`, `react`, `template`, `secret`, `technique`, …), for filtering.
    pub check: &'static str,
    /// What is wrong. Quotes the file's text: escape it before showing it on a terminal.
    pub message: String,
}

impl Diagnostic {
    /// An error at a place.
    pub fn error(
        path: impl Into<PathBuf>,
        (line, column): (usize, usize),
        check: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            path: path.into(),
            line,
            column,
            severity: Severity::Error,
            check,
            message: message.into(),
        }
    }

    /// A warning at a place.
    pub fn warning(
        path: impl Into<PathBuf>,
        place: (usize, usize),
        check: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, place, check, message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(
            f,
            ": {} [{}]: {}",
            self.severity.as_str(),
            self.check,
            self.message
        )
    }
}
