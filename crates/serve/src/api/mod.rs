//! The HTTP routes. [`router`] merges every group of routes; each group lives in its
//! own module and returns a `Router<AppState>`.
//!
//! - [`health`]: `/healthz`, `/readyz`, `/metrics` (no token: probes and scrapers).
//! - [`events`]: `POST /api/v1/events` (JSON lines in).
//! - [`bulk`]: the Elasticsearch-compatible subset shippers use (`/_bulk`, `GET /`).
//! - [`rules`]: `POST /api/v1/rules/reload`.

pub mod body;
pub mod bulk;
pub mod events;
pub mod health;
pub mod rules;

use crate::state::AppState;
use axum::Router;

/// Every route of the service, with its state.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(events::routes())
        .merge(bulk::routes())
        .merge(rules::routes())
        .with_state(state)
}
