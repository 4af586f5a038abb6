//! Loading what coverage and lint need: the ATT&CK domain (through the knowledge cache,
//! with D3FEND countermeasures) and the rules.

use crate::global::GlobalOpts;
use anyhow::Context;
use rampart_coverage::{rule_info, AttackMatrix, RuleInfo};
use rampart_knowledge::Domain;
use rampart_sigma::RuleSet;
use std::path::PathBuf;

/// Loads one ATT&CK domain as coverage sees it.
pub(crate) fn load_matrix(global: &GlobalOpts, domain: Domain) -> anyhow::Result<AttackMatrix> {
    let data_dir = global.data_dir();
    let knowledge = crate::cmd::attack::load_knowledge(global)?;
    rampart_coverage::matrix_with_countermeasures(&knowledge, domain).with_context(|| {
        format!(
            "no ATT&CK {} bundle in {} (try `rampart data status`)",
            domain.as_str(),
            data_dir.display()
        )
    })
}

/// The rule folders: those given, else the Sigma folders of the data directory.
pub(crate) fn rule_dirs(global: &GlobalOpts, given: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let data_dir = global.data_dir();
    let files = rampart_refdata::discover(&data_dir)
        .with_context(|| format!("cannot search {} for rules", data_dir.display()))?;
    // Discovery already leaves out placeholder and compliance rules: not coverage.
    let dirs = files.sigma_rule_dirs;
    anyhow::ensure!(
        !dirs.is_empty(),
        "no Sigma rule folders in {} (give --rules DIR)",
        data_dir.display()
    );
    Ok(dirs)
}

/// Loads rules, reporting how many could not be loaded on stderr.
pub(crate) fn load_rules(dirs: &[PathBuf]) -> (RuleSet, Vec<RuleInfo>) {
    let (set, diagnostics) = rampart_sigma::load_rules(dirs);
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == rampart_sigma::Severity::Error)
        .count();
    if errors > 0 {
        eprintln!("note: {errors} rule file(s) could not be loaded (see `rampart sigma check`)");
    }
    let infos = set.rules.iter().map(rule_info).collect();
    (set, infos)
}

/// Writes human text to stdout: whatever the rules and reference data put in it,
/// nothing but line breaks reaches the terminal raw (values that must stay on one
/// line are escaped by the caller).
pub(crate) fn print_text(text: &str) -> anyhow::Result<()> {
    print_out(&rampart_event::terminal::escape_keeping_newlines(text))
}

/// Writes text to stdout; a closed pipe (`| head`) ends the output quietly.
pub(crate) fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
