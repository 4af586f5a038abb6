//! `POST /api/v1/rules/reload` (admin): load and compile the rules again and swap them
//! in. A rule whose new version fails to load or compile keeps the version that runs
//! (listed in the answer's `report.kept`, with the file, line and reason); a reload
//! that cannot run at all (no rule loads, an unreadable logsource map) is refused and
//! the running set kept (422).

use crate::api::errors::NoParams;
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::routing::post;
use axum::{Json, Router};

/// The rule management routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/rules/reload", post(reload))
}

async fn reload(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Permission::Admin)?;
    match state.reload_rules().await {
        Ok(report) => Ok(Json(
            serde_json::json!({ "reloaded": true, "report": report }),
        )),
        Err(error) => Err(ApiError::Unprocessable(format!(
            "reload refused, the running rules are kept: {}",
            rampart_event::error_chain(&error)
        ))),
    }
}
