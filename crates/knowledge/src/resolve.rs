//! Resolving what a user or a rule names (an id in any case, a name, an alias, a STIX
//! id) to one object, and saying whether that object is current.
//!
//! Sigma rule tags, analyst queries and old reports name ATT&CK objects loosely and
//! sometimes by ids ATT&CK has since revoked; [`Resolution`] makes the caller decide
//! explicitly what to do with each case instead of silently using a stale object.

use crate::knowledge::{Hit, Knowledge};
use crate::matrix::kind_of_id;
use crate::model::{Domain, Status};
use serde::{Deserialize, Serialize};

/// What a name or id resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    /// A current object.
    Active(Hit),
    /// A deprecated object (withdrawn, no replacement).
    Deprecated(Hit),
    /// A revoked object and, when ATT&CK names one, what replaced it.
    Revoked {
        /// The revoked object.
        revoked: Hit,
        /// The end of its `revoked-by` chain.
        replacement: Option<Hit>,
    },
    /// Nothing by that name; the closest known ids and names, best first.
    Unknown {
        /// Up to five suggestions.
        nearest: Vec<Suggestion>,
    },
}

impl Resolution {
    /// The object to use: the active or deprecated object itself, or a revoked
    /// object's replacement.
    pub fn current(&self) -> Option<Hit> {
        match self {
            Resolution::Active(hit) | Resolution::Deprecated(hit) => Some(*hit),
            Resolution::Revoked { replacement, .. } => *replacement,
            Resolution::Unknown { .. } => None,
        }
    }

    /// The object named, whatever its status.
    pub fn named(&self) -> Option<Hit> {
        match self {
            Resolution::Active(hit) | Resolution::Deprecated(hit) => Some(*hit),
            Resolution::Revoked { revoked, .. } => Some(*revoked),
            Resolution::Unknown { .. } => None,
        }
    }
}

/// A near match offered for an unknown name or id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The ATT&CK id.
    pub id: String,
    /// The object's name.
    pub name: String,
}

impl Knowledge {
    /// Finds an object by ATT&CK id (any case, `T1053.005`, `g0016`, `DET0001`), by STIX
    /// id, or by name or alias (any case). Enterprise is searched first.
    pub fn find(&self, query: &str) -> Option<Hit> {
        let query = query.trim();
        if query.is_empty() {
            return None;
        }
        for matrix in self.matrices() {
            if let Some(&node) = matrix.by_attack_id(query).first() {
                return Some(Hit {
                    domain: matrix.domain,
                    node,
                });
            }
        }
        for matrix in self.matrices() {
            if let Some(node) = matrix.by_stix_id(query) {
                return Some(Hit {
                    domain: matrix.domain,
                    node,
                });
            }
        }
        for matrix in self.matrices() {
            if let Some(&node) = matrix.by_name(query).first() {
                return Some(Hit {
                    domain: matrix.domain,
                    node,
                });
            }
        }
        None
    }

    /// Like [`Knowledge::find`], restricted to one domain.
    pub fn find_in(&self, domain: Domain, query: &str) -> Option<Hit> {
        let matrix = self.matrix(domain)?;
        let node = matrix
            .by_attack_id(query)
            .first()
            .copied()
            .or_else(|| matrix.by_stix_id(query.trim()))
            .or_else(|| matrix.by_name(query).first().copied())?;
        Some(Hit { domain, node })
    }

    /// Resolves a name or id, following revocations and suggesting near matches for an
    /// unknown one. `attack.t1053.005`-style Sigma tags are accepted as well.
    pub fn resolve(&self, query: &str) -> Resolution {
        let trimmed = query.trim();
        let bare = strip_tag_prefix(trimmed);
        let Some(hit) = self.find(bare).or_else(|| self.find(trimmed)) else {
            return Resolution::Unknown {
                nearest: self.nearest(bare, 5),
            };
        };
        let matrix = self.matrix_of(hit);
        match matrix.status(hit.node) {
            Status::Active => Resolution::Active(hit),
            Status::Deprecated => Resolution::Deprecated(hit),
            Status::Revoked => Resolution::Revoked {
                revoked: hit,
                replacement: matrix.replacement(hit.node).map(|node| Hit {
                    domain: hit.domain,
                    node,
                }),
            },
        }
    }

    /// The known ids or names closest to `query`, best first (at most `limit`).
    pub fn nearest(&self, query: &str, limit: usize) -> Vec<Suggestion> {
        let query = query.trim();
        let upper = query.to_ascii_uppercase();
        let lower = query.to_lowercase();
        let looks_like_id = kind_of_id(query).is_some();
        let mut scored: Vec<(f64, Hit)> = Vec::new();
        for matrix in self.matrices() {
            for node in matrix.nodes() {
                let Some(meta) = matrix.meta(node) else {
                    continue;
                };
                if meta.attack_id.is_empty() {
                    continue;
                }
                let score = if looks_like_id {
                    if kind_of_id(&meta.attack_id) != kind_of_id(query) {
                        continue;
                    }
                    strsim::normalized_damerau_levenshtein(&upper, &meta.attack_id)
                } else {
                    let mut best = name_similarity(&lower, &meta.name.to_lowercase());
                    for alias in matrix.aliases(node) {
                        best = best.max(name_similarity(&lower, &alias.to_lowercase()));
                    }
                    best
                };
                // Current objects first among equals: they are what the user wants.
                let bonus = if meta.status == Status::Active {
                    0.01
                } else {
                    0.0
                };
                scored.push((
                    score + bonus,
                    Hit {
                        domain: matrix.domain,
                        node,
                    },
                ));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut out: Vec<Suggestion> = Vec::new();
        for (score, hit) in scored {
            if out.len() >= limit || score < 0.5 {
                break;
            }
            let Some(meta) = self.matrix_of(hit).meta(hit.node) else {
                continue;
            };
            if out.iter().any(|s| s.id == meta.attack_id) {
                continue;
            }
            out.push(Suggestion {
                id: meta.attack_id.clone(),
                name: meta.name.clone(),
            });
        }
        out
    }
}

/// `attack.t1053.005` → `t1053.005`; `attack.g0016` → `g0016`; other text unchanged.
fn strip_tag_prefix(text: &str) -> &str {
    match text.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("attack.") => &text[7..],
        _ => text,
    }
}

/// Similarity of two lower-cased names: a containment counts as close, otherwise
/// Jaro-Winkler (which favours shared prefixes, as typed names have).
fn name_similarity(query: &str, name: &str) -> f64 {
    if query.len() >= 3 && name.contains(query) {
        0.9 + 0.09 * (query.len() as f64 / name.len().max(1) as f64)
    } else {
        strsim::jaro_winkler(query, name)
    }
}

#[cfg(test)]
mod tests {
    use super::{name_similarity, strip_tag_prefix};

    #[test]
    fn sigma_tag_prefixes_are_stripped() {
        assert_eq!(strip_tag_prefix("attack.t1053.005"), "t1053.005");
        assert_eq!(strip_tag_prefix("ATTACK.G0016"), "G0016");
        assert_eq!(strip_tag_prefix("attack-pattern--1"), "attack-pattern--1");
        assert_eq!(strip_tag_prefix("T1"), "T1");
    }

    #[test]
    fn containment_beats_a_loose_resemblance() {
        assert!(name_similarity("lsass", "lsass memory") > name_similarity("lsass", "lass"));
        assert!(name_similarity("scheduled tsak", "scheduled task") > 0.9);
        assert!(name_similarity("zzz", "scheduled task") < 0.5);
    }
}
