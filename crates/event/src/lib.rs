//! The records that flow between Rampart's stages.
//!
//! Ingest produces [`Event`]s, detection turns (rule, event) matches into [`Alert`]s,
//! and every later stage (enrich, correlate, store, coverage) consumes alerts. Keeping
//! both types in one small crate with no I/O lets each stage depend on the data shape
//! without depending on the stage that produced it.
//!
//! An event is a flat list of Sigma-named fields. Readers (EVTX, JSON lines) flatten
//! their native shape into it once, so the detection engine never walks nested JSON on
//! its hot path.

mod alert;
mod error_chain;
mod event;
mod level;
pub mod terminal;

pub use alert::{
    alert_id, cap_context, context_fields, derived_alert_id, is_alert_id, Alert, AlertIntel,
    AlertObservable, ContextField, JsonLineWriter, MatchedField, CONTEXT_FIELDS, CONTEXT_VALUE_CAP,
    CUT_MARK, FULL_EVENT_FIELD_CAP,
};
pub use error_chain::error_chain;
pub use event::{Event, EventMeta, Text, Value};
pub use level::Level;
