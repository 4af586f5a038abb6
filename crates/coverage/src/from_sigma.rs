//! The adapter from the Sigma rule model to coverage's [`RuleInfo`].
//!
//! Detection atoms flatten a rule's searches into `field|op=value` strings so that two
//! rules can be compared for overlap without caring how their searches are named or
//! nested; values are lower-cased because Sigma matches case-insensitively by default.

use crate::model::{LogSourceKey, RuleInfo};
use rampart_sigma::{FieldPattern, Rule, Search, StringOp, ValuePattern};

/// Coverage's view of a loaded Sigma rule.
pub fn rule_info(rule: &Rule) -> RuleInfo {
    let mut atoms = Vec::new();
    for (_, search) in &rule.detection.searches {
        search_atoms(search, &mut atoms);
    }
    atoms.sort();
    atoms.dedup();
    RuleInfo {
        id: rule.alert_id(),
        title: rule.title.clone(),
        path: rule.path.display().to_string(),
        level: rule.level,
        status: rule.status.clone(),
        techniques: rule.attack.techniques.clone(),
        tactics: rule.attack.tactics.clone(),
        logsource: LogSourceKey {
            product: rule
                .logsource
                .product
                .as_ref()
                .map(|s| s.to_ascii_lowercase()),
            category: rule
                .logsource
                .category
                .as_ref()
                .map(|s| s.to_ascii_lowercase()),
            service: rule
                .logsource
                .service
                .as_ref()
                .map(|s| s.to_ascii_lowercase()),
        },
        detection_atoms: atoms,
    }
}

fn op_name(op: StringOp) -> &'static str {
    match op {
        StringOp::Equals => "eq",
        StringOp::Contains => "contains",
        StringOp::StartsWith => "startswith",
        StringOp::EndsWith => "endswith",
        StringOp::Wildcard => "glob",
        StringOp::Regex => "re",
    }
}

fn value_atom(field: &str, pattern: &ValuePattern) -> String {
    format!(
        "{}|{}={}",
        field.to_lowercase(),
        op_name(pattern.op),
        pattern.text.to_lowercase()
    )
}

fn search_atoms(search: &Search, atoms: &mut Vec<String>) {
    match search {
        Search::Keywords(patterns) => {
            atoms.extend(patterns.iter().map(|p| value_atom("keyword", p)));
        }
        Search::AllKeywords(groups) => {
            atoms.extend(groups.iter().flatten().map(|p| value_atom("keyword", p)));
        }
        Search::Maps(maps) => {
            for map in maps {
                for item in &map.0 {
                    pattern_atoms(&item.field, &item.pattern, atoms);
                }
            }
        }
    }
}

fn pattern_atoms(field: &str, pattern: &FieldPattern, atoms: &mut Vec<String>) {
    let field_lower = field.to_lowercase();
    match pattern {
        FieldPattern::Any(patterns) => atoms.extend(patterns.iter().map(|p| value_atom(field, p))),
        FieldPattern::Null => atoms.push(format!("{field_lower}|null")),
        FieldPattern::Exists(yes) => atoms.push(format!("{field_lower}|exists={yes}")),
        FieldPattern::FieldRef { field: other, .. } => {
            atoms.push(format!("{field_lower}|fieldref={}", other.to_lowercase()))
        }
        FieldPattern::Cidr(nets) => {
            atoms.extend(nets.iter().map(|n| format!("{field_lower}|cidr={n}")))
        }
        FieldPattern::Numeric(tests) => atoms.extend(
            tests
                .iter()
                .map(|(op, v)| format!("{field_lower}|{}={v}", op.as_str())),
        ),
        FieldPattern::Time { tests, .. } => atoms.extend(
            tests
                .iter()
                .map(|(op, v)| format!("{field_lower}|time{}={v}", op.as_str())),
        ),
        FieldPattern::Not(inner) => {
            let mut inner_atoms = Vec::new();
            pattern_atoms(field, inner, &mut inner_atoms);
            atoms.extend(inner_atoms.into_iter().map(|a| format!("not:{a}")));
        }
        // The pattern enum is non-exhaustive: a new kind still yields a field atom.
        _ => atoms.push(format!("{field_lower}|other")),
    }
}
