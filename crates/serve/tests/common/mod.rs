//! A real service on a free port, its store and tokens, for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rampart_serve::{AppState, Limits, RuleSource, ServeConfig, Server};
use rampart_store::Role;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A running service; stopped (gracefully) by [`TestServer::stop`].
pub struct TestServer {
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub admin: String,
    pub ingest: String,
    pub viewer: String,
    /// What the handlers share (to reach the queue as shutdown does).
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), rampart_serve::ServeError>>>,
}

impl TestServer {
    /// Starts a service over `rules` writing to `dir/rampart.db`.
    pub fn start(dir: &Path, rules: &[PathBuf], limits: Limits) -> TestServer {
        Self::start_with(dir, rules, |config| config.limits = limits)
    }

    /// Starts a service with a configuration `adjust` changes.
    pub fn start_with(
        dir: &Path,
        rules: &[PathBuf],
        adjust: impl FnOnce(&mut ServeConfig),
    ) -> TestServer {
        let db = dir.join("rampart.db");
        let mut store = rampart_store::open(&db).unwrap();
        let token = |store: &mut Box<dyn rampart_store::Store>, role, name| {
            store.create_token(role, name).unwrap().1
        };
        let admin = token(&mut store, Role::Admin, "admin");
        let ingest = token(&mut store, Role::IngestOnly, "shipper");
        let viewer = token(&mut store, Role::Viewer, "viewer");
        drop(store);
        let mut config = ServeConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            db.clone(),
            RuleSource {
                paths: rules.to_vec(),
                tuning: Some(dir.join("tuning")),
                ..RuleSource::default()
            },
        );
        config.threads = 2;
        adjust(&mut config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, addr) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let server = Server::bind(config).await?;
                bound
                    .send((server.local_addr(), server.state().clone()))
                    .unwrap();
                server
                    .serve(async move {
                        let _ = stopped.await;
                    })
                    .await
            })
        });
        let (addr, state) = addr
            .recv_timeout(Duration::from_secs(120))
            .expect("the service did not start");
        TestServer {
            addr,
            db,
            admin,
            ingest,
            viewer,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the service the way SIGTERM does and waits until it has committed.
    pub fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.thread.take().unwrap().join().unwrap().unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP agent that reports error statuses as responses, not errors.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build()
}

/// (status, body as JSON or text) of a request.
pub fn call(request: ureq::Request, body: Option<&[u8]>) -> (u16, serde_json::Value) {
    let result = match body {
        Some(body) => request.send_bytes(body),
        None => request.call(),
    };
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("request failed: {error}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, value)
}

/// The records of EVTX files as evtx_dump-style JSON lines (what shippers send).
pub fn evtx_to_json_lines(files: &[PathBuf]) -> Vec<String> {
    let settings = evtx::ParserSettings::new()
        .separate_json_attributes(false)
        .indent(false);
    let mut lines = Vec::new();
    for file in files {
        let mut parser = evtx::EvtxParser::from_path(file)
            .unwrap()
            .with_configuration(settings.clone());
        for record in parser.records_json().flatten() {
            lines.push(record.data);
        }
    }
    lines
}

/// Alert ids in a store.
pub fn stored_ids(db: &Path) -> std::collections::BTreeSet<String> {
    let store = rampart_store::open(db).unwrap();
    store
        .alerts(&rampart_store::AlertQuery::default())
        .unwrap()
        .into_iter()
        .map(|alert| alert.id)
        .collect()
}

/// The Windows rules of SigmaHQ.
pub fn windows_rules() -> PathBuf {
    rampart_testkit::data_path("sigma/rules/windows")
}
