//! Human-readable summaries of knowledge-graph reports (the non-`--json` output).

use rampart_event::terminal::{escape_keeping_newlines, Escaped as E};
use rampart_knowledge::report::{
    Common, D3fendReport, GroupReport, ObjectReport, Ref, TechniqueReport,
};
use rampart_knowledge::Report;
use std::fmt::Write;

/// Renders any report as text ending in a newline. The reference data is not trusted:
/// values are escaped for the terminal, names on one line each, and the whole text
/// once more with line breaks kept (descriptions span lines).
pub(crate) fn report(report: &Report) -> String {
    let text = match report {
        Report::Technique(t) => technique(t),
        Report::Group(g) => group_text(g),
        Report::Object(o) => object(o),
        Report::D3fend(d) => d3fend(d),
    };
    escape_keeping_newlines(&text).into_owned()
}

/// The text of `rampart group show`.
pub(crate) fn group(g: &GroupReport) -> String {
    escape_keeping_newlines(&group_text(g)).into_owned()
}

fn header(out: &mut String, common: &Common, subtitle: &str) {
    let _ = writeln!(
        out,
        "{} {} [{} {}{}]",
        E(&common.id),
        E(&common.name),
        common.domain,
        common.kind,
        subtitle
    );
    if common.status != "active" {
        let _ = write!(out, "Status:     {}", common.status.to_uppercase());
        if let Some(new) = &common.revoked_by {
            let _ = write!(out, ", replaced by {} {}", E(&new.id), E(&new.name));
        }
        out.push('\n');
    }
    if let Some(url) = &common.url {
        let _ = writeln!(out, "URL:        {url}");
    }
}

fn description(out: &mut String, text: &str) {
    let first = text.split("\n\n").next().unwrap_or_default();
    let plain = plain_text(first);
    if !plain.is_empty() {
        let _ = writeln!(out, "\n{plain}\n");
    }
}

/// Drops ATT&CK's `(Citation: …)` markers and turns `[text](url)` links into text.
fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("(Citation:") {
            rest = after.find(')').map_or("", |end| &after[end + 1..]);
        } else if rest.starts_with('[') {
            match (rest.find("]("), rest.find(')')) {
                (Some(mid), Some(end)) if mid < end => {
                    out.push_str(&rest[1..mid]);
                    rest = &rest[end + 1..];
                }
                _ => {
                    out.push('[');
                    rest = &rest[1..];
                }
            }
        } else {
            let next = rest[1..].find(['(', '[']).map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[..next]);
            rest = &rest[next..];
        }
    }
    out.trim().to_owned()
}

fn ref_list(out: &mut String, title: &str, refs: &[Ref]) {
    if refs.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title} ({}):", refs.len());
    for r in refs {
        let _ = writeln!(out, "  {:<11} {}", E(&r.id), E(&r.name));
    }
}

fn technique(t: &TechniqueReport) -> String {
    let mut out = String::new();
    let subtitle = match &t.parent {
        Some(parent) => format!(", sub-technique of {} {}", E(&parent.id), E(&parent.name)),
        None => String::new(),
    };
    header(&mut out, &t.common, &subtitle);
    let _ = writeln!(out, "Tactics:    {}", t.tactics.join(", "));
    let _ = writeln!(out, "Platforms:  {}", t.platforms.join(", "));
    description(&mut out, &t.common.description);
    ref_list(&mut out, "Sub-techniques", &t.subtechniques);
    if !t.groups.is_empty() {
        let _ = writeln!(out, "Groups ({}):", t.groups.len());
        for g in &t.groups {
            let _ = writeln!(
                out,
                "  {:<11} {}{}",
                E(&g.id),
                E(&g.name),
                how(g.direct, &g.via_software, &g.via_campaigns)
            );
        }
    }
    ref_list(&mut out, "Software", &t.software);
    ref_list(&mut out, "Mitigations", &t.mitigations);
    if !t.detection_strategies.is_empty() {
        let _ = writeln!(
            out,
            "Detection strategies ({}):",
            t.detection_strategies.len()
        );
        for s in &t.detection_strategies {
            let _ = writeln!(out, "  {:<11} {}", E(&s.id), E(&s.name));
            for a in &s.analytics {
                let sources: Vec<String> = a
                    .log_sources
                    .iter()
                    .map(|l| format!("{} {}", l.name, l.channel))
                    .collect();
                let _ = writeln!(
                    out,
                    "    {} [{}]: {}",
                    a.id,
                    a.platforms.join(", "),
                    sources.join("; ")
                );
            }
        }
    }
    if !t.countermeasures.is_empty() {
        let _ = writeln!(out, "D3FEND countermeasures ({}):", t.countermeasures.len());
        for c in &t.countermeasures {
            let _ = writeln!(
                out,
                "  {:<11} {} [{}] {} {} (technique {} {})",
                E(&c.id),
                E(&c.name),
                E(&c.tactic),
                E(&c.defense_relation),
                E(&c.artifact),
                E(&c.attack_relation),
                E(&c.attack_artifact)
            );
        }
    }
    if !t.engage.is_empty() {
        let _ = writeln!(out, "ENGAGE activities ({}):", t.engage.len());
        for e in &t.engage {
            let _ = writeln!(
                out,
                "  {:<11} {}  ({}: {})",
                E(&e.id),
                E(&e.name),
                E(&e.vulnerability.id),
                E(&e.vulnerability.description)
            );
        }
    }
    ref_list(&mut out, "Targeted assets", &t.assets);
    out
}

/// "(direct)", "(via Mimikatz)", "(direct; via campaign SolarWinds Compromise)".
fn how(direct: bool, software: &[Ref], campaigns: &[Ref]) -> String {
    let mut parts = Vec::new();
    if direct {
        parts.push("direct".to_owned());
    }
    if !software.is_empty() {
        let names: Vec<&str> = software.iter().map(|s| s.name.as_str()).collect();
        parts.push(format!("via {}", names.join(", ")));
    }
    if !campaigns.is_empty() {
        let names: Vec<&str> = campaigns.iter().map(|c| c.name.as_str()).collect();
        parts.push(format!("via campaign {}", names.join(", ")));
    }
    format!("  ({})", E(&parts.join("; ")))
}

fn group_text(g: &GroupReport) -> String {
    let mut out = String::new();
    header(&mut out, &g.common, "");
    if !g.aliases.is_empty() {
        let _ = writeln!(out, "Aliases:    {}", g.aliases.join(", "));
    }
    description(&mut out, &g.common.description);
    let direct = g.techniques.iter().filter(|t| t.direct).count();
    let _ = writeln!(
        out,
        "Techniques ({}: {} direct, {} only through software or campaigns):",
        g.techniques.len(),
        direct,
        g.techniques.len() - direct
    );
    for t in &g.techniques {
        let _ = writeln!(
            out,
            "  {:<11} {}{}",
            E(&t.id),
            E(&t.name),
            how(t.direct, &t.via_software, &t.via_campaigns)
        );
    }
    ref_list(&mut out, "Software", &g.software);
    ref_list(&mut out, "Campaigns", &g.campaigns);
    out
}

fn object(o: &ObjectReport) -> String {
    let mut out = String::new();
    header(&mut out, &o.common, "");
    if let Some(shortname) = &o.shortname {
        let _ = writeln!(out, "Short name: {shortname}");
    }
    if !o.aliases.is_empty() {
        let _ = writeln!(out, "Aliases:    {}", o.aliases.join(", "));
    }
    description(&mut out, &o.common.description);
    ref_list(&mut out, "Groups", &o.groups);
    ref_list(&mut out, "Techniques", &o.techniques);
    if !o.analytics.is_empty() {
        let _ = writeln!(out, "Analytics ({}):", o.analytics.len());
        for a in &o.analytics {
            let _ = writeln!(out, "  {} [{}]", a.id, a.platforms.join(", "));
        }
    }
    if !o.log_sources.is_empty() {
        let _ = writeln!(out, "Log sources ({}):", o.log_sources.len());
        for l in &o.log_sources {
            let _ = writeln!(out, "  {} {}", l.name, l.channel);
        }
    }
    out
}

fn d3fend(d: &D3fendReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {} [D3FEND technique]", E(&d.id), E(&d.name));
    if let Some(tactic) = &d.tactic {
        let _ = writeln!(out, "Tactic:     {tactic}");
    }
    if !d.parents.is_empty() {
        let _ = writeln!(out, "Parents:    {}", d.parents.join(", "));
    }
    if let Some(definition) = &d.definition {
        let _ = writeln!(out, "\n{definition}\n");
    }
    if !d.artifacts.is_empty() {
        let _ = writeln!(out, "Artifacts ({}):", d.artifacts.len());
        for (relation, artifact) in &d.artifacts {
            let _ = writeln!(out, "  {} {}", E(relation), E(artifact));
        }
    }
    out
}
