//! Ranked full-text search over names, aliases and descriptions, of ATT&CK and (with
//! [`Knowledge::search_all`]) of D3FEND techniques and ENGAGE activities.
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
        let (query, words) = query_words(text);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
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
                let aliases: Vec<String> = matrix
                    .aliases(node)
                    .iter()
                    .map(|a| a.to_lowercase())
                    .collect();
                let mut score = text_score(
                    &query,
                    &words,
                    &meta.name.to_lowercase(),
                    &aliases,
                    &meta.description.to_lowercase(),
                );
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

/// The score of one object's texts (all lower-cased) for a query and its words.
fn text_score(
    query: &str,
    words: &[&str],
    name: &str,
    aliases: &[String],
    description: &str,
) -> f64 {
    let mut score = 0.0;
    if name == query {
        score += 200.0;
    } else if name.contains(query) {
        score += 100.0;
    }
    if aliases.iter().any(|a| a == query) {
        score += 150.0;
    }
    let mut words_found = 0;
    for word in words {
        let mut found = false;
        if contains_word(name, word) {
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
    score
}

/// The lower-cased query and its words (empty when there is nothing to look for).
fn query_words(text: &str) -> (String, Vec<String>) {
    let query = text.trim().to_lowercase();
    let words = query
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    (query, words)
}

/// What a combined search found: an ATT&CK object, a D3FEND technique or an ENGAGE
/// activity.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// An ATT&CK object.
    Attack(Hit),
    /// A D3FEND technique, by D3FEND id.
    D3fend(String),
    /// An ENGAGE activity, by `EAC…` id.
    Engage(String),
}

/// One result of [`Knowledge::search_all`].
#[derive(Debug, Clone, PartialEq)]
pub struct FoundHit {
    /// The object found.
    pub found: Found,
    /// Its id (ATT&CK, D3FEND or ENGAGE).
    pub id: String,
    /// Its name.
    pub name: String,
    /// `technique`, `group`, … for ATT&CK; `d3fend-technique`; `engage-activity`.
    pub kind: &'static str,
    /// The ATT&CK domain; `d3fend` or `engage` for the others.
    pub source: &'static str,
    /// Its score (higher is better); only the order is meaningful.
    pub score: f64,
}

impl Knowledge {
    /// Searches ATT&CK (as [`Knowledge::search`]), D3FEND techniques (name, id and
    /// definition) and ENGAGE activities (name, id and descriptions) with one scale.
    /// Best first, at most `limit` results.
    pub fn search_all(&self, text: &str, limit: usize) -> Vec<FoundHit> {
        let mut hits: Vec<FoundHit> = self
            .search(text, usize::MAX)
            .into_iter()
            .filter_map(|hit| {
                let meta = self.matrix_of(hit.hit).meta(hit.hit.node)?;
                Some(FoundHit {
                    found: Found::Attack(hit.hit),
                    id: meta.attack_id.clone(),
                    name: meta.name.clone(),
                    kind: hit.hit.node.kind.as_str(),
                    source: hit.hit.domain.as_str(),
                    score: hit.score,
                })
            })
            .collect();
        let (query, words) = query_words(text);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if !words.is_empty() {
            for technique in self.d3fend().into_iter().flat_map(|o| o.techniques()) {
                let exact_id = technique.id.eq_ignore_ascii_case(&query);
                let definition = technique.definition.as_deref().unwrap_or_default();
                let mut score = text_score(
                    &query,
                    &words,
                    &technique.name.to_lowercase(),
                    &[],
                    &definition.to_lowercase(),
                );
                if exact_id {
                    score += 1000.0;
                }
                if score > 0.0 {
                    hits.push(FoundHit {
                        found: Found::D3fend(technique.id.clone()),
                        id: technique.id.clone(),
                        name: technique.name.clone(),
                        kind: "d3fend-technique",
                        source: "d3fend",
                        score,
                    });
                }
            }
            for activity in self.engage().into_iter().flat_map(|e| e.activities()) {
                let exact_id = activity.id.eq_ignore_ascii_case(&query);
                let description = format!("{} {}", activity.description, activity.long_description);
                let mut score = text_score(
                    &query,
                    &words,
                    &activity.name.to_lowercase(),
                    &[],
                    &description.to_lowercase(),
                );
                if exact_id {
                    score += 1000.0;
                }
                if score > 0.0 {
                    hits.push(FoundHit {
                        found: Found::Engage(activity.id.clone()),
                        id: activity.id.clone(),
                        name: activity.name.clone(),
                        kind: "engage-activity",
                        source: "engage",
                        score,
                    });
                }
            }
        }
        // Stable: equal scores keep ATT&CK first, then D3FEND, then ENGAGE.
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
