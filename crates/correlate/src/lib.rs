//! Correlation: alerts grouped into incidents, likely next techniques, and the runtime
//! of Sigma correlation rules.
//!
//! Everything here works on alerts and on small plain-data views of ATT&CK
//! ([`KillChain`], [`GroupUsage`]) that the caller builds from the knowledge graph. That
//! keeps this crate free of loading and I/O, makes its tests construct exactly the
//! situation they check, and lets the store persist incidents without knowing ATT&CK.
//!
//! - [`group_incidents`]: host (and optionally user) + inactivity window → incidents in
//!   kill-chain order with a documented score.
//! - [`kill_chain_from`], [`group_usage_from`]: those views built from the knowledge graph.
//! - [`likely_next`]: conditional co-occurrence over ATT&CK groups, with rule coverage.
//! - [`sigma::CorrelationEngine`]: Sigma correlation rules over event time, streaming.

mod from_knowledge;
mod incident;
mod killchain;
mod next;
pub mod sigma;

pub use from_knowledge::{group_usage_from, kill_chain_from};
pub use incident::{
    alert_user, group_incidents, level_weight, score, Incident, IncidentConfig, TimelineEntry,
};
pub use killchain::{KillChain, Tactic};
pub use next::{coverage_of, likely_next, Coverage, GroupUsage, NextTechnique};
