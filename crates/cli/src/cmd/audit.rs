//! `rampart audit`: verify and export the hash-chained audit of response decisions.
//!
//! `verify` recomputes the chain and compares it with the store's head record; it
//! prints the head (count and last hash), which an operator keeps elsewhere and
//! passes back with `--expect-head`: only that catches a store rolled back or
//! rewritten whole. Exit status 0 when the chain verifies, 1 when it does not.
//! `export` writes the entries as JSON lines for a SIEM, from a sequence number on.

use crate::cmd::alerts::StoreArg;
use crate::global::GlobalOpts;
use clap::{Args, Subcommand};
use rampart_event::terminal::Escaped;
use rampart_store::{ChainReport, OpenOptions, SqliteStore};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// Arguments of `rampart audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check that no entry of the response audit was changed, removed or reordered.
    Verify(VerifyArgs),
    /// Write the response audit as JSON lines (one entry per line), oldest first.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The head a previous verification printed (`COUNT:HASH`, or the hash alone):
    /// the chain must still hold it, at that position.
    #[arg(long, value_name = "HEAD")]
    expect_head: Option<String>,
    /// The report as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// Only entries after this sequence number (the last one exported before).
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    since: u64,
    #[command(flatten)]
    store: StoreArg,
}

fn open(store: &StoreArg, global: &GlobalOpts) -> anyhow::Result<SqliteStore> {
    Ok(SqliteStore::open_with(
        &store.path(global),
        &OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        },
    )?)
}

#[derive(Serialize)]
struct VerifyOutput<'a> {
    ok: bool,
    #[serde(flatten)]
    report: &'a ChainReport,
    expected_head: Option<&'a str>,
    expected_head_found: Option<bool>,
}

/// Runs `rampart audit`.
pub fn run(args: AuditArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::Verify(args) => verify(args, global),
        AuditCommand::Export(args) => {
            let store = open(&args.store, global)?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut failure = None;
            let mut count = 0u64;
            store.for_each_audit_chain_entry(args.since, |entry| {
                let written = serde_json::to_writer(&mut out, &entry)
                    .map_err(std::io::Error::from)
                    .and_then(|()| writeln!(out));
                count += 1;
                match written {
                    Ok(()) => true,
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                }
            })?;
            if let Some(e) = failure {
                return Err(e.into());
            }
            out.flush()?;
            eprintln!("{count} audit entr{}", if count == 1 { "y" } else { "ies" });
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn verify(args: VerifyArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = open(&args.store, global)?;
    let report = store.verify_audit_chain()?;
    let expected = args.expect_head.as_deref().map(str::trim);
    let anchor_found = match expected {
        None => None,
        Some(head) => Some(holds_head(&store, &report, head)?),
    };
    let ok = report.ok() && anchor_found != Some(false);
    if args.json {
        let output = VerifyOutput {
            ok,
            report: &report,
            expected_head: expected,
            expected_head_found: anchor_found,
        };
        println!("{}", serde_json::to_string(&output)?);
    } else {
        let mut out = std::io::stdout().lock();
        for problem in &report.problems {
            writeln!(out, "entry {}: {}", problem.seq, Escaped(&problem.problem))?;
        }
        if report.unlisted_problems > 0 {
            writeln!(out, "… and {} more problems", report.unlisted_problems)?;
        }
        if anchor_found == Some(false) {
            writeln!(
                out,
                "the expected head {} is not in the chain: the store was rolled back or rewritten",
                Escaped(expected.unwrap_or_default())
            )?;
        }
        writeln!(
            out,
            "{} entries; head {}:{}; {}",
            report.entries,
            report.head.count,
            report.head.hash,
            if ok { "verified" } else { "NOT VERIFIED" }
        )?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Whether the chain holds the head a past verification printed: the entry at its
/// count carries its hash (the chain may have grown since).
fn holds_head(store: &SqliteStore, report: &ChainReport, head: &str) -> anyhow::Result<bool> {
    let (count, hash) = match head.split_once(':') {
        Some((count, hash)) => (Some(count.trim().parse::<u64>()?), hash.trim()),
        None => (None, head),
    };
    if report.head.hash.eq_ignore_ascii_case(hash) && count.is_none_or(|c| c == report.head.count) {
        return Ok(true);
    }
    let mut found = false;
    let since = count.map_or(0, |c| c.saturating_sub(1));
    store.for_each_audit_chain_entry(since, |entry| {
        if entry.hash.eq_ignore_ascii_case(hash) {
            found = count.is_none_or(|c| c == entry.seq);
            return false;
        }
        count.is_none()
    })?;
    Ok(found)
}
