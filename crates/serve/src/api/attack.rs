//! `GET /api/v1/attack/{id}` (viewer and up): what `rampart attack show ID --json`
//! prints, from the knowledge graph loaded at start-up: an ATT&CK technique, group,
//! software, mitigation… by id or name, a D3FEND technique (`D3-…` or its class name)
//! or an ENGAGE activity (`EAC…`). An unknown id is 404 with the nearest matches; a
//! service started without the knowledge graph answers 503.

use crate::api::errors::NoParams;
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use rampart_knowledge::{Knowledge, Report, ShowError};

/// The knowledge route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/attack/{id}", get(show))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Report>, ApiError> {
    caller.require(Permission::Read)?;
    let knowledge = state
        .config
        .knowledge
        .clone()
        .ok_or_else(|| ApiError::NotLoaded("the knowledge graph (ATT&CK data)".into()))?;
    tokio::task::spawn_blocking(move || report(&knowledge, &id))
        .await
        .map_err(|error| ApiError::Internal(format!("knowledge task failed: {error}")))?
        .map(Json)
}

/// The report `attack show` gives for `query` ([`Knowledge::show`]), its failures as
/// HTTP: an empty query 400, an unknown one 404 (with the nearest matches), a D3FEND or
/// ENGAGE id when that source is not loaded 503.
pub fn report(knowledge: &Knowledge, query: &str) -> Result<Report, ApiError> {
    knowledge.show(query).map_err(|error| match error {
        ShowError::Empty => ApiError::BadRequest(error.to_string()),
        ShowError::NotLoaded(source) => ApiError::NotLoaded(source.into()),
        ShowError::Unknown {
            what,
            query,
            nearest,
        } => {
            let nearest: Vec<String> = nearest
                .into_iter()
                .map(|(id, name)| format!("{id} ({name})"))
                .collect();
            let hint = if nearest.is_empty() {
                String::new()
            } else {
                format!("; nearest matches: {}", nearest.join(", "))
            };
            ApiError::NotFound(format!("{what} {query:?}{hint}"))
        }
        other => ApiError::BadRequest(other.to_string()),
    })
}
