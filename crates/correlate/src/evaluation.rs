//! Leave-one-out evaluation of likely-next rankings over ATT&CK's own groups and
//! campaigns: hide one technique an actor used, give some of the rest as observed, and
//! check whether the hidden one comes in the top `k`.
//!
//! Honesty: the actor under test never votes, nor do the actors sharing its record (a
//! group's campaigns, a campaign's groups), since ATT&CK copies techniques between
//! them. Each case is thus a new actor the ranker has never seen. Only host-visible
//! techniques (see [`crate::NextPredictor`]) are hidden or observed; actors with fewer
//! than three of them are skipped.

use crate::actors::TechniqueIndex;
use crate::next::{NextPredictor, Observation, Options};
use std::collections::HashSet;

/// Which of an actor's other techniques count as observed when one is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// Those whose earliest staged tactic is not after the hidden one's (and any-stage
    /// ones): the incident as it stood when the hidden step came next.
    KillChainPrefix,
    /// All of them, in no order.
    AllOthers,
}

/// A ranking compared by the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranker {
    /// [`NextPredictor::predict`]'s ranking.
    Conditioned,
    /// The same without leaving out what lies behind the furthest tactic.
    ConditionedAnyOrder,
    /// Every actor counts the same (popularity), with the same filters as `Conditioned`.
    Popularity,
    /// The ranking before this one: groups only, weighed by the number of observed
    /// techniques they share, no tactic filter (order used only to break ties).
    OldCooccurrence,
}

impl Ranker {
    /// Every ranking, the shipped one first.
    pub const ALL: [Ranker; 4] = [
        Ranker::Conditioned,
        Ranker::ConditionedAnyOrder,
        Ranker::Popularity,
        Ranker::OldCooccurrence,
    ];

    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Ranker::Conditioned => "conditioned, forward only (shipped)",
            Ranker::ConditionedAnyOrder => "conditioned, any tactic",
            Ranker::Popularity => "popularity, same filters",
            Ranker::OldCooccurrence => "old co-occurrence (baseline)",
        }
    }
}

/// Hits of each ranking over the same cases.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// What counted as observed.
    pub observed: Observed,
    /// The `k` of hit@k.
    pub k: usize,
    /// Actors evaluated (three or more host-visible techniques).
    pub actors: usize,
    /// Hidden techniques tried (those with nothing observed before them are skipped).
    pub cases: usize,
    /// Hits per ranking, in the order asked for.
    pub hits: Vec<(Ranker, usize)>,
}

impl Evaluation {
    /// hit@k of a ranking (0 when it was not evaluated or there were no cases).
    pub fn hit_rate(&self, ranker: Ranker) -> f64 {
        let hits = self
            .hits
            .iter()
            .find(|(r, _)| *r == ranker)
            .map_or(0, |(_, h)| *h);
        if self.cases == 0 {
            0.0
        } else {
            hits as f64 / self.cases as f64
        }
    }
}

/// Runs the leave-one-out evaluation of `rankers` over every actor of `predictor`.
pub fn leave_one_out(
    predictor: &NextPredictor,
    observed: Observed,
    rankers: &[Ranker],
    k: usize,
) -> Evaluation {
    let actors = &predictor.actors;
    let mut evaluation = Evaluation {
        observed,
        k,
        actors: 0,
        cases: 0,
        hits: rankers.iter().map(|&r| (r, 0)).collect(),
    };
    for actor in 0..actors.len() {
        let visible: Vec<TechniqueIndex> = actors.uses[actor]
            .iter()
            .copied()
            .filter(|&t| predictor.placement[t as usize].host_visible)
            .collect();
        if visible.len() < 3 {
            continue;
        }
        evaluation.actors += 1;
        let mut excluded = vec![actor];
        excluded.extend_from_slice(actors.kin_of(actor));
        for &hidden in &visible {
            let stage = |t: TechniqueIndex| predictor.placement[t as usize].earliest;
            let seen: Vec<&str> = visible
                .iter()
                .copied()
                .filter(|&t| t != hidden)
                .filter(|&t| match (observed, stage(t), stage(hidden)) {
                    (Observed::KillChainPrefix, Some(s), Some(h)) => s <= h,
                    _ => true,
                })
                .map(|t| actors.techniques[t as usize].as_str())
                .collect();
            if seen.is_empty() {
                continue;
            }
            evaluation.cases += 1;
            let observation = predictor.observe(seen);
            for (ranker, hits) in &mut evaluation.hits {
                if top(predictor, *ranker, &observation, &excluded, k).contains(&hidden) {
                    *hits += 1;
                }
            }
        }
    }
    evaluation
}

/// The top `k` of one ranking.
fn top(
    predictor: &NextPredictor,
    ranker: Ranker,
    observation: &Observation,
    excluded: &[usize],
    k: usize,
) -> Vec<TechniqueIndex> {
    let options = match ranker {
        Ranker::OldCooccurrence => return old_cooccurrence(predictor, observation, excluded, k),
        Ranker::Conditioned => Options::FULL,
        Ranker::ConditionedAnyOrder => Options {
            forward_only: false,
            ..Options::FULL
        },
        Ranker::Popularity => Options {
            conditioned: false,
            ..Options::FULL
        },
    };
    let weights = predictor.actor_weights(observation, excluded, options);
    predictor
        .rank(observation, &weights, options, k)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// The ranking Rampart shipped before this one, kept to measure against: every group
/// sharing an observed technique (matched at base level) votes for all its other
/// techniques with the number of observed techniques it shares; ties go to the
/// technique whose earliest tactic (any-stage ones included) lies nearest at or after
/// the furthest observed one.
fn old_cooccurrence(
    predictor: &NextPredictor,
    observation: &Observation,
    excluded: &[usize],
    k: usize,
) -> Vec<TechniqueIndex> {
    let actors = &predictor.actors;
    let observed_bases: Vec<TechniqueIndex> = observation
        .ids
        .iter()
        .filter_map(|id| actors.base_index(id))
        .collect();
    let furthest = observation
        .ids
        .iter()
        .filter_map(|id| actors.technique_index(id))
        .filter_map(|t| predictor.placement[t as usize].position)
        .max();
    let excluded: HashSet<usize> = excluded.iter().copied().collect();
    let mut scores = vec![0usize; actors.techniques.len()];
    for actor in 0..actors.len() {
        if excluded.contains(&actor) || actors.actors[actor].kind != crate::ActorKind::Group {
            continue;
        }
        let overlap = observed_bases
            .iter()
            .filter(|b| actors.bases[actor].binary_search(b).is_ok())
            .count();
        if overlap > 0 {
            for &t in &actors.uses[actor] {
                scores[t as usize] += overlap;
            }
        }
    }
    let tactics = predictor.placement.len().max(1);
    let mut candidates: Vec<(TechniqueIndex, usize, usize)> = scores
        .iter()
        .enumerate()
        .filter(|(_, &score)| score > 0)
        .map(|(t, &score)| (t as TechniqueIndex, score))
        .filter(|&(t, _)| {
            !observation.ids.contains(&actors.techniques[t as usize])
                && !observation.parents.contains(&t)
        })
        .map(|(t, score)| {
            let distance = match (furthest, predictor.placement[t as usize].position) {
                (Some(f), Some(p)) if p >= f => p - f,
                (Some(f), Some(p)) => tactics + (f - p),
                _ => usize::MAX,
            };
            (t, score, distance)
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.2.cmp(&b.2))
            .then_with(|| actors.techniques[a.0 as usize].cmp(&actors.techniques[b.0 as usize]))
    });
    candidates.into_iter().take(k).map(|(t, _, _)| t).collect()
}
