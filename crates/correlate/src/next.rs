//! Likely next techniques: what the ATT&CK groups and campaigns that best fit the
//! observed techniques did next.
//!
//! Method. Let `O` be the observed techniques (revoked ids replaced by their successors)
//! and `B(O)` their base techniques. Every actor (group or campaign) `a` with base
//! techniques `B(a)` is weighed by how well it fits, a rarity-weighted Jaccard
//! similarity, squared so that the best-fitting actors dominate:
//!
//! ```text
//! rarity(b) = ln((actors + 1) / actors using b)
//! fit(a)    = Σ_{b ∈ B(O) ∩ B(a)} rarity(b) / Σ_{b ∈ B(O) ∪ B(a)} rarity(b)
//! weight(a) = fit(a)²
//! likelihood(t) = Σ_{a used t} weight(a) / Σ_a weight(a)
//! ```
//!
//! Rarity makes a technique nearly every actor uses (command shells, file downloads)
//! count for little, so two incidents with different distinctive techniques get
//! different suggestions, not the same popular few.
//!
//! Candidates are left out when they were observed (or are the parent of an observed
//! sub-technique), when they serve only pre-compromise tactics (reconnaissance, resource
//! development: host telemetry never sees them), and when all their tactics lie before
//! the furthest tactic the incident reached. The furthest tactic is the latest among the
//! observed techniques' earliest tactics, so a multi-tactic technique does not push the
//! incident further than its most modest reading. Stealth and Defense Impairment (ATT&CK
//! 19's split of Defense Evasion, and Defense Evasion itself in older bundles) happen at
//! every stage: they neither advance the furthest tactic nor count as behind it.
//!
//! The next step is most often in the tactic reached or the one after, so a candidate's
//! score is halved for every tactic its nearest tactic lies ahead of the furthest one
//! (any-stage techniques count as one ahead; a technique that also serves the furthest
//! tactic, none). Ties go to the technique nearest forward, then to the id. The
//! leave-one-out evaluation ([`crate::evaluation`], BENCHMARKS.md) measures each part.
//!
//! Attribution. When threat intelligence attributes an incident to ATT&CK groups (an IoC
//! alert whose indicator points at `APT29`, [`NextPredictor::predict_attributed`]), the
//! evidence is stronger than any fit: those groups weigh as a perfect fit (1), and the
//! techniques they used rank before all others, each explained by the groups it comes
//! from (`IoC attributed to G0016`).

use crate::actors::{ActorKind, TechniqueIndex, ThreatActors};
use crate::KillChain;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Tactics that come before compromise: host telemetry never shows them.
const PRE_COMPROMISE: &[&str] = &["reconnaissance", "resource-development"];

/// Tactics that happen at any stage of an intrusion (see the module documentation).
const ANY_STAGE: &[&str] = &["stealth", "defense-impairment", "defense-evasion"];

/// How many supporting actors a suggestion names.
const SUPPORT_SHOWN: usize = 5;

/// Whether the loaded rules detect a technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// A rule is tagged with this exact technique.
    Covered,
    /// No rule names it, but one names its parent technique.
    ParentOnly,
    /// No rule covers it.
    NotCovered,
}

/// An actor that supports a suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Support {
    /// ATT&CK id of the group or campaign.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Group or campaign.
    pub kind: ActorKind,
    /// Its share of the suggestion's score, 0–1.
    pub share: f64,
    /// The observed techniques it also used (matched at base-technique level).
    pub shared: Vec<String>,
}

/// One predicted technique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextTechnique {
    /// Technique id.
    pub technique: String,
    /// Display name, when known.
    pub name: Option<String>,
    /// Share of the actor evidence pointing at it, 0–1, halved for every tactic it lies
    /// ahead of the furthest one reached (see the module documentation).
    pub likelihood: f64,
    /// The tactic it would serve next: its first tactic at or after the furthest one
    /// observed (or an any-stage tactic), in matrix order.
    pub tactic: Option<String>,
    /// Whether the loaded rules detect it.
    pub coverage: Coverage,
    /// Number of fitting groups and campaigns that used it.
    pub supporters: usize,
    /// The strongest of them (at most five), strongest first.
    pub supported_by: Vec<Support>,
    /// The groups the incident's IoC alerts are attributed to that used it, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributed_to: Vec<String>,
}

impl NextTechnique {
    /// One line for people: `T1003.001 (OS Credential Dumping: LSASS Memory) — no rule
    /// covers it [likelihood 0.31; APT29, FIN7, … of 12]`.
    pub fn describe(&self) -> String {
        let name = self
            .name
            .as_deref()
            .map(|n| format!(" ({})", printable(n)))
            .unwrap_or_default();
        let coverage = match self.coverage {
            Coverage::Covered => "covered by a rule",
            Coverage::ParentOnly => "only its parent technique is covered",
            Coverage::NotCovered => "no rule covers it",
        };
        let names: Vec<String> = self
            .supported_by
            .iter()
            .map(|s| printable(&s.name))
            .collect();
        let more = if self.supporters > names.len() {
            format!(", … of {}", self.supporters)
        } else {
            String::new()
        };
        let attributed = if self.attributed_to.is_empty() {
            String::new()
        } else {
            format!(
                "; IoC attributed to {}",
                printable(&self.attributed_to.join(", "))
            )
        };
        format!(
            "{}{name} — {coverage} [likelihood {:.2}; {}{more}{attributed}]",
            printable(&self.technique),
            self.likelihood,
            names.join(", ")
        )
    }
}

/// Text from the ATT&CK feed made safe for a terminal: control characters (escape
/// sequences a hostile bundle could carry) are written as visible escapes.
fn printable(text: &str) -> String {
    rampart_event::terminal::escape(text).into_owned()
}

/// Where a technique sits in the kill chain, precomputed per interned technique.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Placement {
    /// It serves a tactic after compromise.
    pub(crate) host_visible: bool,
    /// It serves an any-stage tactic.
    pub(crate) any_stage: bool,
    /// Earliest and latest position among its staged tactics.
    pub(crate) earliest: Option<usize>,
    pub(crate) latest: Option<usize>,
    /// Earliest position among all its tactics (what the old ranking sorted by).
    pub(crate) position: Option<usize>,
}

/// Which filters and weights a ranking applies; the evaluation compares them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Weigh actors by their fit; otherwise every actor counts the same (popularity).
    pub(crate) conditioned: bool,
    /// Leave out candidates behind the furthest observed tactic.
    pub(crate) forward_only: bool,
    /// Factor applied once per tactic a candidate lies ahead of the furthest one.
    pub(crate) stage_decay: f64,
}

impl Options {
    pub(crate) const FULL: Options = Options {
        conditioned: true,
        forward_only: true,
        stage_decay: STAGE_DECAY,
    };
}

/// See [`Options::stage_decay`].
const STAGE_DECAY: f64 = 0.5;

/// The observed techniques, resolved against the actor table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observation {
    /// Canonical ids.
    pub(crate) ids: HashSet<String>,
    /// Known base techniques, sorted, distinct.
    pub(crate) bases: Vec<TechniqueIndex>,
    /// Bases that are the parent of an observed sub-technique.
    pub(crate) parents: HashSet<TechniqueIndex>,
    /// The furthest staged tactic reached.
    pub(crate) furthest: Option<usize>,
}

/// Ranks likely next techniques; built once per knowledge graph.
#[derive(Debug, Clone)]
pub struct NextPredictor {
    pub(crate) actors: ThreatActors,
    kill_chain: KillChain,
    pub(crate) placement: Vec<Placement>,
}

impl NextPredictor {
    /// Indexes `actors` against `kill_chain`.
    pub fn new(actors: ThreatActors, kill_chain: KillChain) -> Self {
        let placement = actors
            .techniques
            .iter()
            .map(|t| placement_of(&kill_chain, t))
            .collect();
        NextPredictor {
            actors,
            kill_chain,
            placement,
        }
    }

    /// The actors suggestions are drawn from.
    pub fn actors(&self) -> &ThreatActors {
        &self.actors
    }

    /// Ranks likely next techniques after `observed`; at most `limit` results.
    ///
    /// `covered` holds the technique ids the loaded rules are tagged with.
    pub fn predict(
        &self,
        observed: &[String],
        covered: &HashSet<String>,
        limit: usize,
    ) -> Vec<NextTechnique> {
        self.predict_attributed(observed, &[], covered, limit)
    }

    /// [`NextPredictor::predict`] for an incident that threat intelligence attributes to
    /// `attributed` ATT&CK groups (ids such as `G0016`, names or aliases as feeds write
    /// them, `APT 29`; unknown ones are ignored): their techniques rank first (see the
    /// module documentation).
    pub fn predict_attributed(
        &self,
        observed: &[String],
        attributed: &[String],
        covered: &HashSet<String>,
        limit: usize,
    ) -> Vec<NextTechnique> {
        let observation = self.observe(observed.iter().map(String::as_str));
        let mut weights = self.actor_weights(&observation, &[], Options::FULL);
        let attributed = self.attributed_actors(attributed);
        for &actor in &attributed {
            weights[actor] = 1.0;
        }
        let ranked = self.rank_attributed(&observation, &weights, &attributed, limit);
        let total: f64 = weights.iter().sum();
        ranked
            .into_iter()
            .map(|(technique, score)| {
                let mut next =
                    self.explain(technique, score / total, &observation, &weights, covered);
                next.attributed_to = attributed
                    .iter()
                    .filter(|&&actor| self.actors.uses[actor].binary_search(&technique).is_ok())
                    .map(|&actor| self.actors.actors[actor].id.clone())
                    .collect();
                next
            })
            .collect()
    }

    /// The groups `names` name (ids, names or aliases; see
    /// [`ThreatActors::group_named`]), by index, sorted.
    fn attributed_actors(&self, names: &[String]) -> Vec<usize> {
        let mut found: Vec<usize> = names
            .iter()
            .filter_map(|name| self.actors.group_named(name))
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// [`NextPredictor::rank`], with the techniques of `attributed` actors first.
    fn rank_attributed(
        &self,
        observation: &Observation,
        weights: &[f64],
        attributed: &[usize],
        limit: usize,
    ) -> Vec<(TechniqueIndex, f64)> {
        if attributed.is_empty() {
            return self.rank(observation, weights, Options::FULL, limit);
        }
        let mut ranked = self.rank(observation, weights, Options::FULL, usize::MAX);
        let used = |technique: &TechniqueIndex| {
            attributed
                .iter()
                .any(|&actor| self.actors.uses[actor].binary_search(technique).is_ok())
        };
        // A stable sort keeps the ranking's order within each part.
        ranked.sort_by_key(|(technique, _)| !used(technique));
        ranked.truncate(limit);
        ranked
    }

    /// Resolves observed ids: canonical form, base techniques, furthest tactic.
    pub(crate) fn observe<'a>(&self, observed: impl IntoIterator<Item = &'a str>) -> Observation {
        let mut observation = Observation::default();
        for raw in observed {
            let id = self.actors.canonical(raw);
            if id.is_empty() {
                continue;
            }
            if let Some(base) = self.actors.base_index(&id) {
                observation.bases.push(base);
                if id.contains('.') {
                    observation.parents.insert(base);
                }
            }
            let place = match self.actors.technique_index(&id) {
                Some(index) => self.placement[index as usize],
                None => placement_of(&self.kill_chain, &id),
            };
            observation.furthest = observation.furthest.max(place.earliest);
            observation.ids.insert(id);
        }
        observation.bases.sort_unstable();
        observation.bases.dedup();
        observation
    }

    /// Each actor's weight (see the module documentation); `excluded` actors get none.
    pub(crate) fn actor_weights(
        &self,
        observation: &Observation,
        excluded: &[usize],
        options: Options,
    ) -> Vec<f64> {
        let actors = &self.actors;
        let mut weights = vec![0.0; actors.len()];
        if options.conditioned {
            let observed_rarity: f64 = observation
                .bases
                .iter()
                .map(|&b| actors.rarity[b as usize])
                .sum();
            for &base in &observation.bases {
                for &actor in &actors.users_of_base[base as usize] {
                    weights[actor] += actors.rarity[base as usize];
                }
            }
            for (actor, weight) in weights.iter_mut().enumerate() {
                let union = observed_rarity + actors.rarity_total[actor] - *weight;
                *weight = if union > 0.0 {
                    (*weight / union).powi(2)
                } else {
                    0.0
                };
            }
        } else {
            weights.fill(1.0);
        }
        for &actor in excluded {
            if let Some(weight) = weights.get_mut(actor) {
                *weight = 0.0;
            }
        }
        weights
    }

    /// The `limit` best candidates with their summed actor weight, best first.
    pub(crate) fn rank(
        &self,
        observation: &Observation,
        weights: &[f64],
        options: Options,
        limit: usize,
    ) -> Vec<(TechniqueIndex, f64)> {
        let actors = &self.actors;
        let mut scores = vec![0.0; actors.techniques.len()];
        for (actor, &weight) in weights.iter().enumerate() {
            if weight > 0.0 {
                for &technique in &actors.uses[actor] {
                    scores[technique as usize] += weight;
                }
            }
        }
        let furthest = if options.forward_only {
            observation.furthest
        } else {
            None
        };
        let mut candidates: Vec<(TechniqueIndex, f64, usize)> = scores
            .iter()
            .enumerate()
            .filter(|(_, &score)| score > 0.0)
            .map(|(index, &score)| (index as TechniqueIndex, score))
            .filter(|&(index, _)| self.suggestible(index, observation, furthest))
            .map(|(index, score)| {
                let place = self.placement[index as usize];
                let distance = forward_distance(place, observation.furthest);
                let score = match (furthest, distance) {
                    (Some(_), d) if d < usize::MAX => {
                        score * options.stage_decay.powi(d.min(64) as i32)
                    }
                    _ => score,
                };
                (index, score, distance)
            })
            .collect();
        candidates.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| a.2.cmp(&b.2))
                .then_with(|| actors.techniques[a.0 as usize].cmp(&actors.techniques[b.0 as usize]))
        });
        candidates.truncate(limit);
        candidates
            .into_iter()
            .map(|(index, score, _)| (index, score))
            .collect()
    }

    /// Whether a technique may be suggested after this observation.
    fn suggestible(
        &self,
        technique: TechniqueIndex,
        observation: &Observation,
        furthest: Option<usize>,
    ) -> bool {
        let place = self.placement[technique as usize];
        let id = &self.actors.techniques[technique as usize];
        place.host_visible
            && !observation.ids.contains(id)
            && !observation.parents.contains(&technique)
            && match (furthest, place.latest) {
                (Some(furthest), Some(latest)) => place.any_stage || latest >= furthest,
                _ => true,
            }
    }

    fn explain(
        &self,
        technique: TechniqueIndex,
        likelihood: f64,
        observation: &Observation,
        weights: &[f64],
        covered: &HashSet<String>,
    ) -> NextTechnique {
        let actors = &self.actors;
        let id = &actors.techniques[technique as usize];
        let mut supporters: Vec<(usize, f64)> = weights
            .iter()
            .enumerate()
            .filter(|&(actor, &weight)| {
                weight > 0.0 && actors.uses[actor].binary_search(&technique).is_ok()
            })
            .map(|(actor, &weight)| (actor, weight))
            .collect();
        let score: f64 = supporters.iter().map(|s| s.1).sum();
        supporters.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| actors.actors[a.0].id.cmp(&actors.actors[b.0].id))
        });
        let supported_by = supporters
            .iter()
            .take(SUPPORT_SHOWN)
            .map(|&(actor, weight)| {
                let mut shared: Vec<String> = observation
                    .ids
                    .iter()
                    .filter(|o| {
                        actors
                            .base_index(o)
                            .is_some_and(|b| actors.bases[actor].binary_search(&b).is_ok())
                    })
                    .cloned()
                    .collect();
                shared.sort();
                let who = &actors.actors[actor];
                Support {
                    id: who.id.clone(),
                    name: who.name.clone(),
                    kind: who.kind,
                    share: weight / score,
                    shared,
                }
            })
            .collect();
        NextTechnique {
            technique: id.clone(),
            name: actors.name(id).map(str::to_string),
            likelihood,
            tactic: self.next_tactic(id, observation.furthest),
            coverage: coverage_of(id, covered),
            supporters: supporters.len(),
            supported_by,
            attributed_to: Vec::new(),
        }
    }

    /// The first of a technique's tactics at or after `furthest` (or any-stage).
    fn next_tactic(&self, technique: &str, furthest: Option<usize>) -> Option<String> {
        let chain = &self.kill_chain;
        let mut tactics: Vec<String> = chain.tactics_of(technique).to_vec();
        chain.sort_tactics(&mut tactics);
        tactics
            .iter()
            .find(|t| {
                ANY_STAGE.contains(&t.as_str())
                    || match (furthest, chain.position(t)) {
                        (Some(f), Some(p)) => p >= f,
                        _ => true,
                    }
            })
            .or(tactics.first())
            .cloned()
    }
}

/// How far forward of the furthest observed tactic a candidate's nearest tactic lies;
/// any-stage techniques count as one step forward, backward ones come last.
fn forward_distance(place: Placement, furthest: Option<usize>) -> usize {
    let Some(furthest) = furthest else {
        return place.earliest.unwrap_or(usize::MAX);
    };
    match (place.earliest, place.latest) {
        (Some(earliest), _) if earliest >= furthest => earliest - furthest,
        _ if place.any_stage => 1,
        (_, Some(latest)) if latest >= furthest => 0,
        _ => usize::MAX,
    }
}

/// Where a technique sits in the kill chain (see [`Placement`]).
pub(crate) fn placement_of(kill_chain: &KillChain, technique: &str) -> Placement {
    let mut place = Placement::default();
    for tactic in kill_chain.tactics_of(technique) {
        let tactic = tactic.as_str();
        if !PRE_COMPROMISE.contains(&tactic) {
            place.host_visible = true;
        }
        let position = kill_chain.position(tactic);
        place.position = min_some(place.position, position);
        if ANY_STAGE.contains(&tactic) {
            place.any_stage = true;
        } else if let Some(position) = position {
            place.earliest = min_some(place.earliest, Some(position));
            place.latest = place.latest.max(Some(position));
        }
    }
    place
}

fn min_some(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Coverage of a technique by the rules' technique tags.
pub fn coverage_of(technique: &str, covered: &HashSet<String>) -> Coverage {
    let id = technique.to_ascii_uppercase();
    if covered.contains(&id) {
        Coverage::Covered
    } else if id
        .split_once('.')
        .is_some_and(|(parent, _)| covered.contains(parent))
    {
        Coverage::ParentOnly
    } else {
        Coverage::NotCovered
    }
}
