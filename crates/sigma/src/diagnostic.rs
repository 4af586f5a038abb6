//! Diagnostics: why a rule file, or one document in it, could not be loaded.

use std::fmt;
use std::path::PathBuf;

/// A problem found while loading rules, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule file.
    pub path: PathBuf,
    /// 1-based line of the offending element (0 when the file could not be read).
    pub line: usize,
    /// What sort of problem it is (used to summarise many diagnostics).
    pub kind: DiagnosticKind,
    /// Whether the document was rejected (`Error`) or loaded anyway (`Warning`).
    pub severity: Severity,
    /// The reason, for a rule author.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {} [{}]: {}",
            self.path.display(),
            self.line,
            self.severity.as_str(),
            self.kind,
            self.message
        )
    }
}

/// Whether a diagnostic rejected its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The document loaded; something in it is doubtful.
    Warning,
    /// The document was not loaded.
    Error,
}

impl Severity {
    /// `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The kinds of loading problems, each with a stable kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// The file could not be read.
    Io,
    /// The file is not valid YAML.
    Yaml,
    /// A mandatory attribute is missing (`title`, `detection`, `condition`, …).
    MissingAttribute,
    /// An attribute has the wrong type or an invalid value.
    InvalidAttribute,
    /// A modifier that Sigma does not define.
    UnknownModifier,
    /// Modifiers that cannot be combined, or do not fit the value.
    InvalidModifier,
    /// A value that cannot be used (empty list, null in a list, bad CIDR, bad number…).
    InvalidValue,
    /// A regular expression that does not compile.
    InvalidRegex,
    /// A condition that does not parse.
    InvalidCondition,
    /// A condition that names a search the rule does not define.
    UnknownSearch,
    /// A placeholder (`|expand`) with no value list to expand it.
    Placeholder,
    /// A construct Sigma no longer supports (old aggregations, `near`, `action`s).
    Unsupported,
    /// A filter whose `expires` date has come: it loaded but no longer applies.
    Expired,
}

impl DiagnosticKind {
    /// The kebab-case name used in summaries and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticKind::Io => "io",
            DiagnosticKind::Yaml => "yaml",
            DiagnosticKind::MissingAttribute => "missing-attribute",
            DiagnosticKind::InvalidAttribute => "invalid-attribute",
            DiagnosticKind::UnknownModifier => "unknown-modifier",
            DiagnosticKind::InvalidModifier => "invalid-modifier",
            DiagnosticKind::InvalidValue => "invalid-value",
            DiagnosticKind::InvalidRegex => "invalid-regex",
            DiagnosticKind::InvalidCondition => "invalid-condition",
            DiagnosticKind::UnknownSearch => "unknown-search",
            DiagnosticKind::Placeholder => "placeholder",
            DiagnosticKind::Unsupported => "unsupported",
            DiagnosticKind::Expired => "expired",
        }
    }
}

impl fmt::Display for DiagnosticKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem without its file: what parsing functions return, located by the loader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct Problem {
    /// 1-based line in the file.
    pub line: usize,
    /// The kind of problem.
    pub kind: DiagnosticKind,
    /// The reason, for a rule author.
    pub message: String,
}

impl Problem {
    /// A problem of that kind at that line.
    pub fn new(kind: DiagnosticKind, line: usize, message: impl Into<String>) -> Self {
        Problem {
            line,
            kind,
            message: message.into(),
        }
    }

    /// The diagnostic for this problem in `path`.
    pub fn in_file(self, path: PathBuf, severity: Severity) -> Diagnostic {
        Diagnostic {
            path,
            line: self.line,
            kind: self.kind,
            severity,
            message: self.message,
        }
    }
}
