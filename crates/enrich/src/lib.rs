//! Alert enrichment: ATT&CK, D3FEND and ENGAGE context for every alert, and the
//! native JSON-lines and OCSF serialisations of enriched alerts.
//!
//! Many alerts name few techniques, so [`Enricher`] resolves each technique id once
//! (revoked → replacement, deprecated and unknown ids flagged, never dropped) and
//! shares the resulting [`TechniqueContext`] behind an `Arc` between alerts.
//!
//! Native record ([`EnrichedAlert`], one JSON object per line):
//!
//! ```text
//! id                    the alert's stable id (= store id = OCSF finding_info.uid)
//! @timestamp            event time (RFC 3339, UTC)
//! rule                  { id, name, level, status, tags }
//! event                 { source, timestamp, computer, channel, provider, event_id, record_id }
//! matched[]             { field, value }: what made the rule match
//! context[]             { field, value }: the event's user, process, parent, … fields
//! threat                ECS: framework, technique.{id,name,reference}[],
//!                       technique.subtechnique.{id,name,reference}[], tactic.{id,name,reference}[],
//!                       for an attributed IoC alert group.{id,name,reference}[] and
//!                       software.{id,name,reference}[]; for an IoC alert enrichments[]
//!                       { indicator{type,provider,confidence}, matched{atomic,field,id,type} }
//! enrichment.techniques[]  { technique{id,name,url}, parent, tactics[] (matrix order),
//!                       groups{count,top[]}, mitigations[], detection_strategies[],
//!                       d3fend{<D3FEND tactic>: [{id,name,artifact}]}, engage[] }
//! enrichment.tags[]     { tag, status: active|deprecated|revoked(replaced_by)|
//!                       revoked_without_replacement|unknown(nearest[]) }
//! enrichment.pyramid    { level: hash_value|ip_address|domain_name|network_artifact|
//!                       host_artifact|tool|ttp, basis[]{field,level} }
//! enrichment.attribution   IoC alerts only: { groups[], software[], techniques[]
//!                       ({id,name,named_as[]}), group_techniques[] (what the groups do,
//!                       not what was seen), unresolved[] }
//! intel                 IoC alerts only: indicator, feed, observables, actors, malware, …
//! ```
//!
//! [`ocsf::detection_finding`] maps the same record onto OCSF Detection Finding (2004).

mod context;
mod enricher;
pub mod ocsf;
pub mod pyramid;

pub use context::{
    Activity, Countermeasure, GroupSummary, Ref, ResolvedTag, TacticRef, TagStatus,
    TechniqueContext, TOP_GROUPS,
};
pub use enricher::{
    EcsEnrichment, EcsIndicator, EcsMatched, EcsRefs, EcsTechnique, EnrichedAlert, Enricher,
    Enrichment, RuleView, Threat, FRAMEWORK,
};
pub use pyramid::{Pyramid, PyramidClassifier, PyramidLevel};
