//! Probes and metrics: `/healthz` (the process answers), `/readyz` (rules loaded,
//! store writable, queue not saturated), `/metrics` (Prometheus text format).

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::atomic::Ordering;

/// The probe routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let rules = state.rules.load().report.rules;
    let store_ok = !state.detection.store_failing();
    let queue_ok = !state.detection.saturated();
    let ready = rules > 0 && store_ok && queue_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "ready": ready,
        "rules": rules,
        "store_writable": store_ok,
        "queue_events": state.detection.queued(),
        "queue_capacity": state.config.limits.queue_events,
    });
    (status, Json(body))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state
        .metrics
        .queue_events
        .store(state.detection.queued() as u64, Ordering::Relaxed);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
