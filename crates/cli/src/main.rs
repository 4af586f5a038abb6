//! The `rampart` binary: command-line flags, logging and wiring, nothing else.
//!
//! Every subcommand lives in its own module under `cmd/`, owns its clap arguments and
//! returns an exit code; the work itself is done by the library crates.

mod cmd;
mod global;

use clap::{Parser, Subcommand};
use global::GlobalOpts;
use rampart_event::terminal::escape_keeping_newlines;
use std::process::ExitCode;

// The hunt allocates many short-lived strings per event on several threads; glibc's
// allocator was the largest item left in the JSON-lines profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Threat-informed detection and response: ATT&CK, D3FEND and ENGAGE made operational.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reference data: what is installed, updating and importing it.
    Data(cmd::data::DataArgs),
    /// ATT&CK (and D3FEND) objects: show, search, list.
    Attack(cmd::attack::AttackArgs),
    /// Threat groups (intrusion sets) and what they use.
    Group(cmd::group::GroupArgs),
    /// Sigma rules: check, lint, run the regression suite.
    Sigma(cmd::sigma::SigmaArgs),
    /// Run Sigma rules over telemetry (EVTX, JSON lines) and report alerts.
    Hunt(cmd::hunt::HuntArgs),
    /// Alerts kept in the store.
    Alerts(cmd::alerts::AlertsArgs),
    /// Incidents: alerts grouped by host and time, in kill-chain order.
    Incidents(cmd::incidents::IncidentsArgs),
    /// Detection coverage: claimed, validated, gaps, Navigator layers, heatmap.
    Coverage(cmd::coverage::CoverageArgs),
    /// Run as a service: HTTP ingest, continuous detection, the REST API.
    Serve(cmd::serve::ServeArgs),
    /// API tokens of `rampart serve`: create, list, revoke.
    Token(cmd::token::TokenArgs),
    /// Threat intelligence: import feeds, list and join indicators to ATT&CK, allow-list.
    Intel(cmd::intel::IntelArgs),
    /// Response: lint playbooks, plan an incident's countermeasures, run playbooks,
    /// approve steps, the worker that sends them.
    Respond(cmd::respond::RespondArgs),
    /// The response audit: verify its hash chain, export it as JSON lines.
    Audit(cmd::audit::AuditArgs),
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    // Like other Unix filters, end quietly when the reader of stdout goes away
    // (`rampart … | head`) instead of panicking in `println!`. Not a hunt that stores
    // its alerts: the store must not depend on stdout, so that hunt sees the closed
    // pipe as a write error, stops its output, stores the rest and exits with 141.
    let survives_closed_stdout = match &cli.command {
        Command::Hunt(args) => cmd::hunt::survives_closed_stdout(args),
        _ => false,
    };
    if !survives_closed_stdout {
        sigpipe::reset();
    }
    global::init_logging(&cli.global);
    let result = match cli.command {
        Command::Data(args) => cmd::data::run(args, &cli.global),
        Command::Attack(args) => cmd::attack::run(args, &cli.global),
        Command::Group(args) => cmd::group::run(args, &cli.global),
        Command::Sigma(args) => cmd::sigma::run(args, &cli.global),
        Command::Hunt(args) => cmd::hunt::run(args, &cli.global),
        Command::Alerts(args) => cmd::alerts::run(args, &cli.global),
        Command::Incidents(args) => cmd::incidents::run(args, &cli.global),
        Command::Coverage(args) => cmd::coverage::run(args, &cli.global),
        Command::Serve(args) => cmd::serve::run(args, &cli.global),
        Command::Token(args) => cmd::token::run(args, &cli.global),
        Command::Intel(args) => cmd::intel::run(args, &cli.global),
        Command::Respond(args) => cmd::respond::run(args, &cli.global),
        Command::Audit(args) => cmd::audit::run(args, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            // Errors quote file names and input; lines they hold on purpose (a list of
            // failures) stay lines, anything else a terminal would act on is escaped.
            let message = rampart_event::error_chain(error.as_ref());
            eprintln!("error: {}", escape_keeping_newlines(&message));
            ExitCode::FAILURE
        }
    }
}

/// Opts the process out of transparent huge pages unless `RAMPART_HUGE_PAGES=1`.
/// The hunt frees each block of events as soon as it is scanned, and with huge pages
/// memory is taken and zeroed 2 MiB at a time: peak memory on the EVTX corpus falls
/// from about 147 to 95 MiB (114 rather than 183 MiB on large JSON lines). Huge pages
/// are faster (fewer TLB misses): about 20 % on the EVTX corpus, a few percent on
/// JSON lines; the variable gives that choice back.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    if std::env::var_os("RAMPART_HUGE_PAGES").is_some_and(|v| v == "1") {
        return;
    }
    // A refusal (an old kernel) leaves the default: nothing to report.
    let _ = nix::sys::prctl::set_thp_disable(true);
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}
