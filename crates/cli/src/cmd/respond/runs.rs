//! `rampart respond run|runs|show|approve|reject|cancel|compensate|worker`: playbook
//! runs in the store. `run` creates a run (a dry run records what each step would
//! send and sends nothing); `worker` sends the steps of live runs until it is told to
//! stop (SIGTERM or SIGINT: it finishes the sends in flight, records them and exits)
//! and resumes, when started again, every run a killed worker left unfinished.

use crate::cmd::alerts::StoreArg;
use crate::global::GlobalOpts;
use anyhow::Context;
use clap::Args;
use rampart_event::terminal::{escape_keeping_newlines, Escaped};
use rampart_respond::action::{ConnectorConfig, Connectors};
use rampart_respond::engine::{self, RunRequest, Runner, RunnerConfig};
use rampart_respond::playbook::Playbook;
use rampart_store::{
    Decision, OpenOptions, ResponseRunDetail, ResponseRunId, ResponseRunQuery, ResponseRunState,
    Role, RunMode, SqliteStore, Store,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// `respond run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A playbook file, or the id of a playbook in `--playbooks`.
    #[arg(value_name = "PLAYBOOK")]
    playbook: String,
    /// The incident to respond to.
    #[arg(long, value_name = "ID")]
    incident: String,
    /// Prepare every step and record the requests (secrets redacted); send nothing.
    #[arg(long)]
    dry_run: bool,
    /// The folder of playbooks a playbook id is looked up in.
    #[arg(long, value_name = "DIR")]
    playbooks: Option<PathBuf>,
    /// The responder's configuration (YAML): secrets file, TLS trust, SMTP relay,
    /// command allow-list.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Who starts the run (recorded in the audit). Default: `$USER`.
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// The run (and, for a dry run, every request) as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// `respond runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only runs in this state (running, awaiting_approval, succeeded, failed,
    /// rejected, cancelled, compensating, compensated, compensation_failed, previewed).
    #[arg(long, value_name = "STATE", value_parser = |s: &str| s.parse::<ResponseRunState>())]
    state: Option<ResponseRunState>,
    /// At most this many, newest first.
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: usize,
    /// One JSON object per run per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// `respond show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run id.
    #[arg(value_name = "RUN")]
    run: ResponseRunId,
    /// The run, its playbook snapshot, steps and decisions, and its audit entries, as
    /// one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// `respond approve` and `respond reject`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The run id.
    #[arg(value_name = "RUN")]
    run: ResponseRunId,
    /// The step: its position (`respond show` lists them) or its playbook id.
    #[arg(value_name = "STEP")]
    step: String,
    /// Who decides (recorded with the decision and in the audit). Default: `$USER`.
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    #[command(flatten)]
    store: StoreArg,
}

/// `respond cancel` and `respond compensate`.
#[derive(Debug, Args)]
pub struct RunIdArgs {
    /// The run id.
    #[arg(value_name = "RUN")]
    run: ResponseRunId,
    /// Who acts (recorded in the audit). Default: `$USER`.
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Why (cancel).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// The responder's configuration (compensate prepares the undoing steps).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

/// `respond worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The responder's configuration (YAML).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Sending threads.
    #[arg(long, value_name = "N", default_value_t = 16)]
    workers: usize,
    /// Most sends in flight to one target (`scheme://host:port`, SMTP relay,
    /// program) at a time.
    #[arg(long, value_name = "N", default_value_t = 4)]
    per_target: usize,
    /// How often to look for new runs and decisions, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    poll_ms: u64,
    /// Exit when nothing is due, in flight or waiting for a timed approval.
    #[arg(long)]
    until_idle: bool,
    #[command(flatten)]
    store: StoreArg,
}

fn actor(by: Option<String>) -> anyhow::Result<String> {
    by.or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("no actor: pass --by NAME (USER is not set)"))
}

fn open_write(store: &StoreArg, global: &GlobalOpts) -> anyhow::Result<SqliteStore> {
    Ok(SqliteStore::open(&store.path(global))?)
}

fn open_read(store: &StoreArg, global: &GlobalOpts) -> anyhow::Result<SqliteStore> {
    Ok(SqliteStore::open_with(
        &store.path(global),
        &OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        },
    )?)
}

/// The connectors of a configuration file (none: the defaults: TLS verified, no
/// SMTP relay, no allowed program, secrets from the environment).
pub fn connectors(config: Option<&Path>) -> anyhow::Result<Arc<Connectors>> {
    let config: ConnectorConfig = match config {
        None => ConnectorConfig::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_yaml::from_str(&text)
                .with_context(|| format!("{} is not a responder configuration", path.display()))?
        }
    };
    Ok(Arc::new(Connectors::from_config(config)?))
}

/// A playbook file, or the playbook with that id in `dir`.
fn load_playbook(name: &str, dir: Option<&Path>) -> anyhow::Result<Playbook> {
    let path = Path::new(name);
    if path.is_file() {
        return read_playbook(path);
    }
    let Some(dir) = dir else {
        anyhow::bail!("no playbook file {name:?}; to name a playbook by id, pass --playbooks DIR");
    };
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let yaml = path.extension().is_some_and(|e| e == "yml" || e == "yaml");
        if !yaml {
            continue;
        }
        if let Ok(playbook) = read_playbook(&path) {
            if playbook.id == name {
                return Ok(playbook);
            }
        }
    }
    anyhow::bail!("no playbook with id {name:?} in {}", dir.display())
}

fn read_playbook(path: &Path) -> anyhow::Result<Playbook> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value =
        serde_yaml::from_str(&text).with_context(|| format!("{} is not YAML", path.display()))?;
    serde_json::from_value(value).with_context(|| format!("{} is not a playbook", path.display()))
}

/// Runs `respond run`.
pub fn run(args: RunArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let playbook = load_playbook(&args.playbook, args.playbooks.as_deref())?;
    let actions = connectors(args.config.as_deref())?;
    let mut store = open_write(&args.store, global)?;
    let incident = store
        .incident(&args.incident)?
        .ok_or_else(|| anyhow::anyhow!("no incident {} in the store", Escaped(&args.incident)))?;
    let inputs = incident_inputs(&playbook, &incident);
    let by = actor(args.by)?;
    let mode = if args.dry_run {
        RunMode::DryRun
    } else {
        RunMode::Live
    };
    let request = RunRequest {
        playbook: &playbook,
        subject_kind: "incident",
        subject_id: &incident.id,
        inputs: &inputs,
        mode,
        started_by: &by,
    };
    let run = engine::start_run(&mut store, &request, &*actions)?;
    let detail = store
        .response_run(run)?
        .ok_or_else(|| anyhow::anyhow!("run {run} vanished"))?;
    if args.json {
        println!("{}", serde_json::to_string(&detail)?);
    } else {
        let mut out = std::io::stdout().lock();
        if args.dry_run {
            for step in &detail.steps {
                writeln!(
                    out,
                    "# step {} {} ({})",
                    step.index,
                    Escaped(&step.step_id),
                    Escaped(&step.d3fend)
                )?;
                match serde_json::from_value(step.request.clone()) {
                    Ok(request) => writeln!(
                        out,
                        "{}",
                        escape_keeping_newlines(&actions.dry_run(&request))
                    )?,
                    Err(_) => writeln!(out, "{}", Escaped(&step.request.to_string()))?,
                }
            }
        }
        writeln!(
            out,
            "run {run}: playbook {} for incident {}, {} step(s), {}",
            Escaped(&playbook.id),
            Escaped(&incident.id),
            detail.steps.len(),
            detail.run.state
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The playbook's inputs from an incident: its host (the other kinds of input come
/// with the playbook loader's extraction).
fn incident_inputs(
    playbook: &Playbook,
    incident: &rampart_correlate::Incident,
) -> BTreeMap<String, Vec<String>> {
    playbook
        .inputs
        .iter()
        .map(|(name, spec)| {
            let values = match spec.from.as_str() {
                "host" => vec![incident.host.clone()],
                _ => Vec::new(),
            };
            (name.clone(), values)
        })
        .collect()
}

/// Runs `respond runs`.
pub fn runs(args: RunsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = open_read(&args.store, global)?;
    let runs = store.response_runs(&ResponseRunQuery {
        state: args.state,
        unfinished: false,
        limit: Some(args.limit),
    })?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for run in &runs {
        if args.json {
            serde_json::to_writer(&mut out, run)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{:>6}  {:<19}  {:<20}  {:<7}  {}  {} {}  by {}",
                run.id,
                run.created_at.format("%Y-%m-%d %H:%M:%S"),
                run.state.as_str(),
                run.mode.as_str(),
                Escaped(&run.playbook_id),
                Escaped(&run.subject_kind),
                Escaped(&run.subject_id),
                Escaped(&run.started_by)
            )?;
        }
    }
    out.flush()?;
    if !args.json {
        eprintln!("{} run(s)", runs.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `respond show`.
pub fn show(args: ShowArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = open_read(&args.store, global)?;
    let detail = store
        .response_run(args.run)?
        .ok_or_else(|| anyhow::anyhow!("no response run {} in the store", args.run))?;
    let audit = store.audit_chain_of(&format!("run {}", args.run), 10_000)?;
    if args.json {
        let value = serde_json::json!({ "run": detail.run, "playbook": detail.playbook,
            "steps": detail.steps, "approvals": detail.approvals, "audit": audit });
        println!("{value}");
        return Ok(ExitCode::SUCCESS);
    }
    print_detail(&detail, &audit)?;
    Ok(ExitCode::SUCCESS)
}

fn print_detail(
    detail: &ResponseRunDetail,
    audit: &[rampart_store::ChainEntry],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let run = &detail.run;
    writeln!(
        out,
        "run {}  {}  {}  playbook {} (sha256 {})",
        run.id,
        run.state,
        run.mode,
        Escaped(&run.playbook_id),
        &run.playbook_digest.get(..12).unwrap_or_default()
    )?;
    writeln!(
        out,
        "  {} {}, started by {} at {}",
        Escaped(&run.subject_kind),
        Escaped(&run.subject_id),
        Escaped(&run.started_by),
        run.created_at.format("%Y-%m-%d %H:%M:%S")
    )?;
    writeln!(out, "  inputs {}", Escaped(&run.inputs.to_string()))?;
    for step in &detail.steps {
        writeln!(
            out,
            "  step {:>2}  {:<12} {:<17} {:<9} attempts {}  {}  {}",
            step.index,
            step.phase.as_str(),
            step.state.as_str(),
            Escaped(&step.d3fend),
            step.attempts,
            Escaped(&step.step_id),
            Escaped(&step.target)
        )?;
        if let Some(outcome) = &step.outcome {
            let summary = outcome
                .get("summary")
                .and_then(|s| s.as_str())
                .unwrap_or_default();
            writeln!(out, "           outcome: {}", Escaped(summary))?;
        }
        if let Some(at) = step.next_at {
            writeln!(out, "           next: {}", at.format("%Y-%m-%d %H:%M:%S"))?;
        }
    }
    for approval in &detail.approvals {
        writeln!(
            out,
            "  step {:>2}  {} by {} ({}) at {}{}",
            approval.index,
            approval.decision,
            Escaped(&approval.actor),
            approval.role,
            approval.at.format("%Y-%m-%d %H:%M:%S"),
            approval
                .reason
                .as_deref()
                .map(|r| format!(": {}", Escaped(r)))
                .unwrap_or_default()
        )?;
    }
    for entry in audit {
        writeln!(
            out,
            "  audit {:>6}  {}  {:<22}  {}  by {}",
            entry.seq,
            Escaped(&entry.at),
            Escaped(&entry.action),
            Escaped(&entry.subject),
            Escaped(&entry.actor)
        )?;
    }
    Ok(())
}

/// Runs `respond approve` (`decision` approve) or `respond reject`. The command line
/// decides with the admin role: whoever may write the store file may do anything the
/// service's tokens allow.
pub fn decide(
    args: DecideArgs,
    decision: Decision,
    global: &GlobalOpts,
) -> anyhow::Result<ExitCode> {
    let by = actor(args.by)?;
    let mut store = open_write(&args.store, global)?;
    let step = store.decide_response_step(
        args.run,
        &args.step,
        decision,
        &by,
        Role::Admin,
        args.reason.as_deref(),
    )?;
    eprintln!(
        "run {} step {} ({}): {} by {}; now {}",
        args.run,
        step.index,
        Escaped(&step.step_id),
        decision,
        Escaped(&by),
        step.state
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `respond cancel`.
pub fn cancel(args: RunIdArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let by = actor(args.by)?;
    let mut store = open_write(&args.store, global)?;
    let run = store.cancel_response_run(args.run, &by, args.reason.as_deref())?;
    eprintln!("run {} {}", run.id, run.state);
    Ok(ExitCode::SUCCESS)
}

/// Runs `respond compensate`.
pub fn compensate(args: RunIdArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let by = actor(args.by)?;
    let actions = connectors(args.config.as_deref())?;
    let mut store = open_write(&args.store, global)?;
    let added = engine::compensate(&mut store, args.run, &by, &*actions)?;
    eprintln!(
        "run {}: {added} compensating step(s) queued; `rampart respond worker` sends them",
        args.run
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `respond worker`.
pub fn worker(args: WorkerArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let actions = connectors(args.config.as_deref())?;
    let store = open_write(&args.store, global)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the stop signal handler")?;
    }
    let config = RunnerConfig {
        workers: args.workers.max(1),
        per_target: args.per_target.max(1),
        poll: Duration::from_millis(args.poll_ms.max(1)),
        exit_when_idle: args.until_idle,
    };
    let stats = Runner::new(store, actions, config).run(&stop)?;
    eprintln!(
        "worker stopped: {} sent ({} resumed after a stop), {} done, {} retried, {} failed, {} approvals timed out",
        stats.sent, stats.resumed, stats.done, stats.retried, stats.failed, stats.approvals_expired
    );
    Ok(ExitCode::SUCCESS)
}
