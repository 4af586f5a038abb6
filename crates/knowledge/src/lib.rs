//! The ATT&CK, D3FEND and ENGAGE knowledge graph, and its lookups.
//!
//! Every stage that speaks about adversary behaviour asks this crate: enrichment (what
//! is this technique, who uses it), correlation (tactic order, likely next steps),
//! coverage (tactics, techniques, detection strategies' log sources, countermeasures)
//! and the `rampart attack` / `rampart group` commands.
//!
//! Shape, and why:
//! - Each ATT&CK domain is its own [`Matrix`]: typed tables per object kind, the
//!   relationships as edges between small [`NodeRef`]s, and lookup indices derived from
//!   them. ATT&CK ids are only unique within a domain, and the domains are published
//!   and versioned separately.
//! - [`Knowledge`] joins the matrices with D3FEND and ENGAGE (from `rampart-defense`).
//!   Enterprise is required; the rest degrade to warnings, so a partial data directory
//!   still answers what it can.
//! - Revoked and deprecated objects are kept, marked by [`Status`], and skipped by the
//!   traversals; [`Knowledge::resolve`] returns a [`Resolution`] so callers decide what a
//!   stale id means for them (a revoked id resolves to its replacement).
//! - Building from 50 MB of JSON takes a fraction of a second; [`Knowledge::load`]
//!   caches the built graph (see the `cache` module notes) so a lookup takes
//!   milliseconds.
//! - [`report`] turns objects into stable, documented JSON views (the `--json` output of
//!   the CLI and the enrichment payload).
//!
//! API at a glance:
//! - loading: [`Knowledge::load`] (data dir, cached), [`Knowledge::load_cached`],
//!   [`Knowledge::from_files`] (no cache), [`load_matrix`] (one bundle);
//! - finding: [`Knowledge::find`] / [`Knowledge::find_in`] (id any case, STIX id, name,
//!   alias), [`Knowledge::resolve`] (with status and nearest matches),
//!   [`Knowledge::search`] (ranked), [`Knowledge::search_all`] (with D3FEND and ENGAGE), [`Matrix::by_attack_id`], [`Matrix::by_name`];
//! - traversing one domain ([`Matrix`]): `tactic_order`, `techniques_filtered`
//!   (tactic/platform), `groups_using`, `software_using`, `techniques_of_group`
//!   (with [`Provenance`]: direct / via software / via campaigns), `software_of_group`,
//!   `campaigns_of_group`, `mitigations_of`, `detection_strategies_of`, `log_sources_of`,
//!   `replacement` (end of a revocation chain);
//! - defence: [`Knowledge::countermeasures`] (D3FEND), [`Knowledge::engage_activities`];
//! - views: [`Knowledge::report`] and the types of [`report`]; their text in [`text`];
//!   [`Knowledge::show`]: what `attack show` (and the service's `/api/v1/attack/{id}`)
//!   shows for a query, D3FEND and ENGAGE ids included.
//!
//! Reading only: besides the input files and its own cache, the crate does no I/O.

mod build;
mod cache;
mod error;
mod knowledge;
mod matrix;
mod model;
mod queries;
pub mod report;
mod resolve;
mod search;
mod show;
mod stix;
pub mod text;

pub use build::{build_matrix, load_matrix};
pub use cache::{default_cache_dir, CacheStatus};
pub use error::KnowledgeError;
pub use knowledge::{Hit, Knowledge};
pub use matrix::{kind_of_id, Matrix, ObjectCounts, TypeCount};
pub use model::*;
pub use queries::{Provenance, StrategyLogSources};
pub use report::Report;
pub use resolve::{Resolution, Suggestion};
pub use search::{Found, FoundHit, SearchHit};
pub use show::ShowError;
pub use stix::read_maybe_gzip;

/// Re-exported so callers need not depend on `rampart-defense` to name these.
pub use rampart_defense::d3fend::{Countermeasure, Ontology};
pub use rampart_defense::engage::{Engage, EngageMapping};
pub use rampart_refdata::DataFiles;
