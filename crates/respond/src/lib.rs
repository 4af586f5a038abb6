//! Response: what to do about an incident, and doing it so that an auditor can trust it.
//!
//! - [`playbook`]: the playbook format (YAML, versioned, JSON Schema), its linter,
//!   triggers and the inputs a run takes from an incident or alert.
//! - [`plan`]: the D3FEND countermeasures answering an incident's techniques, ranked, with
//!   ATT&CK mitigations and RE&CT response actions.
//! - [`action`]: connectors (HTTP, e-mail, command) behind one trait; a step is first
//!   *prepared* (rendered, secrets left as references) and only then *sent*.
//! - [`engine`]: runs as durable state machines in the store, sent by a pool of
//!   threads with retries, per-target limits and approvals.
//! - `testing` (feature `testing`): real peers for tests — an HTTP(S) server that acts
//!   once per idempotency key, an SMTP server — usable from any crate's tests.
//!
//! Each step of a run names the D3FEND technique it implements and its RE&CT stage, so
//! the response speaks the detection's language.

pub mod action;
pub mod auto;
pub mod engine;
pub mod error;
pub mod plan;
pub mod playbook;
pub mod react;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::RespondError;
