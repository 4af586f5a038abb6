//! `rampart respond plan INCIDENT_ID [--store DB] [--playbooks PATH…] [--json]`.

use crate::cmd::alerts::StoreArg;
use crate::global::GlobalOpts;
use clap::Args;
use rampart_event::terminal::Escaped;
use rampart_respond::plan::{likely_next_of, plan, Plan, PlanOptions, Purpose};
use rampart_respond::playbook::load_paths;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// How many likely next techniques a plan considers.
const NEXT_LIMIT: usize = 8;

/// Arguments of `rampart respond plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The incident's id (see `rampart incidents list`).
    #[arg(value_name = "INCIDENT_ID")]
    incident: String,
    #[command(flatten)]
    store: StoreArg,
    /// Playbook files or folders: a countermeasure one of their steps carries out is
    /// runnable, the rest advice. Bad playbooks are reported and left out.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    playbooks: Vec<PathBuf>,
    /// Most countermeasures listed per D3FEND tactic.
    #[arg(long, value_name = "N", default_value_t = 10)]
    per_group: usize,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `rampart respond plan`.
pub fn run(args: PlanArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let Some(incident) = store.incident(&args.incident)? else {
        anyhow::bail!(
            "no incident `{}` in {} (see `rampart incidents list`)",
            Escaped(&args.incident),
            args.store.path(global).display()
        );
    };
    let knowledge = crate::cmd::attack::load_knowledge(global)?;
    let react = super::load_react(global);
    let set = load_paths(&args.playbooks);
    for diagnostic in &set.diagnostics {
        eprintln!("warning: {}", Escaped(&diagnostic.to_string()));
    }
    let playbooks: Vec<_> = set.playbooks.iter().map(|p| &p.playbook).collect();
    let likely_next = likely_next_of(&incident, &knowledge, NEXT_LIMIT);
    let plan = plan(
        &incident,
        &likely_next,
        &knowledge,
        react.as_ref(),
        &playbooks,
        PlanOptions {
            per_group: args.per_group,
        },
    );
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &plan)?;
        writeln!(out)?;
    } else {
        out.write_all(render(&plan, args.playbooks.is_empty()).as_bytes())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The plan as text; every value from the store or the playbooks escaped.
fn render(plan: &Plan, no_playbooks: bool) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Plan for incident {} on {}",
        Escaped(&plan.incident),
        Escaped(&plan.host)
    );
    for technique in &plan.techniques {
        let current = if technique.current == technique.id {
            String::new()
        } else {
            format!(" (now {})", technique.current)
        };
        let _ = writeln!(
            text,
            "  {}{current} {}",
            Escaped(&technique.id),
            Escaped(&technique.name)
        );
        if !technique.mitigations.is_empty() {
            let list: Vec<String> = technique
                .mitigations
                .iter()
                .map(|m| format!("{} {}", m.id, m.name))
                .collect();
            let _ = writeln!(text, "    mitigations: {}", Escaped(&list.join("; ")));
        }
        if !technique.react_playbooks.is_empty() {
            let list: Vec<String> = technique
                .react_playbooks
                .iter()
                .map(|p| format!("{} {}", p.id, p.name))
                .collect();
            let _ = writeln!(text, "    RE&CT playbooks: {}", Escaped(&list.join("; ")));
        }
    }
    if !plan.unknown_techniques.is_empty() {
        let _ = writeln!(
            text,
            "  unknown to ATT&CK: {}",
            Escaped(&plan.unknown_techniques.join(", "))
        );
    }
    if !plan.likely_next.is_empty() {
        let _ = writeln!(
            text,
            "  likely next: {}",
            Escaped(&plan.likely_next.join(", "))
        );
    }
    for group in &plan.groups {
        let purpose = match group.purpose {
            Purpose::Respond => "respond",
            Purpose::Next => "next",
        };
        let _ = writeln!(text, "\n{} ({purpose})", Escaped(&group.tactic));
        for c in &group.countermeasures {
            let mark = if c.runnable { "runnable" } else { "advice  " };
            let _ = write!(
                text,
                "  [{mark}] {:<9} {}  answers {}",
                Escaped(&c.id),
                Escaped(&c.name),
                c.answers.len()
            );
            if !c.answers_next.is_empty() {
                let _ = write!(text, " (+{} next)", c.answers_next.len());
            }
            text.push('\n');
            if !c.steps.is_empty() {
                let _ = writeln!(text, "      steps: {}", Escaped(&c.steps.join(", ")));
            }
            if !c.react_actions.is_empty() {
                let list: Vec<String> = c
                    .react_actions
                    .iter()
                    .map(|a| format!("{} {} ({})", a.id, a.name, a.stage))
                    .collect();
                let _ = writeln!(text, "      RE&CT: {}", Escaped(&list.join("; ")));
            }
        }
        if group.more > 0 {
            let _ = writeln!(text, "  … {} more (--per-group)", group.more);
        }
    }
    for warning in &plan.warnings {
        let _ = writeln!(text, "\nwarning: {}", Escaped(warning));
    }
    if no_playbooks {
        let _ = writeln!(
            text,
            "\nno playbooks given (--playbooks): every countermeasure is advice"
        );
    }
    text
}
