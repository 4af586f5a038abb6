//! `POST /api/v1/rules/reload` (admin): load and compile the rules again and swap them
//! in; a set with new problems is refused and the running one kept (422 with the
//! problems).

use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::rules::RulesError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

/// The rule management routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/rules/reload", post(reload))
}

async fn reload(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::Admin)?;
    match state.reload_rules().await {
        Ok(report) => Ok(Json(
            serde_json::json!({ "reloaded": true, "report": report }),
        )),
        Err(RulesError::NewProblems { problems, .. }) => Err(ApiError::Unprocessable(format!(
            "reload refused, the running rules are kept: {}",
            problems.join("; ")
        ))),
        Err(error) => Err(ApiError::Unprocessable(format!(
            "reload refused, the running rules are kept: {}",
            rampart_event::error_chain(&error)
        ))),
    }
}
