//! The HTTP routes. [`router`] merges every group of routes; each group lives in its
//! own module and returns a `Router<AppState>`.
//!
//! - [`health`]: `/healthz`, `/readyz`, `/metrics` (no token: probes and scrapers).
//! - [`events`]: `POST /api/v1/events` (JSON lines in).
//! - [`bulk`]: the Elasticsearch-compatible subset shippers use (`/_bulk`, `GET /`).
//! - [`rules`]: `POST /api/v1/rules/reload`.
//! - [`triage`]: alerts and incidents out (paginated, filtered), triage actions, their
//!   audit trail, triage metrics.
//! - [`ruleset`]: `GET /api/v1/rules`, the running rules, their filters and what
//!   the last load reported.
//! - [`suppressions`]: suppressions as Sigma filters in the tuning folder.
//! - [`attack`]: `GET /api/v1/attack/{id}`, `rampart attack show --json`.
//! - [`coverage`]: `GET /api/v1/coverage`, `rampart coverage --json`.
//! - [`errors`]: every error answer as `{"error": …}` (the outermost layer), and the
//!   rule on query parameters.
//! - [`openapi`]: `GET /api/v1/openapi.json`, the OpenAPI 3.1 document of all of
//!   these (no token).

pub mod attack;
pub mod body;
pub mod bulk;
pub mod coverage;
pub mod errors;
pub mod events;
pub mod health;
pub mod openapi;
pub mod rules;
pub mod ruleset;
pub mod suppressions;
pub mod triage;

use crate::state::AppState;
use axum::Router;

/// Every route of the service, with its state.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(events::routes())
        .merge(bulk::routes())
        .merge(rules::routes())
        .merge(triage::routes())
        .merge(ruleset::routes())
        .merge(suppressions::routes())
        .merge(openapi::routes())
        .merge(attack::routes())
        .merge(coverage::routes())
        .with_state(state)
}
