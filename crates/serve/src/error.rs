//! Errors: [`ServeError`] for starting and running the service, [`ApiError`] for one
//! request (each variant is one HTTP status with a JSON body `{"error": …}`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::path::PathBuf;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The store could not be opened or written.
    #[error("store")]
    Store(#[from] rampart_store::StoreError),
    /// The rules could not be loaded.
    #[error("rules")]
    Rules(#[from] crate::rules::RulesError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("cannot use TLS certificate {cert} with key {key}")]
    Tls {
        /// Certificate file.
        cert: PathBuf,
        /// Key file.
        key: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A thread or runtime could not be started, or the server failed while running.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The detection thread stopped with an error.
    #[error("the detection thread stopped")]
    Detection,
}

/// One request's failure, as its HTTP answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the request cannot be read.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or not a valid one.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// 403: the token's role may not do this.
    #[error("the token's role ({role}) may not {action}")]
    Forbidden {
        /// The caller's role.
        role: &'static str,
        /// What was refused.
        action: &'static str,
    },
    /// 404: no such thing.
    #[error("{0} not found")]
    NotFound(String),
    /// 413: the body is too large (as sent or decoded).
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// 422: well-formed but not acceptable.
    #[error("{0}")]
    Unprocessable(String),
    /// 429: the queue is full; retry after the given seconds.
    #[error("the service is saturated ({queued} events queued); retry later")]
    Saturated {
        /// Events waiting.
        queued: usize,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 503: the service is stopping or its detection thread is gone.
    #[error("the service is not accepting events: {0}")]
    Unavailable(String),
    /// 503: what the request needs was not loaded at start-up (e.g. the knowledge
    /// graph).
    #[error("{0} is not loaded in this service")]
    NotLoaded(String),
    /// 500: something failed inside (the store, a thread).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Saturated { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) | ApiError::NotLoaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A 500 for a library error, with its whole chain of causes.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        ApiError::Internal(rampart_event::error_chain(error))
    }
}

impl From<rampart_store::StoreError> for ApiError {
    fn from(error: rampart_store::StoreError) -> Self {
        ApiError::internal(&error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Json(serde_json::json!({ "error": self.to_string() }));
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Saturated { retry_after, .. } => {
                headers.insert(
                    axum::http::header::RETRY_AFTER,
                    HeaderValue::from(*retry_after),
                );
            }
            ApiError::Unauthorized => {
                headers.insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"rampart\""),
                );
            }
            _ => {}
        }
        response
    }
}
