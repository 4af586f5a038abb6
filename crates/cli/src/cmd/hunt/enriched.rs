//! The sinks that need the knowledge graph or the store: enriched output formats
//! (native JSON with ECS `threat.*`, OCSF Detection Finding) and the `--store` tee.

use super::output::AlertSink;
use crate::cmd::hunt_store::StoreSink;
use rampart_enrich::{ocsf, Enricher};
use rampart_event::Alert;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// Which enriched record to write per alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrichedKind {
    /// Native enriched JSON lines (schema in `rampart-enrich`).
    Native,
    /// OCSF Detection Finding (class 2004) JSON lines.
    Ocsf,
}

/// Writes one enriched JSON object per alert.
pub struct EnrichedLines {
    out: Box<dyn Write + Send>,
    enricher: Enricher<'static>,
    attack_version: String,
    kind: EnrichedKind,
}

impl EnrichedLines {
    /// A sink writing `kind` records to `out`, enriched by `enricher`.
    pub fn new(
        out: Box<dyn Write + Send>,
        enricher: Enricher<'static>,
        kind: EnrichedKind,
    ) -> Self {
        let attack_version = enricher.attack_version();
        EnrichedLines {
            out,
            enricher,
            attack_version,
            kind,
        }
    }
}

impl AlertSink for EnrichedLines {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        let enriched = self.enricher.enrich(alert);
        match self.kind {
            EnrichedKind::Native => serde_json::to_writer(&mut self.out, &enriched)?,
            EnrichedKind::Ocsf => {
                // The alert's id is the store's id, so the same finding keeps the same
                // uid whether it comes from a hunt or from the store.
                let finding =
                    ocsf::detection_finding(&enriched, &enriched.id, &self.attack_version);
                serde_json::to_writer(&mut self.out, &finding)?
            }
        }
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes every alert to the store and to an output sink. The store does not depend on
/// the output: when the output fails (stdout closed by `| head`, a full disk) the tee
/// stops writing output, keeps the first error for the hunt to report after the run is
/// finished, and goes on storing every alert. The store sink stays shared so the hunt
/// can finish the run (and regroup incidents) after the output is flushed.
pub struct StoreTee {
    output: Box<dyn AlertSink + Send>,
    store: Arc<Mutex<StoreSink>>,
    output_error: Arc<Mutex<Option<io::Error>>>,
}

impl StoreTee {
    /// A tee in front of `output` and `store`; the first output error goes to
    /// `output_error`.
    pub fn new(
        output: Box<dyn AlertSink + Send>,
        store: Arc<Mutex<StoreSink>>,
        output_error: Arc<Mutex<Option<io::Error>>>,
    ) -> Self {
        StoreTee {
            output,
            store,
            output_error,
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, StoreSink> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `write` on the output unless it already failed; keeps its first error.
    fn write_output(&mut self, write: impl FnOnce(&mut dyn AlertSink) -> io::Result<()>) {
        let mut failed = self
            .output_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failed.is_none() {
            if let Err(error) = write(self.output.as_mut()) {
                *failed = Some(error);
            }
        }
    }
}

/// Store errors travel through the sink's `io::Result` with their full cause chain.
fn store_error(error: anyhow::Error) -> io::Error {
    io::Error::other(rampart_event::error_chain(error.as_ref()))
}

impl AlertSink for StoreTee {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        self.store().write(alert).map_err(store_error)?;
        self.write_output(|output| output.write(alert));
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.store().flush().map_err(store_error)?;
        self.write_output(|output| output.finish());
        Ok(())
    }
}
