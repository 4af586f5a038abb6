//! Telemetry readers: EVTX and JSON-lines files, directories and stdin into events.
//!
//! This crate owns everything between bytes on disk and [`rampart_event::Event`]: finding
//! input files ([`inputs`]), decoding Windows EVTX (through the `evtx` crate) and JSON
//! (evtx_dump-style, flat Sigma-named, or nested ECS/Winlogbeat with a field-alias map,
//! gzip or plain, files or stdin), and flattening each record into Sigma-named fields once,
//! so that detection never walks nested data.
//!
//! Readers *push* events into a [`Sink`] in batches (one EVTX chunk, or a block of
//! lines) rather than returning collections: memory stays bounded by a few batches
//! whatever the input size, and batches of one file may be decoded and consumed on
//! several threads at once. Bad input never aborts a read: a corrupt chunk, record or
//! line becomes a [`Diagnostic`] naming the file and place, and reading goes on. Only a
//! file that cannot be opened at all is an [`IngestError`].
//!
//! [`watch`] follows folders for a long-running service: files dropped into them and
//! JSON-lines files that grow, read through the same readers, with checkpoints the
//! caller commits so that a restart reads no record twice and misses none.
//!
//! [`syslog`] reads the live side: RFC 5424 / 3164 messages over TCP and UDP, on plain
//! threads, delivered in small batches to a caller's sink that may push back.

mod alias;
mod builder;
mod diagnostic;
mod error;
mod evtx_reader;
mod fast_record;
mod flatten;
mod fuzz;
mod input;
mod json_reader;
mod lexer;
mod sink;
mod stream;
pub mod syslog;
mod text;
mod value;
pub mod watch;

pub use alias::{AliasFileError, FieldAliases};
pub use diagnostic::{Diagnostic, Place};
pub use error::IngestError;
pub use flatten::{flatten_json, flatten_json_str};
pub use fuzz::fuzz_json_flatteners_agree;
pub use input::{
    inputs, read_json, FindOptions, Found, Input, InputKind, ReadOptions, ReadStats,
    DEFAULT_MAX_LINE_BYTES,
};
pub use sink::{Collector, EventBatch, Sink};
