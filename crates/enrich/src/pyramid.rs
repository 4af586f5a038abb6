//! The pyramid-of-pain level of what a rule matched.
//!
//! David Bianco's pyramid ranks indicators by how much it costs an attacker to change
//! them: hash values (trivial), IP addresses, domain names, network/host artifacts,
//! tools, and TTPs (behaviour; hardest). An alert is only as robust as the most brittle
//! indicator it depends on, so the level of an alert is the **lowest** level among its
//! matched fields; a field that says nothing about the attacker (`EventID`, `Channel`,
//! `Provider_Name`, `LogonType`, …) does not count. When no matched field classifies
//! (or the rule matched keywords only), the rule describes behaviour: TTP.
//!
//! Field heuristic (Sigma field names, case-insensitive):
//! - hash: `Hashes`, `Hash`, `md5`, `sha1`, `sha256`, `Imphash`, anything ending in `hash`;
//! - IP: `DestinationIp`, `SourceIp`, `IpAddress`, `ClientAddress`, names ending in `ip`;
//! - domain: `QueryName`, `DestinationHostname`, `cs-host`, `r-dns`, `Domain`-like names;
//! - network artifact: ports, `UserAgent`/`cs-user-agent`, URIs;
//! - host artifact: registry (`TargetObject`, `Details`), pipes (`PipeName`), files
//!   (`TargetFilename`, `ImageLoaded`), services (`ServiceName`, `ServiceFileName`),
//!   `ObjectName`, `ShareName`;
//! - tool: `Image`, `OriginalFileName`, `ParentImage`, `Product` whose file name (minus
//!   extension and a trailing `32`/`64`) is the name or alias of ATT&CK software
//!   (`psexec.exe`, `mimikatz.exe`); the same fields naming anything else (a LOLBin such
//!   as `rundll32.exe`) describe behaviour;
//! - everything else (`CommandLine`, `ParentCommandLine`, …): behaviour (TTP).
//!
//! An IoC alert (a threat-intelligence hit) is placed by the kinds of the values it
//! matched, not the fields ([`of_observables`]): hashes → hash values, IPs → IP
//! addresses, domains → domain names, URLs and e-mail addresses → network artifacts,
//! file names, registry keys and command lines → host artifacts.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The levels of the pyramid of pain, bottom (cheapest to change) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PyramidLevel {
    /// File hashes.
    HashValue,
    /// IP addresses.
    IpAddress,
    /// Domain names.
    DomainName,
    /// Network artifacts (ports, user agents, URIs).
    NetworkArtifact,
    /// Host artifacts (registry keys, pipes, files, services).
    HostArtifact,
    /// Known attacker tools.
    Tool,
    /// Tactics, techniques and procedures: behaviour.
    Ttp,
}

/// One matched field and the level it was placed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PyramidBasis {
    /// Field name.
    pub field: String,
    /// Its level.
    pub level: PyramidLevel,
}

/// The level of an alert and the fields that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pyramid {
    /// The lowest level among the matched fields (TTP when none classifies).
    pub level: PyramidLevel,
    /// Each classified field with its level.
    pub basis: Vec<PyramidBasis>,
}

/// The level of an IoC observable kind (as the intelligence crate names kinds).
pub fn observable_level(kind: &str) -> PyramidLevel {
    match kind {
        "md5" | "sha1" | "sha256" | "sha512" | "imphash" => PyramidLevel::HashValue,
        "ip" => PyramidLevel::IpAddress,
        "domain" => PyramidLevel::DomainName,
        "url" | "email" => PyramidLevel::NetworkArtifact,
        "file-name" | "registry-key" | "command-line" => PyramidLevel::HostArtifact,
        _ => PyramidLevel::Ttp,
    }
}

/// The level of an IoC alert from its (field, observable kind) pairs: the lowest.
pub fn of_observables<'a>(found: impl IntoIterator<Item = (&'a str, &'a str)>) -> Pyramid {
    lowest(
        found
            .into_iter()
            .map(|(field, kind)| (field, observable_level(kind))),
    )
}

/// The pyramid of classified fields: each field once, at the lowest level it was
/// placed at, and the alert at the lowest of them (TTP when none classified).
fn lowest<'a>(levels: impl IntoIterator<Item = (&'a str, PyramidLevel)>) -> Pyramid {
    let mut basis: Vec<PyramidBasis> = Vec::new();
    for (field, level) in levels {
        match basis.iter_mut().find(|b| b.field == field) {
            Some(known) => known.level = known.level.min(level),
            None => basis.push(PyramidBasis {
                field: field.to_string(),
                level,
            }),
        }
    }
    let level = basis
        .iter()
        .map(|b| b.level)
        .min()
        .unwrap_or(PyramidLevel::Ttp);
    Pyramid { level, basis }
}

/// Field names that say nothing about the attacker.
const NEUTRAL: &[&str] = &[
    "eventid",
    "channel",
    "provider_name",
    "provider",
    "logontype",
    "keywords_",
    "level",
    "task",
    "opcode",
    "status",
    "accessmask",
    "accesses",
    "objecttype",
    "authenticationpackagename",
    "logonprocessname",
    "service",
    "category",
];

/// Classifies matched fields; `tools` holds lower-case ATT&CK software names and aliases.
pub struct PyramidClassifier {
    tools: HashSet<String>,
}

impl PyramidClassifier {
    /// A classifier knowing these tool names (any case).
    pub fn new(tools: impl IntoIterator<Item = String>) -> Self {
        PyramidClassifier {
            tools: tools
                .into_iter()
                .map(|t| t.trim().to_lowercase())
                .filter(|t| t.len() >= 3)
                .collect(),
        }
    }

    /// The level of one matched field, or `None` for a neutral field.
    pub fn field_level(&self, field: &str, value: &str) -> Option<PyramidLevel> {
        let name = field.to_ascii_lowercase();
        if NEUTRAL.contains(&name.as_str()) || name == "keywords" {
            return None;
        }
        let level = match name.as_str() {
            "hashes" | "hash" | "md5" | "sha1" | "sha256" | "imphash" => PyramidLevel::HashValue,
            n if n.ends_with("hash") => PyramidLevel::HashValue,
            "destinationip" | "sourceip" | "ipaddress" | "clientaddress" | "c-ip" | "s-ip"
            | "dst_ip" | "src_ip" => PyramidLevel::IpAddress,
            n if n.ends_with("ip") && !n.ends_with("ship") => PyramidLevel::IpAddress,
            "queryname"
            | "destinationhostname"
            | "cs-host"
            | "r-dns"
            | "query"
            | "domain"
            | "dns_query" => PyramidLevel::DomainName,
            "destinationport" | "sourceport" | "useragent" | "cs-user-agent" | "c-useragent"
            | "c-uri" | "cs-uri" | "cs-uri-query" | "cs-uri-stem" | "uri" => {
                PyramidLevel::NetworkArtifact
            }
            "targetobject" | "details" | "pipename" | "targetfilename" | "imageloaded"
            | "servicename" | "servicefilename" | "imagepath" | "objectname" | "sharename"
            | "relativetargetname" | "sourcefilename" | "filename" => PyramidLevel::HostArtifact,
            "image" | "originalfilename" | "parentimage" | "product" | "sourceimage"
            | "targetimage" => {
                if self.is_tool(value) {
                    PyramidLevel::Tool
                } else {
                    PyramidLevel::Ttp
                }
            }
            _ => PyramidLevel::Ttp,
        };
        Some(level)
    }

    /// Whether a file path or name names known attacker software.
    pub fn is_tool(&self, value: &str) -> bool {
        let file = value
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or(value)
            .to_lowercase();
        let stem = file.rsplit_once('.').map(|(s, _)| s).unwrap_or(&file);
        let stem = stem
            .strip_suffix("64")
            .or_else(|| stem.strip_suffix("32"))
            .unwrap_or(stem);
        self.tools.contains(stem) || self.tools.contains(&file)
    }

    /// The pyramid level of an alert's matched fields (see the module documentation).
    pub fn classify<'a>(&self, matched: impl IntoIterator<Item = (&'a str, &'a str)>) -> Pyramid {
        lowest(matched.into_iter().filter_map(|(field, value)| {
            self.field_level(field, value).map(|level| (field, level))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_indicator_decides() {
        let classifier = PyramidClassifier::new(["PsExec".to_string(), "Mimikatz".into()]);
        let level = |fields: &[(&str, &str)]| classifier.classify(fields.iter().copied()).level;
        assert_eq!(
            level(&[("Hashes", "MD5=00"), ("CommandLine", "x")]),
            PyramidLevel::HashValue
        );
        assert_eq!(
            level(&[("DestinationIp", "10.0.0.1")]),
            PyramidLevel::IpAddress
        );
        assert_eq!(
            level(&[("QueryName", "evil.example")]),
            PyramidLevel::DomainName
        );
        assert_eq!(
            level(&[("PipeName", "\\PSEXESVC")]),
            PyramidLevel::HostArtifact
        );
        assert_eq!(
            level(&[("Image", "C:\\t\\PsExec64.exe")]),
            PyramidLevel::Tool
        );
        assert_eq!(
            level(&[("Image", "C:\\Windows\\rundll32.exe")]),
            PyramidLevel::Ttp
        );
        assert_eq!(level(&[("EventID", "4624")]), PyramidLevel::Ttp);
        assert_eq!(level(&[]), PyramidLevel::Ttp);
    }
}
