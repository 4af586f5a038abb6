//! Binding, serving and stopping.
//!
//! [`Server::bind`] opens the store (one connection for the detection thread, one for
//! queries, one for token checks, one for the inputs' checkpoints), loads the rules, records the run, starts the detection thread and binds
//! the address. [`Server::serve`] answers until `shutdown` resolves, then stops
//! accepting, lets the requests in flight finish (each waits for its commit), drains
//! the queue, commits, regroups incidents, records the end of the run and returns.

use crate::api;
use crate::config::ServeConfig;
use crate::detection::{Detection, DetectionThread};
use crate::error::ServeError;
use crate::metrics::Metrics;
use crate::state::AppState;
use arc_swap::ArcSwap;
use axum::extract::DefaultBodyLimit;
use rampart_store::RunInfo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// A bound, ready service.
pub struct Server {
    listener: std::net::TcpListener,
    addr: SocketAddr,
    state: AppState,
    thread: DetectionThread,
    sources: crate::sources::Sources,
    responder: Option<Arc<crate::respond::Responder>>,
}

impl Server {
    /// Opens the store, loads the rules and binds `config.listen`. Loading the full
    /// SigmaHQ set takes seconds; it runs on the blocking pool.
    pub async fn bind(config: ServeConfig) -> Result<Server, ServeError> {
        let config = Arc::new(config);
        let setup = config.clone();
        let (rules, writer, reader, auth, resume) = tokio::task::spawn_blocking(move || {
            let rules = crate::rules::load(&setup.rules)?;
            // The detection thread waits long for a lock another process holds (a
            // CLI command writing to the same store) rather than fail a batch.
            let writer = rampart_store::open_with(
                &setup.store,
                &rampart_store::OpenOptions {
                    busy_timeout: std::time::Duration::from_secs(30),
                    ..rampart_store::OpenOptions::default()
                },
            )?;
            let reader = rampart_store::open(&setup.store)?;
            let auth = rampart_store::open(&setup.store)?;
            let resume = rampart_store::open(&setup.store)?;
            Ok::<_, ServeError>((rules, writer, reader, auth, resume))
        })
        .await
        .map_err(|error| ServeError::Io {
            what: "start-up task failed",
            source: std::io::Error::other(error.to_string()),
        })??;
        for problem in rules.report.problems() {
            tracing::warn!("{}", rampart_event::terminal::escape(&problem));
        }
        tracing::info!(
            rules = rules.report.rules,
            millis = rules.report.millis,
            "rules loaded"
        );
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| ServeError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ServeError::Bind {
                addr: config.listen,
                source,
            })?;
        let mut writer = writer;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let run = writer.begin_run(&RunInfo {
            command: "serve".into(),
            inputs: vec![format!("{scheme}://{addr}")],
            rule_sources: config
                .rules
                .paths
                .iter()
                .map(|path| path.display().to_string())
                .collect(),
        })?;
        let rules = Arc::new(ArcSwap::from_pointee(rules));
        let metrics = Arc::new(Metrics::new());
        let (responder, work) = match &config.respond {
            None => (None, None),
            Some(setup) => {
                let setup = setup.clone();
                let store = config.store.clone();
                let (responder, work) = tokio::task::spawn_blocking(move || {
                    crate::respond::Responder::start(&setup, &store)
                })
                .await
                .map_err(|error| ServeError::Io {
                    what: "start-up task failed",
                    source: std::io::Error::other(error.to_string()),
                })??;
                (Some(Arc::new(responder)), Some(work))
            }
        };
        let (detection, thread) =
            Detection::start(&config, rules.clone(), writer, run, metrics.clone(), work)?;
        let sources = crate::sources::Sources::start(
            &config.watch,
            config.syslog,
            resume,
            detection.clone(),
            metrics.clone(),
        )
        .map_err(|source| ServeError::Io {
            what: "cannot start the watched folders or syslog listeners",
            source,
        })?;
        let mut state = AppState::new(config, rules, reader, auth, metrics, detection);
        state.responder = responder.clone();
        Ok(Server {
            listener,
            addr,
            state,
            thread,
            sources,
            responder,
        })
    }

    /// The address bound (the real port when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The addresses the syslog listeners bound (TCP, then UDP; empty without syslog).
    pub fn syslog_addrs(&self) -> Vec<SocketAddr> {
        self.sources.syslog_addrs()
    }

    /// What the handlers share (for embedding and tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains and commits (see the module doc).
    pub async fn serve<F>(self, shutdown: F) -> Result<(), ServeError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Server {
            listener,
            addr: _,
            state,
            thread,
            sources,
            responder,
        } = self;
        let limits = &state.config.limits;
        let routes = api::router(state.clone())
            .layer(DefaultBodyLimit::max(limits.max_body_bytes))
            .layer(TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                limits.request_timeout,
            ))
            .layer(CatchPanicLayer::new());
        // Errors are rewritten around the whole router, not per route: a route's 405
        // gets its `Allow` header from the router, outside the per-route layers.
        let app = axum::Router::new().fallback_service(routes).layer(
            axum::middleware::from_fn_with_state(state.clone(), api::errors::json_errors),
        );
        let served = match &state.config.tls {
            None => {
                let listener = tokio::net::TcpListener::from_std(listener).map_err(|source| {
                    ServeError::Io {
                        what: "cannot serve on the bound socket",
                        source,
                    }
                })?;
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                    .map_err(|source| ServeError::Io {
                        what: "serving failed",
                        source,
                    })
            }
            Some(tls) => crate::tls::serve(listener, app, tls, shutdown).await,
        };
        // Whatever happened to the listener, what was admitted is committed: the
        // other inputs first deliver and commit what they hold, then the queue closes.
        tokio::task::spawn_blocking(move || sources.stop())
            .await
            .map_err(|_| ServeError::Detection)?;
        state.detection.close();
        let joined = tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|_| ServeError::Detection)?;
        if let Some(responder) = responder {
            // After the committer: the responder finishes what the last commits gave it.
            tokio::task::spawn_blocking(move || responder.stop())
                .await
                .map_err(|_| ServeError::Detection)?;
        }
        served.and(joined)
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C); reloads the rules on every SIGHUP until
/// then.
pub async fn signals(state: AppState) {
    use tokio::signal::unix::{signal, SignalKind};
    let hangup = signal(SignalKind::hangup());
    if let Ok(mut hangup) = hangup {
        let state = state.clone();
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading rules");
                let _ = state.reload_rules().await;
            }
        });
    }
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("stopping: draining the queue");
}
