//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of every route, with JSON
//! Schema 2020-12 schemas for each answer (success and `{"error": …}`) and the bearer
//! scheme. Served without a token, like the probes: it describes the API and holds no
//! data. The integration tests validate real answers against it, and check that it
//! lists exactly the routes they call.

use crate::api::errors::NoParams;
use crate::state::AppState;
use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The API document route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(document))
}

async fn document(_: Query<NoParams>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
