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
use crate::detection::JsonText;
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
    let text = if body::is_compressed(&headers, &body) {
        // Inflating is heavy work: off the runtime's threads.
        tokio::task::spawn_blocking(move || {
            body::decode(&headers, &body, limits.max_decoded_bytes)
                .map(|text| Bytes::from(text.into_owned()))
        })
        .await
        .map_err(|error| ApiError::Internal(format!("decoding task failed: {error}")))??
    } else {
        body::decode(&headers, &body, limits.max_decoded_bytes)?;
        body
    };
    // Read and scanned on the detection threads, block by block, as `hunt` reads a file.
    let processed = state
        .detection
        .process_text(JsonText {
            text,
            max_line_bytes: limits.max_line_bytes,
            max_events: limits.queue_events.max(1),
        })
        .await?;
    Ok(Json(EventsAnswer {
        accepted: processed.events,
        rejected: processed.rejected,
        rejected_count: processed.rejected_count,
        alerts: processed.alerts,
    }))
}
