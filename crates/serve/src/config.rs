//! What a service is started with. The command line fills it; tests build it directly.

use rampart_correlate::KillChain;
use rampart_event::Level;
use rampart_sigma::LoadOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything `rampart serve` needs to start.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (port 0: any free port; [`crate::Server::local_addr`] says
    /// which).
    pub listen: SocketAddr,
    /// The SQLite store alerts are committed to.
    pub store: PathBuf,
    /// Where the rules come from (read again on every reload).
    pub rules: RuleSource,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// How far behind the newest event time an event may arrive and still be fed to
    /// correlation windows.
    pub allowed_lateness: Duration,
    /// Keep every field of the event with each alert, not only its context fields.
    pub full_event: bool,
    /// Tactic order for incident scores (empty: incidents still group, without reach).
    pub kill_chain: KillChain,
    /// Sizes and times that bound what one client can cost.
    pub limits: Limits,
    /// Worker threads for detection (0: one per core).
    pub threads: usize,
    /// Folders whose dropped and growing files are read (EVTX, JSON lines).
    pub watch: Vec<PathBuf>,
    /// Address for syslog over TCP and UDP.
    pub syslog: Option<SocketAddr>,
    /// The knowledge graph (ATT&CK, D3FEND, ENGAGE), loaded once by the caller: it
    /// answers `/api/v1/attack/{id}` and ranks incidents' likely next techniques.
    /// Without it those answers are 503 and incidents have no `likely_next`.
    pub knowledge: Option<Arc<rampart_knowledge::Knowledge>>,
    /// Automatic response: playbooks matched against new alerts and incidents, their
    /// runs sent by a runner inside the service. `None`: no response.
    pub respond: Option<crate::respond::RespondSetup>,
}

impl ServeConfig {
    /// A configuration with default limits, listening on `listen`.
    pub fn new(listen: SocketAddr, store: PathBuf, rules: RuleSource) -> Self {
        ServeConfig {
            listen,
            store,
            rules,
            tls: None,
            allowed_lateness: Duration::from_secs(60),
            full_event: false,
            kill_chain: KillChain::default(),
            limits: Limits::default(),
            threads: 0,
            watch: Vec::new(),
            syslog: None,
            knowledge: None,
            respond: None,
        }
    }
}

/// The rule folders and how they are loaded; kept so that a reload reads them again.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// Sigma rule files and folders.
    pub paths: Vec<PathBuf>,
    /// Placeholder values and link following.
    pub options: LoadOptions,
    /// Only rules of this level or above run.
    pub min_level: Level,
    /// Extra logsource mappings (YAML, the format of the built-in map).
    pub logsource: Option<PathBuf>,
    /// The tuning folder: suppressions (Sigma filters) written through the API go
    /// there, and it is loaded with `paths` whenever it exists.
    pub tuning: Option<PathBuf>,
    /// Threat-intelligence feeds (any format `hunt --intel` reads), read again with
    /// every load of the rules and matched beside them.
    pub intel: Vec<PathBuf>,
    /// The store whose active indicators (`rampart intel import`) are matched too,
    /// read again with every load of the rules.
    pub intel_store: Option<PathBuf>,
}

impl Default for RuleSource {
    /// No paths, no placeholders, every level.
    fn default() -> Self {
        RuleSource {
            paths: Vec::new(),
            options: LoadOptions::default(),
            min_level: Level::Informational,
            logsource: None,
            tuning: None,
            intel: Vec::new(),
            intel_store: None,
        }
    }
}

/// A PEM certificate chain and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// Bounds on what one request and the queue may hold.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body accepted, as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Largest body after gzip decoding: a small compressed body cannot become an
    /// unbounded one.
    pub max_decoded_bytes: usize,
    /// Longest JSON line (or `_bulk` document) kept; longer ones are rejected lines.
    pub max_line_bytes: usize,
    /// Events admitted and not yet committed; past it new batches get 429.
    pub queue_events: usize,
    /// A request that takes longer than this is answered 408 (its events, once
    /// admitted, are still processed).
    pub request_timeout: Duration,
    /// How long a verified token is trusted before it is looked up again (to note its
    /// last use). A revocation ends the trust at once, whatever this says: every
    /// request checks the store's token generation.
    pub token_cache: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 64 << 20,
            max_decoded_bytes: 256 << 20,
            max_line_bytes: 1 << 20,
            queue_events: 200_000,
            request_timeout: Duration::from_secs(60),
            token_cache: Duration::from_secs(10),
        }
    }
}
