//! `rampart sigma suppress | suppressions | unsuppress`: tuning written as Sigma 2.1
//! filters in a local folder, loaded with the rest of the rules.

use crate::cmd::alerts::StoreArg;
use crate::global::GlobalOpts;
use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use rampart_event::terminal::Escaped;
use rampart_sigma::filter::{
    alert_fields, remove_suppression, suppression_filter, suppressions, today, write_suppression,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The folder suppressions go to when `--dir` is not given: `tuning` in the data
/// directory. `hunt` (without `--rules`) loads it with the SigmaHQ rules.
pub fn default_tuning_dir(global: &GlobalOpts) -> PathBuf {
    global.data_dir().join("tuning")
}

/// The tuning folder option.
#[derive(Debug, Args)]
pub struct DirArg {
    /// The folder of tuning filters. Default: `tuning` in the data directory.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl DirArg {
    fn path(&self, global: &GlobalOpts) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| default_tuning_dir(global))
    }
}

/// Arguments of `rampart sigma suppress`.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// The stored alert whose pattern to suppress.
    #[arg(long, value_name = "ID")]
    alert: String,
    /// A field to match on (repeatable), among the alert's matched and context
    /// fields. Default: the fields that made the rule match.
    #[arg(long = "field", value_name = "F")]
    fields: Vec<String>,
    /// The first day the filter no longer applies (`YYYY-MM-DD`). Default: never.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    expires: Option<NaiveDate>,
    /// Why (written as the filter's description).
    #[arg(long, value_name = "R", default_value = "")]
    reason: String,
    /// Who (written as the filter's author). Default: the `USER` environment variable.
    #[arg(long, value_name = "NAME")]
    author: Option<String>,
    #[command(flatten)]
    dir: DirArg,
    #[command(flatten)]
    store: StoreArg,
}

/// Arguments of `rampart sigma suppressions`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// One JSON object per filter per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    dir: DirArg,
}

/// Arguments of `rampart sigma unsuppress`.
#[derive(Debug, Args)]
pub struct UnsuppressArgs {
    /// The filter's id (as `suppress` and `suppressions` print it).
    #[arg(value_name = "ID")]
    id: String,
    #[command(flatten)]
    dir: DirArg,
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "expected YYYY-MM-DD".to_owned())
}

/// Runs `rampart sigma suppress`: prints the new filter's id on stdout.
pub fn suppress(args: SuppressArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let Some(stored) = store.alert(&args.alert)? else {
        anyhow::bail!(
            "no alert {} in {}",
            Escaped(&args.alert),
            store.location().display()
        );
    };
    if args.expires.is_some_and(|day| day <= today()) {
        anyhow::bail!("--expires must be a day after today");
    }
    let fields = alert_fields(&stored.alert, &args.fields)
        .with_context(|| format!("alert {}", Escaped(&args.alert)))?;
    let author = args
        .author
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default();
    let filter = suppression_filter(
        &stored.alert.rule_id,
        &fields,
        &args.reason,
        &author,
        args.expires,
    )?;
    let dir = args.dir.path(global);
    let path = write_suppression(&dir, &filter)
        .with_context(|| format!("writing the filter into {}", dir.display()))?;
    println!("{}", filter.id);
    eprintln!(
        "suppression {} of rule {} on {} written to {}",
        filter.id,
        Escaped(&stored.alert.rule_id),
        fields
            .iter()
            .map(|(f, v)| format!("{}={}", Escaped(f), Escaped(v)))
            .collect::<Vec<_>>()
            .join(", "),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `rampart sigma suppressions`: one line per filter, active or expired.
pub fn list(args: ListArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let dir = args.dir.path(global);
    let (filters, diagnostics) = suppressions(&dir);
    for diagnostic in diagnostics
        .iter()
        .filter(|d| d.severity == rampart_sigma::Severity::Error)
    {
        eprintln!("warning: {}", Escaped(&diagnostic.to_string()));
    }
    let today = today();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for filter in &filters {
        let state = if filter.active_on(today) {
            "active"
        } else {
            "expired"
        };
        if args.json {
            let line = serde_json::json!({
                "id": filter.id,
                "title": filter.title,
                "state": state,
                "rules": filter.rules,
                "description": filter.description,
                "date": filter.date,
                "expires": filter.expires.map(|d| d.to_string()),
                "path": filter.path.display().to_string(),
            });
            writeln!(out, "{line}")?;
        } else {
            writeln!(
                out,
                "{}  {state:7}  expires {}  rules {}  {}  ({})",
                Escaped(filter.id.as_deref().unwrap_or("-")),
                filter
                    .expires
                    .map_or_else(|| "never".to_owned(), |d| d.to_string()),
                Escaped(&filter.rules.join(",")),
                Escaped(filter.description.as_deref().unwrap_or(&filter.title)),
                filter.path.display()
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `rampart sigma unsuppress`: deletes the filter's file.
pub fn unsuppress(args: UnsuppressArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let dir = args.dir.path(global);
    match remove_suppression(&dir, &args.id)? {
        Some(path) => {
            eprintln!("removed {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        None => anyhow::bail!("no suppression {} in {}", Escaped(&args.id), dir.display()),
    }
}
