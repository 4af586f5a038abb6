//! Visibility: can the log sources ATT&CK's analytics need for a technique be seen?
//!
//! A technique nobody can see is a different gap from one that is seen but not
//! detected: the first needs collection, the second a rule. ATT&CK v18 analytics name
//! log sources as `name` + `channel` (`WinEventLog:Sysmon`, `EventCode=1`). The user
//! says what they collect in a text file, one source per line:
//!
//! ```text
//! # comments and blank lines are ignored
//! WinEventLog:Security                 # every event of the source
//! WinEventLog:Sysmon EventCode=1,3,11   # only these event ids
//! Microsoft-Windows-Sysmon/Operational  # a Windows channel name works too
//! ```
//!
//! or it is inferred from the channels and event ids seen in telemetry. A need is met
//! when its source is collected and, if it names `EventCode=…`, one of its codes is. A
//! technique is *visible* when at least one of its analytics has a need met.

use crate::error::CoverageError;
use crate::model::{AttackMatrix, LogSourceNeed};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The log sources collected: source name → event ids (empty = all of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Collected {
    /// By ATT&CK log source name, lower-cased; `None` means every event id.
    pub sources: BTreeMap<String, Option<BTreeSet<u32>>>,
}

/// ATT&CK's log source name for a Windows event log channel.
pub fn attack_source_for_channel(channel: &str) -> String {
    let lower = channel.to_ascii_lowercase();
    let name = match lower.as_str() {
        "security" => "Security",
        "system" => "System",
        "application" => "Application",
        "microsoft-windows-sysmon/operational" => "Sysmon",
        "microsoft-windows-powershell/operational" | "windows powershell" => "PowerShell",
        "microsoft-windows-wmi-activity/operational" => "WMI",
        _ => channel,
    };
    format!("WinEventLog:{name}")
}

impl Collected {
    /// Marks a source (by ATT&CK name or Windows channel) as collected; `codes` empty
    /// means every event of it.
    pub fn add(&mut self, source: &str, codes: impl IntoIterator<Item = u32>) {
        let name = if source.contains(':') {
            source.to_string()
        } else {
            attack_source_for_channel(source)
        };
        let codes: BTreeSet<u32> = codes.into_iter().collect();
        let entry = self
            .sources
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| Some(BTreeSet::new()));
        match entry {
            // "All events" absorbs any later restriction.
            None => {}
            Some(_) if codes.is_empty() => *entry = None,
            Some(known) => known.extend(codes),
        }
    }

    /// Reads a collected-sources file (format in the module documentation).
    pub fn from_file(path: &Path) -> Result<Self, CoverageError> {
        let text = std::fs::read_to_string(path).map_err(|source| CoverageError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut collected = Collected::default();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let (source, codes) = match line.find("EventCode=") {
                Some(at) => (line[..at].trim(), Some(&line[at + "EventCode=".len()..])),
                None => (line, None),
            };
            let codes = match codes {
                Some(list) => event_codes(list).ok_or_else(|| CoverageError::Collected {
                    path: path.to_path_buf(),
                    reason: format!("line {}: bad event code list `{list}`", index + 1),
                })?,
                None => Vec::new(),
            };
            collected.add(source, codes);
        }
        Ok(collected)
    }

    /// Whether one need is met.
    pub fn meets(&self, need: &LogSourceNeed) -> bool {
        let Some(codes) = self.sources.get(&need.name.to_ascii_lowercase()) else {
            return false;
        };
        let Some(codes) = codes else {
            return true;
        };
        match need.channel.trim().strip_prefix("EventCode=") {
            Some(list) => event_codes(list)
                .is_some_and(|wanted| wanted.iter().any(|code| codes.contains(code))),
            None => true,
        }
    }
}

fn event_codes(list: &str) -> Option<Vec<u32>> {
    list.split(',')
        .map(|code| code.trim().parse().ok())
        .collect()
}

/// Whether a technique can be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// At least one analytic has a collected log source.
    Visible,
    /// Analytics exist but none of their log sources is collected.
    Blind,
    /// ATT&CK proposes no analytic (for the platforms asked).
    NoAnalytics,
}

/// Visibility of one technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechniqueVisibility {
    /// Technique id.
    pub technique: String,
    /// The verdict.
    pub visibility: Visibility,
    /// Analytics considered.
    pub analytics: usize,
    /// Analytics with at least one need met.
    pub analytics_seen: usize,
    /// The needs not met, deduplicated (what to collect).
    pub missing: Vec<LogSourceNeed>,
}

/// Visibility of every technique, restricted to analytics of `platform` when given.
pub fn visibility(
    matrix: &AttackMatrix,
    collected: &Collected,
    platform: Option<&str>,
) -> BTreeMap<String, TechniqueVisibility> {
    let mut out = BTreeMap::new();
    for technique in matrix.techniques.values().filter(|t| t.is_on(platform)) {
        let analytics: Vec<_> = technique
            .analytics
            .iter()
            .filter(|a| {
                platform.is_none_or(|p| a.platforms.iter().any(|x| x.eq_ignore_ascii_case(p)))
            })
            .collect();
        let seen = analytics
            .iter()
            .filter(|a| a.log_sources.iter().any(|n| collected.meets(n)))
            .count();
        let missing: BTreeSet<LogSourceNeed> = analytics
            .iter()
            .flat_map(|a| a.log_sources.iter())
            .filter(|n| !collected.meets(n))
            .cloned()
            .collect();
        let verdict = if analytics.is_empty() {
            Visibility::NoAnalytics
        } else if seen > 0 {
            Visibility::Visible
        } else {
            Visibility::Blind
        };
        out.insert(
            technique.id.clone(),
            TechniqueVisibility {
                technique: technique.id.clone(),
                visibility: verdict,
                analytics: analytics.len(),
                analytics_seen: seen,
                missing: missing.into_iter().collect(),
            },
        );
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::small_matrix;

    #[test]
    fn event_codes_restrict_what_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("collected.txt");
        std::fs::write(
            &file,
            "# ours\nMicrosoft-Windows-Sysmon/Operational EventCode=1, 3\n",
        )
        .unwrap();
        let collected = Collected::from_file(&file).unwrap();
        let seen = visibility(&small_matrix(), &collected, Some("Windows"));
        assert_eq!(seen["T1059.001"].visibility, Visibility::Visible);
        // LSASS access needs Sysmon 10, which is not collected.
        assert_eq!(seen["T1003.001"].visibility, Visibility::Blind);
        assert_eq!(seen["T1003.001"].missing[0].channel, "EventCode=10");
        // T1059 is also a Linux technique, but ATT&CK has no Linux analytic for it here;
        // Windows-only techniques are left out of a Linux view.
        let linux = visibility(&small_matrix(), &collected, Some("Linux"));
        assert_eq!(linux["T1059"].visibility, Visibility::NoAnalytics);
        assert!(!linux.contains_key("T1003.001"));
    }

    #[test]
    fn bad_code_list_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("collected.txt");
        std::fs::write(
            &file,
            "WinEventLog:Security\nWinEventLog:Sysmon EventCode=one\n",
        )
        .unwrap();
        let error = Collected::from_file(&file).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
    }
}
