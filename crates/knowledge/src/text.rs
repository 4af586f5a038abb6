//! Human-readable summaries of [`Report`]s: the text of `rampart attack show` and
//! `rampart group show`.
//!
//! Every text here comes from a bundle, an ontology or a feed, so it is attacker-
//! controlled as far as a terminal is concerned: descriptions are cut and stripped
//! char by char (never at a byte offset, which panics inside a multi-byte character),
//! and control characters are written as `\u{..}` escapes so a hostile description
//! cannot drive the terminal.

use crate::report::{
    Common, D3fendReport, EngageReport, GroupReport, ObjectReport, Ref, TechniqueReport,
};
use crate::Report;
use rampart_event::terminal::{escape_keeping_newlines, Escaped as E};
use std::fmt::Write;

/// Renders any report as text ending in a newline.
pub fn report(report: &Report) -> String {
    escape(&match report {
        Report::Technique(t) => technique(t),
        Report::Group(g) => group_text(g),
        Report::Object(o) => object(o),
        Report::D3fend(d) => d3fend(d),
        Report::Engage(e) => engage(e),
    })
}

/// The text of `rampart group show`, ending in a newline.
pub fn group(g: &GroupReport) -> String {
    escape(&group_text(g))
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
///
/// Every cut is at an ASCII delimiter found by `find` or `strip_prefix`, or after a
/// whole first character, so it always falls on a char boundary.
fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(first) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("(Citation:") {
            rest = after.split_once(')').map_or("", |(_, tail)| tail);
        } else if let Some(link) = rest.strip_prefix('[') {
            match (link.find("]("), link.find(')')) {
                (Some(mid), Some(end)) if mid < end => {
                    out.push_str(&link[..mid]);
                    rest = &link[end + 1..];
                }
                _ => {
                    out.push('[');
                    rest = link;
                }
            }
        } else {
            let after_first = &rest[first.len_utf8()..];
            let next = after_first
                .find(['(', '['])
                .map_or(rest.len(), |i| i + first.len_utf8());
            out.push_str(&rest[..next]);
            rest = &rest[next..];
        }
    }
    out.trim().to_owned()
}

/// Attacker-controlled text made safe for a terminal: control characters (other than
/// a line break) become visible escapes (see `rampart_event::terminal`).
pub fn escape(text: &str) -> String {
    escape_keeping_newlines(text).into_owned()
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
            let more = match c.paths.len() {
                0 | 1 => String::new(),
                n => format!(" +{} more path(s)", n - 1),
            };
            let _ = writeln!(
                out,
                "  {:<11} {} [{}] {} {} (technique {} {}){more}",
                c.id,
                c.name,
                c.tactic,
                c.defense_relation,
                c.artifact,
                c.attack_relation,
                c.attack_artifact
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
    let _ = writeln!(out, "{} {} [D3FEND technique]", d.id, d.name);
    let _ = writeln!(out, "URL:        {}", d.url);
    if let Some(tactic) = &d.tactic {
        let _ = writeln!(out, "Tactic:     {tactic}");
    }
    if !d.parents.is_empty() {
        let _ = writeln!(out, "Parents:    {}", d.parents.join(", "));
    }
    match &d.definition {
        Some(definition) => {
            let _ = writeln!(out, "\n{}\n", definition.trim());
        }
        None => out.push_str("\n(D3FEND gives no definition)\n\n"),
    }
    if !d.artifacts.is_empty() {
        let _ = writeln!(out, "Artifacts ({}):", d.artifacts.len());
        for (relation, artifact) in &d.artifacts {
            let _ = writeln!(out, "  {} {}", E(relation), E(artifact));
        }
    }
    if !d.counters.is_empty() {
        let _ = writeln!(out, "Counters ATT&CK techniques ({}):", d.counters.len());
        for c in &d.counters {
            let via: Vec<String> = c
                .paths
                .iter()
                .map(|p| format!("{} {}", p.attack_relation, p.attack_artifact))
                .collect();
            let _ = writeln!(
                out,
                "  {:<11} {} [{}] (technique {})",
                c.id,
                c.name,
                c.domain,
                via.join("; ")
            );
        }
    }
    out
}

fn engage(e: &EngageReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {} [ENGAGE activity]", e.id, e.name);
    let names = |refs: &[Ref]| -> String {
        refs.iter()
            .map(|r| format!("{} {}", r.id, r.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !e.goals.is_empty() {
        let _ = writeln!(out, "Goals:      {}", names(&e.goals));
    }
    if !e.approaches.is_empty() {
        let _ = writeln!(out, "Approaches: {}", names(&e.approaches));
    }
    let description = e.description.trim();
    if !description.is_empty() {
        let _ = writeln!(out, "\n{description}\n");
    }
    if !e.vulnerabilities.is_empty() {
        let _ = writeln!(
            out,
            "Adversary vulnerabilities ({}):",
            e.vulnerabilities.len()
        );
        for v in &e.vulnerabilities {
            let _ = writeln!(out, "  {:<11} {}", v.id, v.description);
        }
    }
    ref_list(&mut out, "ATT&CK techniques", &e.techniques);
    out
}
