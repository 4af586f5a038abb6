//! The compiled Sigma rule set: routes events to the rules that can match them and
//! emits alerts.
//!
//! Peers (Chainsaw, Hayabusa) run every rule of an event's channel one by one and spend
//! nearly all their time there. [`Engine::compile`] instead does the work once per rule
//! set: rules are routed (channel and event id, from the [`LogsourceMap`]); field
//! names are interned to slots; every literal a rule's patterns need goes into one
//! Aho-Corasick automaton per field and per *unit* (the rules of one logsource
//! source, shared by all routes that use it, built on first use). Scanning an event is
//! one pass over its fields, one automaton pass per referenced field, and a full
//! evaluation only for the few rules whose necessary literals occurred — and even then
//! a pattern whose literal did not occur is false without looking at the value. The
//! semantics are the sigma crate's reference evaluator's (`Rule::matches`), and a
//! differential test over the real corpus keeps them identical.
//!
//! Routing policy: an event whose channel the map names sees only the rules routed to
//! that channel and event id (a source that names no channel serves those the map
//! names for its product). Linux services are mapped to the `Linux/<service>`
//! channels syslog ingest gives its events. Rules whose logsource the map does not
//! know (cloud, web, network devices…) are still compiled, and run on events whose channel the map does not
//! name or that have none (JSON from other products), where their detection alone
//! decides. Windows rules never fire on foreign telemetry and foreign rules never
//! fire on Windows logs; users map new sources with their own logsource file.
//!
//! Field renames (Security 4688's `NewProcessName` for the taxonomy's `Image`) apply
//! per route and only when the event lacks the taxonomy's own field
//! ([`Engine::renamed_view`] shows an event as the rules see it). Sigma filters
//! (meta-filters) in the [`rampart_sigma::RuleSet`] are and-ed into the rules they
//! name.
//!
//! No I/O beyond reading a user's logsource file: events come in, alerts go out
//! through a callback, so the caller chooses threading and output.

mod compile;
mod engine;
mod eval;
mod glob;
mod group;
pub mod logsource;
mod scratch;

pub use engine::{CompileDiagnostic, CompileDiagnosticKind, Engine, SuppressedCount};
pub use logsource::{Conversion, LogsourceError, LogsourceKey, LogsourceMap, Source, ValueForm};
pub use scratch::Scratch;
