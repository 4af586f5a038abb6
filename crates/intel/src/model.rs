//! The indicator model every reader produces and every consumer (store, matcher, CLI,
//! service) speaks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an observable's value is, and so which event fields it is looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObservableKind {
    /// MD5 digest, 32 lower-case hex digits.
    Md5,
    /// SHA-1 digest, 40 lower-case hex digits.
    Sha1,
    /// SHA-256 digest, 64 lower-case hex digits.
    Sha256,
    /// SHA-512 digest, 128 lower-case hex digits.
    Sha512,
    /// PE import hash (MD5 of the import table), 32 lower-case hex digits.
    Imphash,
    /// An IPv4 or IPv6 address (`203.0.113.7`, `2001:db8::1`) or network in CIDR
    /// notation (`203.0.113.0/24`), in canonical form: no prefix for a single address,
    /// host bits cleared for a network, IPv6 compressed and lower-case.
    Ip,
    /// A domain name, lower-case, without a trailing dot; matches the domain and its
    /// subdomains.
    Domain,
    /// A URL with scheme and host lower-cased; matched as written otherwise.
    Url,
    /// An e-mail address, lower-case.
    Email,
    /// A file's base name (`evil.dll`), matched case-insensitively.
    FileName,
    /// A Windows registry key path with the hive written out
    /// (`HKEY_LOCAL_MACHINE\...`), matched case-insensitively.
    RegistryKey,
    /// A process command line, matched whole (after trimming), case-insensitively.
    CommandLine,
}

impl ObservableKind {
    /// Every kind, in declaration order.
    pub const ALL: [ObservableKind; 12] = [
        ObservableKind::Md5,
        ObservableKind::Sha1,
        ObservableKind::Sha256,
        ObservableKind::Sha512,
        ObservableKind::Imphash,
        ObservableKind::Ip,
        ObservableKind::Domain,
        ObservableKind::Url,
        ObservableKind::Email,
        ObservableKind::FileName,
        ObservableKind::RegistryKey,
        ObservableKind::CommandLine,
    ];

    /// The kind's name as written in JSON, the store and the command line (`sha256`,
    /// `ip`, `file-name`).
    pub fn name(self) -> &'static str {
        match self {
            ObservableKind::Md5 => "md5",
            ObservableKind::Sha1 => "sha1",
            ObservableKind::Sha256 => "sha256",
            ObservableKind::Sha512 => "sha512",
            ObservableKind::Imphash => "imphash",
            ObservableKind::Ip => "ip",
            ObservableKind::Domain => "domain",
            ObservableKind::Url => "url",
            ObservableKind::Email => "email",
            ObservableKind::FileName => "file-name",
            ObservableKind::RegistryKey => "registry-key",
            ObservableKind::CommandLine => "command-line",
        }
    }

    /// The kind named `name` (as [`ObservableKind::name`] writes it).
    pub fn from_name(name: &str) -> Option<ObservableKind> {
        ObservableKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

/// One thing to look for in an event: a kind and its normalised value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Observable {
    /// What the value is.
    pub kind: ObservableKind,
    /// The value, normalised for its kind (see [`ObservableKind`]): refanged,
    /// lower-cased where the kind is case-insensitive.
    pub value: String,
}

/// An indicator of compromise: observables that, seen together in one event, point at
/// an attack, with what the intelligence says about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Stable id: the feed's own id (STIX `indicator--…`, MISP attribute UUID), or for
    /// feeds without ids a digest of source, kind and value. Re-importing a feed updates
    /// indicators by this id.
    pub id: String,
    /// Where it came from (`stix:<file name>`, `misp:<event uuid>`, `taxii:<collection
    /// url>`, `list:<file name>`); an import replaces or updates one source at a time.
    pub source: String,
    /// Every observable must hold in the same event (a STIX `AND` inside one
    /// observation); most indicators have exactly one.
    pub all_of: Vec<Observable>,
    /// Short name or title, when the feed gives one.
    #[serde(default)]
    pub name: Option<String>,
    /// Longer description or comment, when the feed gives one.
    #[serde(default)]
    pub description: Option<String>,
    /// Confidence 0–100 (STIX `confidence`; MISP has none: its threat level maps to it).
    #[serde(default)]
    pub confidence: Option<u8>,
    /// Labels / tags, as written.
    #[serde(default)]
    pub labels: Vec<String>,
    /// From when the indicator is valid.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// Until when it is valid; past it, it no longer matches.
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
    /// When the feed first saw it.
    #[serde(default)]
    pub first_seen: Option<DateTime<Utc>>,
    /// When the feed last saw it.
    #[serde(default)]
    pub last_seen: Option<DateTime<Utc>>,
    /// Whether it is meant for detection: MISP's `to_ids`; false keeps it for context,
    /// search and retro-hunts, never for alerts.
    pub detect: bool,
    /// What it indicates.
    #[serde(default)]
    pub context: IntelContext,
}

/// What the intelligence says an indicator points at, names and ids as the feed gives
/// them (joined to ATT&CK later, where they match).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelContext {
    /// Intrusion sets / threat actors (`APT 29`).
    #[serde(default)]
    pub actors: Vec<String>,
    /// Malware and tools (`PolyglotDuke`).
    #[serde(default)]
    pub malware: Vec<String>,
    /// ATT&CK ids the feed names (`T1086`, `G0016`, `S0154`), possibly revoked since.
    #[serde(default)]
    pub attack_ids: Vec<String>,
    /// Reports, campaigns or MISP event titles it comes from.
    #[serde(default)]
    pub reports: Vec<String>,
}

/// What kind of thing an [`Entity`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntityKind {
    /// STIX `intrusion-set`, MISP threat-actor / intrusion-set galaxy.
    IntrusionSet,
    /// STIX `threat-actor`.
    ThreatActor,
    /// STIX `malware`, MISP malware / ATT&CK malware galaxies.
    Malware,
    /// STIX `tool`, MISP ATT&CK tool galaxy.
    Tool,
    /// STIX `attack-pattern`, MISP ATT&CK attack-pattern galaxies.
    AttackPattern,
    /// STIX `campaign`.
    Campaign,
}

/// An actor, malware, tool, technique or campaign a feed describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// The feed's id for it (STIX id, MISP galaxy cluster UUID).
    pub id: String,
    /// Its kind.
    pub kind: EntityKind,
    /// Its name, as written.
    pub name: String,
    /// Other names, as written.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// ATT&CK ids the feed gives it (external references `mitre-attack`, galaxy
    /// values such as `... - T1086`).
    #[serde(default)]
    pub attack_ids: Vec<String>,
}

/// What kind of problem a [`Diagnostic`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticKind {
    /// Not valid JSON / CSV / STIX, or a required part missing.
    Malformed,
    /// A STIX pattern with a syntax error.
    PatternSyntax,
    /// A valid STIX pattern Rampart cannot evaluate (qualifiers, `FOLLOWEDBY`, an object
    /// path it does not map): the whole indicator is left out, never half applied.
    UnsupportedPattern,
    /// A MISP attribute type or list entry that is no indicator kind Rampart knows.
    UnsupportedType,
    /// A value that is not valid for its kind (a 31-digit MD5, `999.1.1.1`).
    InvalidValue,
    /// A limit reached (file size, object count); what is past it is left out.
    Limit,
}

/// Something a reader left out or could not read, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Its kind.
    pub kind: DiagnosticKind,
    /// Where: file, and line or object id / attribute UUID when known.
    pub location: String,
    /// What was wrong (attacker text in it is shown escaped by whoever prints it).
    pub message: String,
}

/// One feed as read: its indicators, the entities they point at, and diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    /// The source name every indicator carries.
    pub source: String,
    /// Indicators read.
    pub indicators: Vec<Indicator>,
    /// Entities read.
    pub entities: Vec<Entity>,
    /// What was left out, and why.
    pub diagnostics: Vec<Diagnostic>,
}
