//! `POST /api/v1/events`: JSON lines in (any shape `rampart hunt` reads; gzip by
//! `Content-Encoding` or by its magic bytes).
//!
//! The answer comes after the batch's alerts are committed to the store (the
//! acknowledgement means *durable*): `{"accepted", "rejected": [{"line", "reason"}],
//! "rejected_count", "alerts"}`. A full queue answers 429 with `Retry-After`; nothing
//! of a refused request is kept, so the sender resends it whole.

use crate::api::body::{self, Rejected};
use crate::api::errors::NoParams;
use crate::auth::{Caller, Permission};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;

/// The event ingest route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", post(post_events))
}

/// The answer to a batch of events.
#[derive(Debug, Serialize)]
pub struct EventsAnswer {
    /// Events read, scanned, and whose alerts are committed.
    pub accepted: u64,
    /// Lines that did not become events (the first hundred).
    pub rejected: Vec<Rejected>,
    /// Lines that did not become events, all of them.
    pub rejected_count: u64,
    /// Alerts the events produced (new or already stored).
    pub alerts: u64,
}

async fn post_events(
    State(state): State<AppState>,
    caller: Caller,
    _: Query<NoParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<EventsAnswer>, ApiError> {
    caller.require(Permission::Ingest)?;
    let limits = state.config.limits.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let text = body::decode(&headers, &body, limits.max_decoded_bytes)?;
        body::parse(
            &text,
            "http",
            limits.max_line_bytes,
            limits.queue_events.max(1),
        )
    })
    .await
    .map_err(|error| ApiError::Internal(format!("parsing task failed: {error}")))??;
    state
        .metrics
        .events_rejected
        .fetch_add(parsed.rejected_count, std::sync::atomic::Ordering::Relaxed);
    let processed = state.detection.process(parsed.events).await?;
    Ok(Json(EventsAnswer {
        accepted: processed.events,
        rejected: parsed.rejected,
        rejected_count: parsed.rejected_count,
        alerts: processed.alerts,
    }))
}
