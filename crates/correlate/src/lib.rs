//! Correlation: alerts grouped into incidents, likely next techniques, and the runtime
//! of Sigma correlation rules.
//!
//! Everything here works on alerts and on small plain-data views of ATT&CK
//! ([`KillChain`], [`ThreatActors`]) that the caller builds from the knowledge graph.
//! That keeps this crate free of loading and I/O, makes its tests construct exactly the
//! situation they check, and lets the store persist incidents without knowing ATT&CK.
//!
//! - [`group_incidents`]: host (and optionally user) + inactivity window → incidents in
//!   kill-chain order with a documented score.
//! - [`kill_chain_from`], [`threat_actors_from`], [`next_predictor_from`]: those views
//!   built from the knowledge graph.
//! - [`NextPredictor`]: likely next techniques, conditioned on the ATT&CK groups and
//!   campaigns that fit the observed techniques, forward in the kill chain, explained.
//! - [`evaluation`]: leave-one-out hit@k of that ranking against the old one.
//! - [`sigma::CorrelationEngine`]: Sigma correlation rules over event time, streaming.
//! - [`live`]: the same for a service that never ends: [`live::StreamingCorrelator`]
//!   (correlations judged by a watermark) and [`live::IncidentTracker`] (incidents
//!   grown alert batch by alert batch).

mod actors;
pub mod evaluation;
mod from_knowledge;
mod incident;
mod killchain;
pub mod live;
mod next;
pub mod sigma;

pub use actors::{Actor, ActorKind, ThreatActors, ThreatActorsBuilder};
pub use from_knowledge::{kill_chain_from, next_predictor_from, threat_actors_from};
pub use incident::{
    alert_user, attributed_groups, group_incidents, level_weight, score, Incident, IncidentConfig,
    TimelineEntry, INTEL_RULE_PREFIX,
};
pub use killchain::{KillChain, Tactic};
pub use next::{coverage_of, Coverage, NextPredictor, NextTechnique, Support};
