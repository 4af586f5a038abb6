//! Logsource routing: which events a Sigma `logsource` can describe.
//!
//! A Sigma rule does not name the events it applies to; its `logsource` (product,
//! category, service) does, through a mapping every backend supplies. Ours is a data
//! file (`data/logsources.yml`, built from the taxonomy appendix and SigmaHQ's THOR
//! mapping) compiled into the binary, which users extend with their own file of the
//! same shape. Each source names channels, event ids and field renames; a rule is
//! routed to the sources its logsource selects (see [`LogsourceMap::sources_for`]).

use rampart_event::{Event, Value};
use serde::Deserialize;
use std::path::Path;

/// The built-in mapping, compiled in so the engine needs no file at run time.
const BUILTIN: &str = include_str!("../data/logsources.yml");

/// The Sigma logsource attributes a source stands for; `None` means "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsourceKey {
    /// `product` (windows, linux, …).
    #[serde(default)]
    pub product: Option<String>,
    /// `category` (process_creation, …).
    #[serde(default)]
    pub category: Option<String>,
    /// `service` (security, sysmon, …).
    #[serde(default)]
    pub service: Option<String>,
}

impl LogsourceKey {
    /// A key from the three optional attributes.
    pub fn new(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> Self {
        Self {
            product: product.map(str::to_owned),
            category: category.map(str::to_owned),
            service: service.map(str::to_owned),
        }
    }

    /// How many of this source key's attributes `rule` carries with the same value, or
    /// `None` when one of them differs or is missing from the rule. Attributes compare
    /// ignoring ASCII case, as Sigma values are lower-case by convention only.
    fn specificity_for(&self, rule: &LogsourceKey) -> Option<usize> {
        let mut matched = 0;
        for (mine, theirs) in [
            (&self.product, &rule.product),
            (&self.category, &rule.category),
            (&self.service, &rule.service),
        ] {
            if let Some(mine) = mine {
                match theirs {
                    Some(theirs) if mine.eq_ignore_ascii_case(theirs) => matched += 1,
                    _ => return None,
                }
            }
        }
        Some(matched)
    }
}

/// One event source: the events (channel, event id) a logsource covers there, and how
/// that source names the taxonomy's fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The logsource attributes a rule must carry to use this source.
    pub logsource: LogsourceKey,
    /// Event log channels; `None` means every channel the map names for the same
    /// product.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// Event ids; `None` means any.
    #[serde(default)]
    pub event_ids: Option<Vec<u32>>,
    /// Rule field → event field, for events that name a taxonomy field differently.
    #[serde(default, with = "rename_pairs")]
    pub rename: Vec<(String, String)>,
    /// Taxonomy fields whose values the source holds in another form (hex ids, SIDs,
    /// split user names): the converted value replaces the event's field of that name
    /// for the rules of this route.
    #[serde(default)]
    pub convert: Vec<Conversion>,
}

/// One taxonomy field computed from event fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversion {
    /// The taxonomy field (`ProcessId`).
    pub field: String,
    /// The event fields it is computed from (`[NewProcessId]`).
    pub from: Vec<String>,
    /// How.
    pub form: ValueForm,
}

/// The value forms a [`Conversion`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueForm {
    /// `0x1dc` → `476` (Security writes process ids in hex, Sysmon in decimal).
    HexToDecimal,
    /// A mandatory label SID → Sysmon's `IntegrityLevel` word (`S-1-16-12288` →
    /// `High`).
    IntegrityLabel,
    /// Domain and user name fields → `DOMAIN\user`, as Sysmon writes `User`.
    DomainUser,
}

impl Conversion {
    /// The converted value, or `None` when a source field is missing or not of the
    /// expected form (the taxonomy field then stays absent, as it would on a source
    /// that does not log it).
    pub fn value(&self, event: &Event) -> Option<Value> {
        let text = |name: &String| event.get(name).and_then(Value::as_str);
        match self.form {
            ValueForm::HexToDecimal => {
                let written = text(self.from.first()?)?.trim();
                let digits = written
                    .strip_prefix("0x")
                    .or_else(|| written.strip_prefix("0X"))?;
                let number = u64::from_str_radix(digits, 16).ok()?;
                Some(Value::Int(i64::try_from(number).ok()?))
            }
            ValueForm::IntegrityLabel => {
                // Microsoft, "Mandatory Integrity Control": the well-known
                // mandatory label SIDs and the words Sysmon prints for them.
                let label = match text(self.from.first()?)?.trim() {
                    "S-1-16-0" => "Untrusted",
                    "S-1-16-4096" => "Low",
                    "S-1-16-8192" => "Medium",
                    "S-1-16-8448" => "MediumPlus",
                    "S-1-16-12288" => "High",
                    "S-1-16-16384" => "System",
                    "S-1-16-20480" => "Protected",
                    "S-1-16-28672" => "Secure",
                    _ => return None,
                };
                Some(Value::Str(label.into()))
            }
            ValueForm::DomainUser => {
                let [domain, user] = self.from.as_slice() else {
                    return None;
                };
                let (domain, user) = (text(domain)?, text(user)?);
                Some(Value::Str(match domain {
                    "" | "-" => user.into(),
                    _ => format!("{domain}\\{user}").into(),
                }))
            }
        }
    }
}

/// `event` with each conversion's value in place of (or beside) the field it names.
pub(crate) fn converted(event: &Event, conversions: &[Conversion]) -> Event {
    let mut view = event.clone();
    for conversion in conversions {
        let value = conversion.value(event);
        view.fields.retain(|(name, _)| **name != *conversion.field);
        if let Some(value) = value {
            view.fields.push((conversion.field.as_str().into(), value));
        }
    }
    view
}

/// Reads the YAML map of renames into plain pairs (sorted; each rule field is renamed once).
mod rename_pairs {
    use serde::{Deserialize, Deserializer};
    use std::collections::BTreeMap;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(String, String)>, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(map.into_iter().collect())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    sources: Vec<Source>,
}

/// A logsource mapping file that could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum LogsourceError {
    /// The file could not be read.
    #[error("cannot read logsource map {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid mapping.
    #[error("invalid logsource map {origin}: {message}")]
    Invalid {
        /// The file (or `builtin`).
        origin: String,
        /// What is wrong, with the line when YAML reports one.
        message: String,
    },
}

/// The logsource → event source mapping the engine routes rules with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsourceMap {
    sources: Vec<Source>,
}

impl LogsourceMap {
    /// The built-in mapping (Windows event logs, Sysmon for Linux, Defender, Linux
    /// syslog services).
    pub fn builtin() -> Self {
        // The embedded file is checked by a unit test, so failing here means the
        // binary was built from a broken tree; an empty map keeps the engine usable.
        Self::from_yaml(BUILTIN, "builtin").unwrap_or(Self {
            sources: Vec::new(),
        })
    }

    /// A mapping parsed from YAML text of the `logsources.yml` shape.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, LogsourceError> {
        let file: MapFile = serde_yaml::from_str(text).map_err(|error| {
            let message = match error.location() {
                Some(at) => format!("line {}: {error}", at.line()),
                None => error.to_string(),
            };
            LogsourceError::Invalid {
                origin: origin.to_owned(),
                message,
            }
        })?;
        Ok(Self {
            sources: file.sources,
        })
    }

    /// Adds the sources of a user file to this map.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), LogsourceError> {
        let text = std::fs::read_to_string(path).map_err(|source| LogsourceError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let more = Self::from_yaml(&text, &path.display().to_string())?;
        self.sources.extend(more.sources);
        Ok(())
    }

    /// Adds sources.
    pub fn extend(&mut self, sources: impl IntoIterator<Item = Source>) {
        self.sources.extend(sources);
    }

    /// All sources, in file order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Indices of the sources a rule with logsource `rule` is routed to: those whose
    /// attributes the rule all carries, keeping only the most specific ones. So
    /// `windows/process_creation` takes both process_creation sources but not the
    /// `windows`-only catch-all, and `windows/security` takes the Security channel.
    /// Empty means the map does not know the logsource.
    pub fn sources_for(&self, rule: &LogsourceKey) -> Vec<usize> {
        let scored: Vec<(usize, usize)> = self
            .sources
            .iter()
            .enumerate()
            .filter_map(|(index, source)| Some((index, source.logsource.specificity_for(rule)?)))
            .filter(|&(_, score)| score > 0)
            .collect();
        let best = scored.iter().map(|&(_, score)| score).max().unwrap_or(0);
        scored
            .into_iter()
            .filter(|&(_, score)| score == best)
            .map(|(index, _)| index)
            .collect()
    }

    /// Every channel some source names, as written (first spelling wins).
    pub fn channels(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for channel in self
            .sources
            .iter()
            .flat_map(|s| s.channels.iter().flatten())
        {
            if !seen.iter().any(|known| known.eq_ignore_ascii_case(channel)) {
                seen.push(channel);
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(product: &str, category: &str, service: &str) -> LogsourceKey {
        fn some(s: &str) -> Option<&str> {
            (!s.is_empty()).then_some(s)
        }
        LogsourceKey::new(some(product), some(category), some(service))
    }

    #[test]
    fn builtin_file_parses_and_names_the_taxonomy_channels() {
        let map = LogsourceMap::from_yaml(BUILTIN, "builtin").unwrap();
        assert!(map.sources().len() > 80);
        let channels = map.channels();
        for expected in [
            "Microsoft-Windows-Sysmon/Operational",
            "Security",
            "System",
            "Windows PowerShell",
            "Microsoft-Windows-PowerShell/Operational",
        ] {
            assert!(channels.contains(&expected), "{expected} missing");
        }
    }

    #[test]
    fn process_creation_routes_to_sysmon_and_security_4688_with_renames() {
        let map = LogsourceMap::builtin();
        let picked = map.sources_for(&key("windows", "process_creation", ""));
        let sources: Vec<&Source> = picked.iter().map(|&i| &map.sources()[i]).collect();
        assert_eq!(sources.len(), 2);
        let security = sources
            .iter()
            .find(|s| s.channels.as_deref() == Some(&["Security".to_owned()][..]))
            .unwrap();
        assert_eq!(security.event_ids.as_deref(), Some(&[4688][..]));
        assert!(security
            .rename
            .contains(&("Image".to_owned(), "NewProcessName".to_owned())));
        assert!(sources
            .iter()
            .any(|s| s.event_ids.as_deref() == Some(&[1][..])));
    }

    #[test]
    fn service_and_product_only_rules_route_by_specificity() {
        let map = LogsourceMap::builtin();
        let security = map.sources_for(&key("windows", "", "security"));
        assert_eq!(security.len(), 1);
        assert_eq!(map.sources()[security[0]].event_ids, None);
        let windows = map.sources_for(&key("WINDOWS", "", ""));
        assert_eq!(windows.len(), 1);
        assert_eq!(map.sources()[windows[0]].channels, None);
        // Defender's THOR mapping applies to `category: antivirus` with any product.
        assert_eq!(map.sources_for(&key("", "antivirus", "")).len(), 1);
    }

    #[test]
    fn unknown_logsources_route_nowhere() {
        let map = LogsourceMap::builtin();
        assert!(map.sources_for(&key("aws", "", "cloudtrail")).is_empty());
        assert!(map.sources_for(&key("", "webserver", "")).is_empty());
        assert!(map.sources_for(&key("macos", "", "unifiedlog")).is_empty());
        assert!(map.sources_for(&key("", "", "")).is_empty());
    }

    #[test]
    fn user_file_extends_and_bad_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("extra.yml");
        std::fs::write(
            &good,
            "sources:\n  - logsource: {product: macos, service: unifiedlog}\n    channels: [unifiedlog]\n",
        )
        .unwrap();
        let mut map = LogsourceMap::builtin();
        let before = map.sources().len();
        map.extend_from_file(&good).unwrap();
        assert_eq!(map.sources().len(), before + 1);
        assert_eq!(
            map.sources_for(&key("macos", "", "unifiedlog")),
            vec![before]
        );

        let bad = dir.path().join("bad.yml");
        std::fs::write(
            &bad,
            "sources:\n  - logsource: {product: linux}\n    chanels: [x]\n",
        )
        .unwrap();
        let error = map.extend_from_file(&bad).unwrap_err().to_string();
        assert!(
            error.contains("bad.yml") && error.contains("chanels"),
            "{error}"
        );
        let missing = map.extend_from_file(&dir.path().join("none.yml"));
        assert!(matches!(missing, Err(LogsourceError::Read { .. })));
    }
}
