//! `GET /api/v1/coverage` (viewer and up): the `rampart coverage --json` document for
//! the running rules over ATT&CK Enterprise (claimed coverage, ranked gaps, tag lint;
//! no samples, telemetry, platform or groups), computed per request from the knowledge
//! graph loaded at start-up; 503 without it.

use crate::api::errors::NoParams;
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use rampart_knowledge::Domain;
use serde_json::Value;

/// The coverage route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/coverage", get(coverage))
}

async fn coverage(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let knowledge = state
        .config
        .knowledge
        .clone()
        .ok_or_else(|| ApiError::NotLoaded("the knowledge graph (ATT&CK data)".into()))?;
    let rules = state.rules.load_full();
    tokio::task::spawn_blocking(move || {
        let matrix = rampart_coverage::matrix_with_countermeasures(&knowledge, Domain::Enterprise)
            .ok_or_else(|| ApiError::NotLoaded("ATT&CK Enterprise".into()))?;
        let infos: Vec<_> = rules
            .set
            .rules
            .iter()
            .map(rampart_coverage::rule_info)
            .collect();
        Ok(Json(rampart_coverage::claimed_document(&matrix, &infos)))
    })
    .await
    .map_err(|error| ApiError::Internal(format!("coverage task failed: {error}")))?
}
