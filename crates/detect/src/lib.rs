//! The compiled Sigma rule set: routes events to the rules that can match them and
//! emits alerts.
//!
//! Peers (Chainsaw, Hayabusa) run every rule of an event's channel one by one and spend
//! nearly all their time there. [`Engine::compile`] instead does the work once per rule
//! set: rules are grouped by route (channel and event id, from the [`LogsourceMap`]);
//! each group interns the fields its rules read and puts every literal its rules need
//! into one Aho-Corasick automaton per field. Scanning an event is then one pass over
//! its fields, one automaton pass per referenced field, and a full evaluation only for
//! the few rules whose necessary literals occurred. The semantics are the sigma
//! crate's reference evaluator's, and a differential test over the real corpus keeps
//! them identical.
//!
//! Routing policy: an event whose channel the map names sees only the rules routed to
//! that channel and event id. Rules whose logsource the map does not know (Linux,
//! cloud, web…) are still compiled, and run on events whose channel the map does not
//! name or that have none (JSON from other products), where their detection alone
//! decides. Windows rules never fire on foreign telemetry and foreign rules never
//! fire on Windows logs; users map new sources with their own logsource file.
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

pub use engine::{CompileDiagnostic, CompileDiagnosticKind, Engine};
pub use logsource::{LogsourceError, LogsourceKey, LogsourceMap, Source};
pub use scratch::Scratch;
