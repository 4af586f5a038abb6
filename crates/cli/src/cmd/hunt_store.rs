//! The `--store DB` side of the command line: where the store is by default, and the
//! knowledge graph that orders incidents. The store sink itself is
//! [`rampart_pipeline::store`]'s.

use crate::global::GlobalOpts;
use rampart_event::terminal::Escaped;
use rampart_knowledge::Knowledge;
pub use rampart_pipeline::store::{rebuild_incidents, rule_infos, StoreSink};
use std::path::PathBuf;

/// The store file used when `--store` is not given: `rampart.db` in the data directory.
pub fn default_store_path(global: &GlobalOpts) -> PathBuf {
    global.data_dir().join("rampart.db")
}

/// Loads the knowledge graph from the data directory, or warns and goes on without it.
pub fn load_knowledge(global: &GlobalOpts) -> Option<Knowledge> {
    match crate::cmd::attack::load_knowledge(global) {
        Ok(knowledge) => Some(knowledge),
        Err(error) => {
            let warning = rampart_event::error_chain(error.as_ref());
            eprintln!(
                "warning: {}; showing alerts without ATT&CK context",
                Escaped(&warning)
            );
            None
        }
    }
}
