//! Rampart as a service: `rampart serve`.
//!
//! One process, the embedded store: telemetry arrives over HTTP (JSON lines, or the
//! Elasticsearch `_bulk` subset log shippers send), runs through the same compiled rule
//! set as `rampart hunt`, and its alerts are committed to the store before the sender
//! is answered. The crate is shaped around that one durability point:
//!
//! ```text
//!  HTTP handler ──parse (blocking pool)──► admission (bounded, in events; full → 429)
//!        ▲                                        │ channel
//!        │ answer after commit                    ▼
//!        └──────────── detection thread: group jobs → scan on the rayon pool
//!                                          → one store transaction → reply to each job
//! ```
//!
//! - [`server`] binds, serves (plain HTTP or TLS) and shuts down gracefully: stop
//!   accepting, let in-flight requests finish, drain the queue, commit, return.
//! - [`detection`] owns the queue and the detection thread; nothing else writes alerts.
//! - [`state::AppState`] is what every handler sees: the compiled rules (swapped
//!   atomically on reload), a store connection for queries, metrics, the queue.
//! - [`auth`] checks bearer tokens against the store (hashes only) with a short cache,
//!   and maps roles to permissions.
//! - [`api`] holds the routes; [`api::router`] is where every route is merged.

pub mod api;
pub mod auth;
pub mod config;
pub mod detection;
pub mod error;
pub mod fuzz;
mod intel;
pub mod metrics;
pub mod respond;
pub mod rules;
pub mod server;
pub mod sources;
pub mod state;
mod tls;

pub use config::{Limits, RuleSource, ServeConfig, TlsFiles};
pub use error::{ApiError, ServeError};
pub use respond::RespondSetup;
pub use server::Server;
pub use state::AppState;
