//! The hunt pipeline as a library: what `rampart hunt`, `rampart sigma test`, the
//! service and the benches share.
//!
//! A hunt is sources → scan → order → sinks:
//!
//! - [`rules`] loads and compiles a rule set into [`CompiledRules`] (engine, rule set
//!   and what correlations need), held in an [`std::sync::Arc`] so a long-running
//!   service can compile a new set aside and swap it in one store.
//! - [`CompiledRules::scan_events`] runs a batch of events through the engine on any
//!   thread, with that thread's scratch buffers (kept from batch to batch), and sorts
//!   the alerts into those to emit and those a correlation must see with their event.
//! - An [`EventSource`] pushes [`rampart_ingest::EventBatch`]es into a
//!   [`rampart_ingest::Sink`]; [`hunt::run`] scans every batch on the thread that
//!   decoded it, puts the alerts back in input order ([`Ordered`]) whatever the thread
//!   count, replays correlations in event-time order at the end, and hands every
//!   alert to one [`AlertSink`].
//! - [`intel::load_indicators`] builds a threat-intelligence matcher (from feed files
//!   and a store's active indicators) that
//!   [`CompiledRules::with_intel`] runs on every event right after the rules; its hits
//!   are IoC alerts beside the rules' alerts.
//! - [`store::StoreSink`] keeps alerts in the store, [`store::StoreTee`] in the store
//!   and an output at once.
//!
//! The shape follows the data: the engine pushes alerts into closures rather than
//! returning collections, sources push batches into sinks, and nothing here knows
//! about flags, terminals or output formats (the `rampart` binary's business).

pub mod error;
pub mod hunt;
pub mod intel;
pub mod ordered;
pub mod retro;
pub mod rules;
pub mod samples;
pub mod scan;
pub mod sink;
pub mod source;
pub mod store;

pub use error::Error;
pub use hunt::{HuntOptions, HuntReport, Observer};
pub use intel::{load_indicator_files, load_indicators, IntelLoad};
pub use ordered::Ordered;
pub use rules::{
    compile_rules, load_rules, read_rules, with_tuning, CompiledRules, LoadedRules, ReadRules,
};
pub use scan::{ScanOptions, Scanned};
pub use sink::AlertSink;
pub use source::{EventSource, FileSource, VecSource};
pub use store::{StoreReport, StoreSink, StoreTee};
