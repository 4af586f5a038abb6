//! `rampart serve`: glue over `rampart_serve` (flags → configuration, a runtime, the
//! signals); the service itself lives in the library.

use crate::cmd::hunt::rules;
use crate::cmd::hunt_store;
use crate::cmd::placeholders::PlaceholderArgs;
use crate::global::GlobalOpts;
use anyhow::Context;
use clap::Args;
use rampart_event::Level;
use rampart_serve::{RuleSource, ServeConfig, Server, TlsFiles};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `rampart serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "An ingest request is answered once its events' alerts are committed to \
    the store: an answered batch survives a crash; an unanswered one should be sent \
    again (alert ids come from the events, so nothing is stored twice). SIGHUP reloads \
    the rules; SIGTERM or Ctrl-C stops accepting, drains the queue, commits and exits 0."
)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the bound address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8700")]
    listen: SocketAddr,
    /// The store (SQLite, created if missing). Default: `rampart.db` in the data
    /// directory.
    #[arg(long, value_name = "DB")]
    store: Option<PathBuf>,
    /// Sigma rule files or folders. Default: the Sigma rule folders in the data directory.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Only run rules of this level or above.
    #[arg(long, value_name = "LEVEL", default_value = "informational")]
    min_level: Level,
    /// Extra logsource mappings (YAML, the format of the built-in map).
    #[arg(long, value_name = "FILE")]
    logsource: Option<PathBuf>,
    /// Threat-intelligence indicator files matched beside the rules (as `hunt
    /// --intel`), read again on every rule reload. The store's active indicators
    /// (`rampart intel import`) are matched and re-read the same way.
    #[arg(long = "intel", value_name = "FILE")]
    intel: Vec<PathBuf>,
    #[command(flatten)]
    placeholders: PlaceholderArgs,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// How far behind the newest event an event may arrive and still count in
    /// correlation windows (`90s`, `5m`).
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = parse_std_duration)]
    allowed_lateness: std::time::Duration,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    max_body_bytes: usize,
    /// Events admitted and not yet committed; past it senders get 429.
    #[arg(long, value_name = "N", default_value_t = 200_000)]
    queue_events: usize,
    /// Detection threads (0: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Keep every field of the event with each alert, not only its context fields.
    #[arg(long)]
    full_event: bool,
    /// Folders to watch: EVTX and JSON-lines files dropped in are read, JSON-lines
    /// files that grow are tailed (rotation followed); a restart resumes where the
    /// last commit left off.
    #[arg(long, value_name = "DIR")]
    watch: Vec<PathBuf>,
    /// Receive syslog (RFC 5424 and 3164) over TCP and UDP on this address.
    #[arg(long, value_name = "ADDR")]
    syslog: Option<SocketAddr>,
    /// Respond automatically: playbook files and folders matched against new alerts
    /// and new or grown incidents (read again with the rules on reload).
    #[arg(long, value_name = "DIR")]
    playbooks: Vec<PathBuf>,
    /// The connectors' configuration (YAML: secrets file, HTTP CA, SMTP relay, command
    /// allow-list) for the playbooks' steps.
    #[arg(long, value_name = "FILE", requires = "playbooks")]
    respond_config: Option<PathBuf>,
}

fn parse_std_duration(text: &str) -> Result<std::time::Duration, String> {
    let delta = crate::cmd::alerts::parse_duration(text)?;
    delta
        .to_std()
        .map_err(|_| format!("`{text}` is not a positive duration"))
}

/// Runs `rampart serve` until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let rule_paths = rules::rule_paths(args.rules.clone(), global)?;
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| hunt_store::default_store_path(global));
    let mut config = ServeConfig::new(
        args.listen,
        store.clone(),
        RuleSource {
            paths: rule_paths,
            options: args.placeholders.load_options()?,
            min_level: args.min_level,
            logsource: args.logsource.clone(),
            tuning: Some(crate::cmd::sigma::suppress::default_tuning_dir(global)),
            intel: args.intel.clone(),
            intel_store: Some(store),
        },
    );
    if let (Some(cert), Some(key)) = (args.tls_cert.clone(), args.tls_key.clone()) {
        config.tls = Some(TlsFiles { cert, key });
    }
    config.allowed_lateness = args.allowed_lateness;
    config.full_event = args.full_event;
    config.threads = args.threads;
    config.watch = args.watch.clone();
    config.syslog = args.syslog;
    config.limits.max_body_bytes = args.max_body_bytes;
    config.limits.queue_events = args.queue_events;
    if let Some(knowledge) = hunt_store::load_knowledge(global) {
        config.kill_chain = rampart_correlate::kill_chain_from(&knowledge);
        config.knowledge = Some(std::sync::Arc::new(knowledge));
    }
    if !args.playbooks.is_empty() {
        let connectors =
            rampart_respond::auto::connectors_from_file(args.respond_config.as_deref())
                .context("cannot set up the response connectors")?;
        config.respond = Some(rampart_serve::RespondSetup {
            playbooks: args.playbooks.clone(),
            actions: std::sync::Arc::new(connectors),
            pyramid: std::sync::Arc::new(rampart_respond::auto::pyramid_classifier(
                config.knowledge.as_deref(),
            )),
            // A short poll: a run created by the responder is picked up within it (the
            // alert-to-first-request latency), at one small query per poll when idle.
            runner: rampart_respond::engine::RunnerConfig {
                poll: std::time::Duration::from_millis(100),
                ..Default::default()
            },
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rampart-serve")
        .build()
        .context("cannot start the service's runtime")?;
    runtime.block_on(async move {
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let server = Server::bind(config).await?;
        // Tests and scripts read the bound address from this line.
        eprintln!(
            "rampart serve listening on {scheme}://{}",
            server.local_addr()
        );
        let shutdown = rampart_serve::server::signals(server.state().clone());
        server.serve(shutdown).await?;
        eprintln!("rampart serve stopped: every admitted event is committed");
        Ok(ExitCode::SUCCESS)
    })
}
