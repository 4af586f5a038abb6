//! Alerts and incidents out, triage in.
//!
//! - `GET /api/v1/alerts`: `offset`, `limit` (at most [`MAX_LIMIT`], default
//!   [`DEFAULT_LIMIT`]), and the CLI's filters: `rule`, `host`, `level` (at or above),
//!   `technique`, `state`, `since`, `until` (RFC 3339).
//! - `GET /api/v1/alerts/{id}`, `GET /api/v1/incidents` (`state`, `host`, `offset`,
//!   `limit`), `GET /api/v1/incidents/{id}`: each with its triage record.
//! - `POST /api/v1/{alerts|incidents}/{id}/triage` (analyst or admin): a
//!   `TriageChange` (`state`, `verdict`, `reason`, `assignee`, `add_tags`,
//!   `remove_tags`, `comment`); the actor written to the audit trail is the token's
//!   name and id. A refused change is 422, an unknown subject 404.
//! - `GET /api/v1/{alerts|incidents}/{id}/audit`: every change, newest first.
//! - `GET /api/v1/metrics/triage`: time to acknowledge and to close, alerts and
//!   false-positive rate per rule.

use crate::api::errors::NoParams;
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rampart_event::Level;
use rampart_store::{
    AlertQuery, IncidentQuery, StoreError, StoreErrorKind, Subject, TriageChange, TriageState,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;
/// The most rows one page gives.
pub const MAX_LIMIT: usize = 1000;
/// The most audit rows one answer gives.
const AUDIT_LIMIT: usize = 1000;

/// The query and triage routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{id}", get(show_alert))
        .route("/api/v1/alerts/{id}/triage", post(triage_alert))
        .route("/api/v1/alerts/{id}/audit", get(audit_alert))
        .route("/api/v1/incidents", get(list_incidents))
        .route("/api/v1/incidents/{id}", get(show_incident))
        .route("/api/v1/incidents/{id}/triage", post(triage_incident))
        .route("/api/v1/incidents/{id}/audit", get(audit_incident))
        .route("/api/v1/metrics/triage", get(metrics))
}

/// Store errors as HTTP: unknown subjects 404, refused changes 422, the rest 500.
fn store_error(error: StoreError) -> ApiError {
    match &error.kind {
        StoreErrorKind::NotFound(what) => ApiError::NotFound(what.clone()),
        StoreErrorKind::Invalid(why) => ApiError::Unprocessable(why.clone()),
        _ => ApiError::internal(&error),
    }
}

/// Runs `work` on the query connection, mapping store errors to HTTP ones.
async fn with_store<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn rampart_store::Store) -> rampart_store::Result<T> + Send + 'static,
{
    let outcome = state.with_store(move |store| Ok(work(store))).await?;
    outcome.map_err(store_error)
}

/// The (offset, limit) of a page; a limit of 0 or past [`MAX_LIMIT`] is a 400.
pub(crate) fn page(
    offset: Option<usize>,
    limit: Option<usize>,
) -> Result<(usize, usize), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok((offset.unwrap_or(0), limit))
}

/// `GET /api/v1/alerts` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertParams {
    offset: Option<usize>,
    limit: Option<usize>,
    rule: Option<String>,
    host: Option<String>,
    level: Option<Level>,
    technique: Option<String>,
    state: Option<TriageState>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AlertParams>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let (offset, limit) = page(params.offset, params.limit)?;
    let query = AlertQuery {
        since: params.since,
        until: params.until,
        rule: params.rule,
        state: params.state,
        offset: Some(offset),
        min_level: params.level,
        technique: params.technique,
        host: params.host,
        limit: Some(limit),
    };
    let alerts = with_store(&state, move |store| store.alerts(&query)).await?;
    Ok(Json(
        json!({ "offset": offset, "limit": limit, "alerts": alerts }),
    ))
}

async fn show_alert(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let subject = Subject::Alert(id.clone());
    let (alert, triage) = with_store(&state, move |store| {
        Ok((store.alert(&id)?, store.triage_record(&subject)?))
    })
    .await?;
    let alert = alert.ok_or_else(|| ApiError::NotFound("alert".into()))?;
    Ok(Json(json!({ "alert": alert, "triage": triage })))
}

/// `GET /api/v1/incidents` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentParams {
    offset: Option<usize>,
    limit: Option<usize>,
    host: Option<String>,
    state: Option<TriageState>,
}

async fn list_incidents(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<IncidentParams>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let (offset, limit) = page(params.offset, params.limit)?;
    let query = IncidentQuery {
        state: params.state,
        host: params.host,
        offset: Some(offset),
        limit: Some(limit),
    };
    let incidents = with_store(&state, move |store| store.incidents_page(&query)).await?;
    Ok(Json(
        json!({ "offset": offset, "limit": limit, "incidents": incidents }),
    ))
}

async fn show_incident(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let subject = Subject::Incident(id.clone());
    let (incident, triage) = with_store(&state, move |store| {
        Ok((store.incident(&id)?, store.triage_record(&subject)?))
    })
    .await?;
    let incident = incident.ok_or_else(|| ApiError::NotFound("incident".into()))?;
    Ok(Json(json!({ "incident": incident, "triage": triage })))
}

async fn triage(
    state: AppState,
    caller: Caller,
    subject: Subject,
    change: TriageChange,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Triage)?;
    let actor = caller.actor();
    let record = with_store(&state, move |store| store.triage(&subject, &actor, &change)).await?;
    Ok(Json(json!(record)))
}

async fn triage_alert(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Path(id): Path<String>,
    Json(change): Json<TriageChange>,
) -> Result<Json<Value>, ApiError> {
    triage(state, caller, Subject::Alert(id), change).await
}

async fn triage_incident(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Path(id): Path<String>,
    Json(change): Json<TriageChange>,
) -> Result<Json<Value>, ApiError> {
    triage(state, caller, Subject::Incident(id), change).await
}

async fn audit(state: AppState, caller: Caller, subject: Subject) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let (record, audit, comments) = with_store(&state, move |store| {
        let record = store.triage_record(&subject)?;
        if record.is_none() {
            return Ok((None, Vec::new(), Vec::new()));
        }
        Ok((
            record,
            store.audit(Some(&subject), AUDIT_LIMIT)?,
            store.comments(&subject)?,
        ))
    })
    .await?;
    let record = record.ok_or_else(|| ApiError::NotFound("subject".into()))?;
    Ok(Json(
        json!({ "triage": record, "audit": audit, "comments": comments }),
    ))
}

async fn audit_alert(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    audit(state, caller, Subject::Alert(id)).await
}

async fn audit_incident(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    audit(state, caller, Subject::Incident(id)).await
}

async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let metrics = with_store(&state, |store| store.triage_metrics()).await?;
    Ok(Json(json!(metrics)))
}
