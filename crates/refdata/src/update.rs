//! `update`: downloading MITRE's published files into the data directory.
//!
//! The official locations are ATT&CK's `attack-stix-data` repository (one bundle per
//! domain, optionally pinned to a version), D3FEND's published Turtle ontology and
//! ENGAGE's JSON folder in the `mitre/engage` repository. A mirror can replace them all
//! ([`UpdateOptions::base_url`]): it must be laid out like a Rampart data directory
//! (`mitre-attack/enterprise-attack-18.1.json`, `mitre-d3fend/d3fend.ttl`,
//! `mitre-engage/attack_mapping.json`, …), which is also how tests serve local files.
//!
//! Each file is downloaded, checked and installed on its own (see [`crate::install`]);
//! one failure is reported and the others go on.

use crate::discover::AttackDomain;
use crate::install::{folder_of, install, temp_in, Failure, Installed};
use crate::open::{ExpansionLimit, DEFAULT_MAX_EXPANDED};
use crate::verify::DataKind;
use crate::RefdataError;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

const ATTACK_BASE: &str = "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master";
const D3FEND_BASE: &str = "https://d3fend.mitre.org/ontologies";
const ENGAGE_BASE: &str = "https://raw.githubusercontent.com/mitre/engage/main/Data/json";

/// ENGAGE's published JSON files, all downloaded so that the folder stays complete.
pub const ENGAGE_FILES: &[&str] = &[
    "goals.json",
    "goal_details.json",
    "approaches.json",
    "approach_details.json",
    "activities.json",
    "activity_details.json",
    "goal_approach_mappings.json",
    "approach_activity_mappings.json",
    "approach_matrix.json",
    "attack_mapping.json",
    "attack_tactics_techniques.json",
    "references.json",
];

/// A family of files `update` can fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceGroup {
    /// The three ATT&CK bundles.
    Attack,
    /// The D3FEND ontology.
    D3fend,
    /// ENGAGE's JSON files.
    Engage,
}

/// What `update` fetches and from where.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    /// The ATT&CK version to fetch (e.g. `18.1`); the latest release when `None`.
    pub attack_version: Option<String>,
    /// A mirror replacing MITRE's locations, laid out like a data directory.
    pub base_url: Option<String>,
    /// The families to fetch; all of them when empty.
    pub only: Vec<SourceGroup>,
    /// The most bytes one file may take, downloaded and once decompressed;
    /// [`DEFAULT_MAX_EXPANDED`] when `None`. A server that sends more is cut off.
    pub max_expanded: Option<u64>,
}

/// Progress of `update`, reported as it happens (the CLI draws it as a progress bar).
#[derive(Debug)]
pub enum Progress<'a> {
    /// A download starts; `total` is its size when the server says it.
    Started {
        /// The URL.
        url: &'a str,
        /// Expected size in bytes.
        total: Option<u64>,
    },
    /// More bytes arrived (running total).
    Downloaded {
        /// The URL.
        url: &'a str,
        /// Bytes received so far.
        bytes: u64,
    },
    /// The download is complete and is being checked.
    Verifying {
        /// The URL.
        url: &'a str,
    },
    /// The file is in place.
    Installed(&'a Installed),
    /// The file could not be fetched or failed its check; the old file is untouched.
    Failed(&'a Failure),
}

/// What `update` did.
#[derive(Debug, Default)]
pub struct UpdateReport {
    /// Files now in place.
    pub installed: Vec<Installed>,
    /// Files that failed; for each, the previous file (if any) is unchanged.
    pub failed: Vec<Failure>,
}

/// One file to fetch.
struct Download {
    kind: DataKind,
    url: String,
    name: String,
}

fn plan(options: &UpdateOptions) -> Vec<Download> {
    let wants = |group| options.only.is_empty() || options.only.contains(&group);
    let mirror = options.base_url.as_deref().map(|b| b.trim_end_matches('/'));
    let url = |official_base: &str, official_path: String, kind: DataKind, name: &str| match mirror
    {
        Some(base) => format!("{base}/{}/{name}", folder_of(kind)),
        None => format!("{official_base}/{official_path}"),
    };
    let mut downloads = Vec::new();
    if wants(SourceGroup::Attack) {
        for domain in AttackDomain::ALL {
            let stem = domain.file_stem();
            let name = match &options.attack_version {
                Some(version) => format!("{stem}-{version}.json"),
                None => format!("{stem}.json"),
            };
            let kind = DataKind::Attack(domain);
            downloads.push(Download {
                kind,
                url: url(ATTACK_BASE, format!("{stem}/{name}"), kind, &name),
                name,
            });
        }
    }
    if wants(SourceGroup::D3fend) {
        let kind = DataKind::D3fendTurtle;
        downloads.push(Download {
            kind,
            url: url(D3FEND_BASE, "d3fend.ttl".to_owned(), kind, "d3fend.ttl"),
            name: "d3fend.ttl".to_owned(),
        });
    }
    if wants(SourceGroup::Engage) {
        for file in ENGAGE_FILES {
            let kind = DataKind::EngageJson;
            downloads.push(Download {
                kind,
                url: url(ENGAGE_BASE, (*file).to_owned(), kind, file),
                name: (*file).to_owned(),
            });
        }
    }
    downloads
}

/// The URLs `update` would fetch with these options, in order.
pub fn update_urls(options: &UpdateOptions) -> Vec<String> {
    plan(options).into_iter().map(|d| d.url).collect()
}

/// Downloads, checks and installs MITRE's files into `data_dir` (created if missing).
pub fn update(
    data_dir: &Path,
    options: &UpdateOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> UpdateReport {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(120))
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .build();
    let max_bytes = options.max_expanded.unwrap_or(DEFAULT_MAX_EXPANDED);
    let limit = ExpansionLimit::new(max_bytes, u64::MAX);
    let mut report = UpdateReport::default();
    for download in plan(options) {
        let folder = data_dir.join(folder_of(download.kind));
        let result = fetch(&agent, &download, &folder, max_bytes, progress).and_then(|temp| {
            progress(Progress::Verifying { url: &download.url });
            install(
                download.kind,
                temp,
                &download.name,
                options.attack_version.as_deref(),
                download.url.clone(),
                &limit,
            )
        });
        match result {
            Ok(installed) => {
                progress(Progress::Installed(&installed));
                report.installed.push(installed);
            }
            Err(error) => {
                let failure = Failure {
                    source: download.url.clone(),
                    error,
                };
                progress(Progress::Failed(&failure));
                report.failed.push(failure);
            }
        }
    }
    report
}

/// Streams one download into a temporary file beside its destination.
fn fetch(
    agent: &ureq::Agent,
    download: &Download,
    folder: &Path,
    max_bytes: u64,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<tempfile::NamedTempFile, RefdataError> {
    let url = download.url.as_str();
    let failed = |reason: String| RefdataError::Download {
        url: url.to_owned(),
        reason,
    };
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Status(code, response) => {
            failed(format!("HTTP {code} {}", response.status_text()))
        }
        // The transport error's own text repeats the URL; keep only what went wrong.
        ureq::Error::Transport(transport) => {
            let mut reason = transport.kind().to_string();
            if let Some(message) = transport.message() {
                reason = format!("{reason}: {message}");
            }
            if let Some(source) = std::error::Error::source(&transport) {
                reason = format!("{reason}: {source}");
            }
            failed(reason)
        }
    })?;
    let total = response
        .header("Content-Length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    progress(Progress::Started { url, total });
    let mut temp = temp_in(folder)?;
    let mut body = response.into_reader();
    let mut buffer = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = body
            .read(&mut buffer)
            .map_err(|e| failed(format!("connection lost after {received} bytes: {e}")))?;
        if n == 0 {
            break;
        }
        temp.write_all(&buffer[..n])
            .map_err(|e| RefdataError::io(temp.path(), e))?;
        received += n as u64;
        // A server that never stops sending must not fill the disk.
        if received > max_bytes {
            return Err(failed(format!(
                "body exceeds {max_bytes} bytes, the limit per file (--max-expanded)"
            )));
        }
        progress(Progress::Downloaded {
            url,
            bytes: received,
        });
    }
    if let Some(total) = total {
        if received != total {
            return Err(failed(format!(
                "body ended after {received} of {total} bytes"
            )));
        }
    }
    temp.flush().map_err(|e| RefdataError::io(temp.path(), e))?;
    Ok(temp)
}
