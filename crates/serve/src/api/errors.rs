//! Every error answer in the documented shape, `{"error": "…"}`.
//!
//! Handlers fail with [`ApiError`], which answers JSON already. What answers before
//! or around a handler does not: axum's extractor rejections (a body that is not
//! JSON, a wrong `Content-Type`, a query or path parameter of the wrong type, an
//! unknown query parameter, the body limit), the router's 404 and 405, the timeout's
//! 408 and the panic guard's 500 answer plain text or nothing. [`json_errors`], the
//! outermost layer, rewrites those into the same shape, keeping status and headers
//! (`Allow`, `Retry-After`, `WWW-Authenticate`).
//!
//! Query parameters: a route of `/api/v1` refuses one it does not know with 400 and
//! its name (a misspelt filter must not silently list everything); routes without
//! parameters take [`NoParams`]. The Elasticsearch-compatible routes and the probes
//! ignore query strings, as shippers and scrapers send their own.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;

/// The longest error text kept from a rejection (longer is cut at a char boundary):
/// rejections quote the caller's input.
const MAX_MESSAGE_CHARS: usize = 1024;

/// The most bytes of a non-JSON error body read to become the message.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The query of a route that takes no parameters: any parameter is a 400 naming it.
/// Use as `Query<NoParams>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Middleware: an error answer (4xx, 5xx) that is not JSON becomes `{"error": …}`
/// with the same status and headers. HEAD answers keep their empty body.
pub async fn json_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if method == Method::HEAD || !is_plain_error(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = message(
        parts.status,
        text.trim(),
        &method,
        &path,
        &parts.headers,
        state.config.limits.max_body_bytes,
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": message }).to_string();
    Response::from_parts(parts, Body::from(body))
}

/// Whether `response` is an error whose body is not already JSON.
fn is_plain_error(response: &Response) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    !json
}

/// The error text for a plain answer: what axum said, in our words where ours say more.
fn message(
    status: StatusCode,
    text: &str,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    max_body_bytes: usize,
) -> String {
    let path: String = path.chars().take(200).collect();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge {
            limit: max_body_bytes,
        }
        .to_string(),
        StatusCode::NOT_FOUND if text.is_empty() => format!("no route {method} {path}"),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = headers
                .get(header::ALLOW)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            format!("{path} does not take {method} (it takes {allowed})")
        }
        StatusCode::REQUEST_TIMEOUT => "the request took too long and was abandoned".into(),
        _ if text.is_empty() => status
            .canonical_reason()
            .map_or_else(|| format!("status {}", status.as_u16()), str::to_lowercase),
        _ => text.to_owned(),
    };
    cut(message)
}

fn cut(mut message: String) -> String {
    if let Some((at, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(at);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_was_wrong_and_stay_short() {
        let headers = HeaderMap::new();
        let get = Method::GET;
        let text = |status, text| message(status, text, &get, "/x", &headers, 10);
        assert_eq!(
            text(StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded"),
            "request body larger than 10 bytes"
        );
        assert_eq!(text(StatusCode::NOT_FOUND, ""), "no route GET /x");
        assert_eq!(
            text(StatusCode::BAD_REQUEST, "Failed to deserialize"),
            "Failed to deserialize"
        );
        assert_eq!(text(StatusCode::BAD_GATEWAY, ""), "bad gateway");
        let long = text(StatusCode::BAD_REQUEST, &"é".repeat(5000));
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
        let mut allow = HeaderMap::new();
        allow.insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        let post = Method::POST;
        assert_eq!(
            message(
                StatusCode::METHOD_NOT_ALLOWED,
                "",
                &post,
                "/healthz",
                &allow,
                1
            ),
            "/healthz does not take POST (it takes GET,HEAD)"
        );
    }
}
