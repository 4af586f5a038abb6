//! `GET /api/v1/attack/{id}` (viewer and up): what `rampart attack show ID --json`
//! prints, from the knowledge graph loaded at start-up: an ATT&CK technique, group,
//! software, mitigation… by id or name, a D3FEND technique (`D3-…` or its class name)
//! or an ENGAGE activity (`EAC…`). An unknown id is 404 with the nearest matches; a
//! service started without the knowledge graph answers 503.

use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use rampart_knowledge::{Knowledge, Report, Resolution};

/// The knowledge route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/attack/{id}", get(show))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
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

/// The report `attack show` gives for `query`, the same dispatch: D3FEND ids, ENGAGE
/// ids, then ATT&CK ids and names, then D3FEND class names.
pub fn report(knowledge: &Knowledge, query: &str) -> Result<Report, ApiError> {
    let trimmed = query.trim();
    if trimmed.is_empty() {
        return Err(ApiError::BadRequest("no id or name given".into()));
    }
    let prefixed = |prefix: &str| {
        trimmed
            .get(..3)
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    };
    if prefixed("D3-") {
        if knowledge.d3fend().is_none() {
            return Err(ApiError::NotLoaded("D3FEND".into()));
        }
        return knowledge
            .d3fend_report(trimmed)
            .map(|report| Report::D3fend(Box::new(report)))
            .ok_or_else(|| ApiError::NotFound(format!("D3FEND technique {trimmed:?}")));
    }
    if prefixed("EAC") && trimmed[3..].starts_with(|c: char| c.is_ascii_digit()) {
        if knowledge.engage().is_none() {
            return Err(ApiError::NotLoaded("ENGAGE".into()));
        }
        return knowledge
            .engage_report(trimmed)
            .map(|report| Report::Engage(Box::new(report)))
            .ok_or_else(|| ApiError::NotFound(format!("ENGAGE activity {trimmed:?}")));
    }
    match knowledge.resolve(trimmed) {
        Resolution::Unknown { nearest } => {
            if let Some(report) = knowledge.d3fend_report(trimmed) {
                return Ok(Report::D3fend(Box::new(report)));
            }
            let nearest: Vec<String> = nearest
                .into_iter()
                .map(|s| format!("{} ({})", s.id, s.name))
                .collect();
            let hint = if nearest.is_empty() {
                String::new()
            } else {
                format!("; nearest matches: {}", nearest.join(", "))
            };
            Err(ApiError::NotFound(format!(
                "ATT&CK id or name {trimmed:?}{hint}"
            )))
        }
        resolution => resolution
            .named()
            .and_then(|hit| knowledge.report(hit))
            .ok_or_else(|| ApiError::NotFound(format!("ATT&CK id or name {trimmed:?}"))),
    }
}
