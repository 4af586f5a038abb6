//! Ranked full-text search over names, aliases and descriptions.
//!
//! A few thousand objects are searched per query, so a linear scan with a simple,
//! explainable score is fast enough and needs no index to build or cache: an exact id
//! wins outright, then the whole query in a name, then each word found in a name or
//! alias, then words in the description (capped, so a long description cannot outrank
//! a matching name).

use crate::knowledge::{Hit, Knowledge};
use crate::model::{Kind, Status};

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The object found.
    pub hit: Hit,
    /// Its score (higher is better); only the order is meaningful.
    pub score: f64,
}

/// Kinds worth offering to an analyst; analytics are reached through their strategy.
const SEARCHED: [Kind; 9] = [
    Kind::Technique,
    Kind::Tactic,
    Kind::Group,
    Kind::Campaign,
    Kind::Software,
    Kind::Mitigation,
    Kind::DataComponent,
    Kind::DetectionStrategy,
    Kind::Asset,
];

impl Knowledge {
    /// Searches every loaded domain; revoked and deprecated objects are found only by
    /// their exact id. Best first, at most `limit` results.
    pub fn search(&self, text: &str, limit: usize) -> Vec<SearchHit> {
        let query = text.trim().to_lowercase();
        let words: Vec<&str> = query
            .split(|c: char| !c.is_alphanumeric() && c != '.')
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<SearchHit> = Vec::new();
        for matrix in self.matrices() {
            for node in matrix.nodes().filter(|n| SEARCHED.contains(&n.kind)) {
                let Some(meta) = matrix.meta(node) else {
                    continue;
                };
                let exact_id = meta.attack_id.eq_ignore_ascii_case(&query);
                if meta.status != Status::Active && !exact_id {
                    continue;
                }
                let mut score = 0.0;
                let name = meta.name.to_lowercase();
                if name == query {
                    score += 200.0;
                } else if name.contains(&query) {
                    score += 100.0;
                }
                let aliases: Vec<String> = matrix
                    .aliases(node)
                    .iter()
                    .map(|a| a.to_lowercase())
                    .collect();
                if aliases.contains(&query) {
                    score += 150.0;
                }
                let description = meta.description.to_lowercase();
                let mut words_found = 0;
                for word in &words {
                    let mut found = false;
                    if contains_word(&name, word) {
                        score += 20.0;
                        found = true;
                    } else if aliases.iter().any(|a| contains_word(a, word)) {
                        score += 15.0;
                        found = true;
                    }
                    let in_description = description.matches(word).take(5).count();
                    if in_description > 0 {
                        score += 1.0 + in_description as f64 * 0.5;
                        found = true;
                    }
                    if found {
                        words_found += 1;
                    }
                }
                // Every word should be present somewhere; missing ones cost heavily.
                if words_found < words.len() {
                    score *= words_found as f64 / (2 * words.len()) as f64;
                }
                if exact_id {
                    score += 1000.0;
                }
                if score > 0.0 {
                    // Techniques are what people search for most; break ties their way.
                    if node.kind == Kind::Technique {
                        score += 0.5;
                    }
                    hits.push(SearchHit {
                        hit: Hit {
                            domain: matrix.domain,
                            node,
                        },
                        score,
                    });
                }
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        hits
    }
}

/// Whether `word` occurs in `text` at a word start (so "task" finds "Scheduled Task"
/// but "ask" does not).
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::contains_word;

    #[test]
    fn words_match_at_word_starts_only() {
        assert!(contains_word("scheduled task", "task"));
        assert!(contains_word("scheduled task", "sched"));
        assert!(!contains_word("scheduled task", "ask"));
        assert!(contains_word("os credential dumping: lsass", "lsass"));
    }
}
