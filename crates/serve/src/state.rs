//! [`AppState`]: what every handler can reach.

use crate::auth::TokenCache;
use crate::config::ServeConfig;
use crate::detection::Detection;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::rules::{LoadReport, Rules, RulesError};
use arc_swap::ArcSwap;
use rampart_store::Store;
use std::sync::{Arc, Mutex};

/// Shared by every handler (cheap to clone: every field is shared).
#[derive(Clone)]
pub struct AppState {
    /// How the service was started.
    pub config: Arc<ServeConfig>,
    /// The running rules; `rules.load()` gives the set a request sees.
    pub rules: Arc<ArcSwap<Rules>>,
    /// A store connection for queries and triage (the detection thread has its own
    /// for alerts, so queries never wait behind an ingest commit). Use it through
    /// [`AppState::with_store`].
    pub store: Arc<Mutex<Box<dyn Store>>>,
    /// Counters, gauges and histograms for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The ingest queue and the detection thread behind it.
    pub detection: Detection,
    /// Tokens verified recently.
    pub tokens: Arc<TokenCache>,
    /// A store connection for checking tokens alone: every request reads the token
    /// generation on it, so it must not wait behind a query.
    pub auth_store: Arc<Mutex<Box<dyn Store>>>,
    /// The responder, when the service responds: reloaded with the rules.
    pub responder: Option<Arc<crate::respond::Responder>>,
    /// Serialises reloads: two at once would compile twice for nothing.
    reloading: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    /// Assembles the state from its parts.
    pub fn new(
        config: Arc<ServeConfig>,
        rules: Arc<ArcSwap<Rules>>,
        store: Box<dyn Store>,
        auth_store: Box<dyn Store>,
        metrics: Arc<Metrics>,
        detection: Detection,
    ) -> Self {
        let tokens = Arc::new(TokenCache::new(config.limits.token_cache));
        AppState {
            config,
            rules,
            store: Arc::new(Mutex::new(store)),
            metrics,
            detection,
            tokens,
            auth_store: Arc::new(Mutex::new(auth_store)),
            responder: None,
            reloading: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Runs `work` with the query connection on the blocking pool (SQLite calls block).
    pub async fn with_store<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> rampart_store::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(store.as_mut())
        })
        .await
        .map_err(|error| ApiError::Internal(format!("store task failed: {error}")))?
        .map_err(ApiError::from)
    }

    /// Loads and compiles the rules again (on the blocking pool) and swaps them in; a
    /// rule whose new version is broken keeps its running one (the report's `kept`).
    pub async fn reload_rules(&self) -> Result<LoadReport, RulesError> {
        let _one_at_a_time = self.reloading.lock().await;
        let source = self.config.rules.clone();
        let rules = self.rules.clone();
        // Playbooks are read again with the rules: one signal, one API call.
        if let Some(responder) = self.responder.clone() {
            let _ = tokio::task::spawn_blocking(move || responder.reload()).await;
        }
        let result = tokio::task::spawn_blocking(move || crate::rules::reload(&source, &rules))
            .await
            .unwrap_or_else(|error| Err(RulesError::Crashed(error.to_string())));
        self.metrics.reload(result.is_ok());
        match &result {
            Ok(report) => tracing::info!(
                rules = report.rules,
                millis = report.millis,
                "rules reloaded"
            ),
            Err(error) => {
                tracing::warn!("rules not reloaded: {}", rampart_event::error_chain(error))
            }
        }
        result
    }
}
