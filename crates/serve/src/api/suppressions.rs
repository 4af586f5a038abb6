//! Suppressions: Sigma 2.1 filters in the tuning folder, written from an alert.
//!
//! - `POST /api/v1/suppressions` (analyst or admin): `{"alert", "fields"?, "reason"?,
//!   "expires"?}` writes the filter (`rampart_sigma::filter::suppression_filter`; the
//!   author is the token's name and id) and reloads the rules. If the reload is
//!   refused, the file is removed again and the answer is 422.
//! - `GET /api/v1/suppressions`: every filter of the tuning folder, active or
//!   expired, with how many matches it suppressed since the running rules loaded.
//! - `DELETE /api/v1/suppressions/{id}` (analyst or admin): deletes the filter's file
//!   and reloads.

use crate::api::errors::NoParams;
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::rules::RulesError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::NaiveDate;
use rampart_sigma::filter::{
    alert_fields, remove_suppression, suppression_filter, suppressions, today, write_suppression,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::PathBuf;

/// The suppression routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/suppressions", get(list).post(create))
        .route("/api/v1/suppressions/{id}", delete(remove))
}

fn tuning_dir(state: &AppState) -> Result<PathBuf, ApiError> {
    state
        .config
        .rules
        .tuning
        .clone()
        .ok_or_else(|| ApiError::Unprocessable("the service has no tuning folder".into()))
}

/// `POST /api/v1/suppressions` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSuppression {
    /// The stored alert whose pattern to suppress.
    alert: String,
    /// Fields to match on; default: those that made the rule match.
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    reason: String,
    /// The first day the filter no longer applies.
    expires: Option<NaiveDate>,
}

fn reload_refused(error: &RulesError) -> String {
    rampart_event::error_chain(error)
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Json(request): Json<NewSuppression>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Triage)?;
    let dir = tuning_dir(&state)?;
    if request.expires.is_some_and(|day| day <= today()) {
        return Err(ApiError::Unprocessable(
            "`expires` must be a day after today".into(),
        ));
    }
    let id = request.alert.clone();
    let stored = state
        .with_store(move |store| store.alert(&id))
        .await?
        .ok_or_else(|| ApiError::NotFound("alert".into()))?;
    let fields = alert_fields(&stored.alert, &request.fields)
        .map_err(|error| ApiError::Unprocessable(error.to_string()))?;
    let filter = suppression_filter(
        &stored.alert.rule_id,
        &fields,
        &request.reason,
        &caller.actor(),
        request.expires,
    )
    .map_err(|error| ApiError::Unprocessable(error.to_string()))?;
    let write_dir = dir.clone();
    let written = filter.clone();
    let path = tokio::task::spawn_blocking(move || write_suppression(&write_dir, &written))
        .await
        .map_err(|error| ApiError::Internal(format!("writing task failed: {error}")))?
        .map_err(|error| ApiError::internal(&error))?;
    match state.reload_rules().await {
        Ok(report) => Ok(Json(json!({
            "id": filter.id,
            "rule": stored.alert.rule_id,
            "fields": fields
                .iter()
                .map(|(field, value)| json!({ "field": field, "value": value }))
                .collect::<Vec<_>>(),
            "expires": request.expires,
            "path": path.display().to_string(),
            "reload": report,
        }))),
        Err(error) => {
            let _ = std::fs::remove_file(&path);
            Err(ApiError::Unprocessable(format!(
                "the suppression was not kept, the rules did not reload: {}",
                reload_refused(&error)
            )))
        }
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let dir = tuning_dir(&state)?;
    let (filters, _) = tokio::task::spawn_blocking(move || suppressions(&dir))
        .await
        .map_err(|error| ApiError::Internal(format!("listing task failed: {error}")))?;
    let counts = state.rules.load().engine.suppressed();
    let today = today();
    let rows: Vec<Value> = filters
        .iter()
        .map(|filter| {
            let suppressed: u64 = counts
                .iter()
                .filter(|c| c.filter_id.is_some() && c.filter_id == filter.id)
                .map(|c| c.count)
                .sum();
            json!({
                "id": filter.id,
                "title": filter.title,
                "state": if filter.active_on(today) { "active" } else { "expired" },
                "rules": filter.rules,
                "description": filter.description,
                "date": filter.date,
                "expires": filter.expires,
                "suppressed": suppressed,
            })
        })
        .collect();
    Ok(Json(json!({ "suppressions": rows })))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Triage)?;
    let dir = tuning_dir(&state)?;
    let removed = tokio::task::spawn_blocking(move || remove_suppression(&dir, &id))
        .await
        .map_err(|error| ApiError::Internal(format!("removing task failed: {error}")))?
        .map_err(|error| ApiError::Unprocessable(rampart_event::error_chain(&error)))?;
    if removed.is_none() {
        return Err(ApiError::NotFound("suppression".into()));
    }
    let report = state
        .reload_rules()
        .await
        .map_err(|error| ApiError::Unprocessable(reload_refused(&error)))?;
    Ok(Json(json!({ "removed": true, "reload": report })))
}
