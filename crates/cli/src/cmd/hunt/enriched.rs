//! The output formats that need the knowledge graph: native JSON with ECS `threat.*`
//! and OCSF Detection Finding.

use super::output::AlertSink;
use rampart_enrich::{ocsf, Enricher};
use rampart_event::Alert;
use std::io::{self, Write};

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
