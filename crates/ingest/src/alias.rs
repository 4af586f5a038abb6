//! Field aliases: how nested JSON paths (ECS, Winlogbeat) become Sigma field names.
//!
//! Rules are ordered; when two paths of one event land on the same Sigma name, the
//! earlier rule wins (e.g. `winlog.computer_name` over `host.name`), so the raw Windows
//! data beats the normalised ECS copy of it. User rules come before the built-in ones.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Built-in rules: `(path, Sigma name)`; a path ending in `.` is a prefix to strip.
const BUILTIN: &[(&str, &str)] = &[
    ("winlog.event_id", "EventID"),
    ("winlog.channel", "Channel"),
    ("winlog.computer_name", "Computer"),
    ("winlog.provider_name", "Provider_Name"),
    ("winlog.provider_guid", "Provider_Guid"),
    ("winlog.record_id", "EventRecordID"),
    ("winlog.user.identifier", "Security_UserID"),
    ("winlog.process.pid", "Execution_ProcessID"),
    ("winlog.process.thread.id", "Execution_ThreadID"),
    ("winlog.opcode", "Opcode"),
    ("winlog.keywords", "Keywords"),
    ("winlog.version", "Version"),
    ("winlog.event_data.", ""),
    ("winlog.user_data.", ""),
    ("event_data.", ""),
    ("user_data.", ""),
    ("event.code", "EventID"),
    ("host.name", "Computer"),
    ("host.hostname", "Computer"),
    ("process.command_line", "CommandLine"),
    ("process.executable", "Image"),
    ("process.pid", "ProcessId"),
    ("process.working_directory", "CurrentDirectory"),
    ("process.parent.executable", "ParentImage"),
    ("process.parent.command_line", "ParentCommandLine"),
    ("process.parent.pid", "ParentProcessId"),
    ("file.path", "TargetFilename"),
    ("registry.path", "TargetObject"),
    ("dns.question.name", "QueryName"),
    ("destination.ip", "DestinationIp"),
    ("destination.port", "DestinationPort"),
    ("source.ip", "SourceIp"),
    ("source.port", "SourcePort"),
];

/// An ordered set of path → Sigma-name rules; see the module comment.
#[derive(Debug, Clone)]
pub struct FieldAliases {
    exact: HashMap<Box<str>, (Box<str>, u32)>,
    prefixes: Vec<(Box<str>, u32)>,
}

/// A user alias file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AliasFileError {
    /// The file cannot be read.
    #[error("cannot read field-alias file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file is not the expected YAML (or JSON) shape.
    #[error("invalid field-alias file {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error, with its line and column.
        source: serde_yaml::Error,
    },
}

/// The user file's shape: `fields: {path: SigmaName}` and `strip_prefixes: [path.]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasFile {
    #[serde(default)]
    fields: serde_yaml::Mapping,
    #[serde(default)]
    strip_prefixes: Vec<String>,
}

impl Default for FieldAliases {
    fn default() -> Self {
        Self::from_rules(BUILTIN.iter().map(|(from, to)| (*from, *to)))
    }
}

impl FieldAliases {
    /// The built-in rules only.
    pub fn builtin() -> Self {
        Self::default()
    }

    /// No rules at all: every nested path keeps its dotted name.
    pub fn none() -> Self {
        Self::from_rules(std::iter::empty())
    }

    /// Builds the rules from `(path, name)` pairs, earliest first; a path ending in `.`
    /// is a prefix to strip (its name is ignored).
    pub fn from_rules<'a>(rules: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut aliases = FieldAliases {
            exact: HashMap::new(),
            prefixes: Vec::new(),
        };
        for (priority, (from, to)) in (0u32..).zip(rules) {
            if from.ends_with('.') {
                aliases.prefixes.push((from.into(), priority));
            } else {
                aliases
                    .exact
                    .entry(from.into())
                    .or_insert((to.into(), priority));
            }
        }
        aliases
    }

    /// The built-in rules preceded by the user's from a YAML (or JSON) file:
    ///
    /// ```yaml
    /// fields:
    ///   process.command_line: CommandLine
    /// strip_prefixes: [my_event.data.]
    /// ```
    pub fn with_user_file(path: &Path) -> Result<Self, AliasFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| AliasFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: AliasFile =
            serde_yaml::from_str(&text).map_err(|source| AliasFileError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        // A mapping keeps the file's order, which is the rules' priority.
        let user = file
            .fields
            .iter()
            .filter_map(|(from, to)| Some((from.as_str()?, to.as_str()?)))
            .chain(
                file.strip_prefixes
                    .iter()
                    .map(|prefix| (prefix.as_str(), "")),
            );
        Ok(Self::from_rules(user.chain(BUILTIN.iter().copied())))
    }

    /// The Sigma name of a dotted path and the rule's priority (lower wins);
    /// a path no rule names keeps its name with the lowest priority.
    pub(crate) fn resolve<'p>(&'p self, path: &'p str) -> (&'p str, u32) {
        if let Some((name, priority)) = self.exact.get(path) {
            return (name, *priority);
        }
        for (prefix, priority) in &self.prefixes {
            if let Some(rest) = path.strip_prefix(&**prefix) {
                if !rest.is_empty() {
                    return (rest, *priority);
                }
            }
        }
        (path, u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_prefix_and_unmapped_paths() {
        let aliases = FieldAliases::builtin();
        assert_eq!(aliases.resolve("winlog.channel").0, "Channel");
        assert_eq!(
            aliases.resolve("winlog.event_data.CommandLine").0,
            "CommandLine"
        );
        assert_eq!(aliases.resolve("agent.type"), ("agent.type", u32::MAX));
        let (_, raw) = aliases.resolve("winlog.computer_name");
        let (_, ecs) = aliases.resolve("host.name");
        assert!(raw < ecs, "raw Windows data must win over its ECS copy");
    }
}
