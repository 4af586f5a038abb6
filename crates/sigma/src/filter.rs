//! Applying Sigma filters (meta-filters) to the rules they name.
//!
//! A filter adds its searches to each rule it applies to, and the rule's condition
//! becomes `(rule condition) and (filter condition)`, as pySigma does. An excluding
//! filter therefore writes `condition: not selection`.

use crate::model::{Condition, Filter, LogSource, Rule, RuleSet};

impl Filter {
    /// Whether the filter names the rule (by id or name) and their log sources agree
    /// (every attribute the filter sets, the rule sets to the same value).
    pub fn applies_to(&self, rule: &Rule) -> bool {
        let named = self.rules.iter().any(|reference| {
            rule.id.as_deref() == Some(reference.as_str())
                || rule.name.as_deref() == Some(reference.as_str())
        });
        named && logsource_covers(&self.logsource, &rule.logsource)
    }
}

fn logsource_covers(filter: &LogSource, rule: &LogSource) -> bool {
    let agrees =
        |wanted: &Option<String>, actual: &Option<String>| wanted.is_none() || wanted == actual;
    agrees(&filter.product, &rule.product)
        && agrees(&filter.category, &rule.category)
        && agrees(&filter.service, &rule.service)
}

impl Rule {
    /// Adds a filter's searches and condition to this rule. The filter's searches are
    /// renamed `<prefix>.<name>` so they cannot clash with the rule's own.
    pub fn apply_filter(&mut self, filter: &Filter, prefix: &str) {
        let rename = |name: &str| format!("{prefix}.{name}");
        for (name, search) in &filter.detection.searches {
            self.detection.searches.push((rename(name), search.clone()));
        }
        let mut extra = filter.detection.condition.clone();
        rename_searches(&mut extra, &rename);
        let own = std::mem::replace(&mut self.detection.condition, Condition::And(Vec::new()));
        self.detection.condition = Condition::And(vec![own, extra]);
    }
}

fn rename_searches(condition: &mut Condition, rename: &dyn Fn(&str) -> String) {
    match condition {
        Condition::Search(name) => *name = rename(name),
        Condition::Not(inner) => rename_searches(inner, rename),
        Condition::And(items) | Condition::Or(items) => items
            .iter_mut()
            .for_each(|item| rename_searches(item, rename)),
        Condition::OneOf(selector) | Condition::AllOf(selector) => selector
            .names
            .iter_mut()
            .for_each(|name| *name = rename(name)),
    }
}

impl RuleSet {
    /// Applies every filter to the rules it names; returns how many (filter, rule)
    /// pairs were applied.
    pub fn apply_filters(&mut self) -> usize {
        let mut applied = 0;
        for (index, filter) in self.filters.iter().enumerate() {
            let prefix = format!("filter{index}");
            for rule in self.rules.iter_mut().filter(|rule| filter.applies_to(rule)) {
                rule.apply_filter(filter, &prefix);
                applied += 1;
            }
        }
        applied
    }
}
