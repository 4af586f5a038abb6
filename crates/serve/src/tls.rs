//! HTTPS with rustls (ring), when the service is given a certificate and key.

use crate::config::TlsFiles;
use crate::error::ServeError;
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use std::future::Future;
use std::time::Duration;

/// How long requests in flight get to finish once shutdown starts.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `app` over TLS on `listener` until `shutdown` resolves.
pub async fn serve<F>(
    listener: std::net::TcpListener,
    app: Router,
    files: &TlsFiles,
    shutdown: F,
) -> Result<(), ServeError>
where
    F: Future<Output = ()> + Send + 'static,
{
    // The process-wide default may already be set (by an embedding program): either
    // way ring is what the configuration below is built with.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .map_err(|source| ServeError::Tls {
            cert: files.cert.clone(),
            key: files.key.clone(),
            source,
        })?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(DRAIN));
    });
    axum_server::from_tcp_rustls(listener, config)
        .handle(handle)
        .serve(app.into_make_service())
        .await
        .map_err(|source| ServeError::Io {
            what: "serving failed",
            source,
        })
}
