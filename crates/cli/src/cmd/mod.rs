//! One module per subcommand; each owns its arguments and returns an exit code.

pub mod alerts;
pub mod attack;
pub mod audit;
pub mod coverage;
pub mod data;
pub mod group;
pub mod hunt;
pub mod hunt_store;
pub mod incidents;
pub mod intel;
pub mod intel_hits;
pub mod intel_taxii;
pub mod placeholders;
pub mod respond;
pub mod serve;
pub mod sigma;
pub mod token;
pub mod triage;
