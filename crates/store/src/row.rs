//! Alerts made ready for the store ahead of the write.
//!
//! Turning an alert into its row (the dedup key, the JSON body, the event time as
//! text) costs more than inserting the row. A service builds rows on its scanning
//! threads, in parallel, so its one writer thread only binds values
//! ([`crate::Store::commit_rows`]).

use crate::dedup_key;
use crate::sqlite::time_text;
use rampart_event::Alert;

/// An alert with what the store writes for it, computed once.
#[derive(Debug, Clone)]
pub struct AlertRow {
    alert: Alert,
    id: String,
    /// The alert as JSON, carrying the id it is stored under; the serialisation error
    /// when it has none (reported by the write as a bad record, as for an alert).
    body: std::result::Result<String, String>,
    event_time: Option<String>,
}

impl AlertRow {
    /// The row of `alert`: its id is [`dedup_key`], which the stored body carries too.
    pub fn new(mut alert: Alert) -> AlertRow {
        let id = dedup_key(&alert);
        if alert.id != id {
            alert.id.clone_from(&id);
        }
        let body = serde_json::to_string(&alert).map_err(|error| error.to_string());
        let event_time = alert.event.timestamp.map(time_text);
        AlertRow {
            alert,
            id,
            body,
            event_time,
        }
    }

    /// The alert (its id is the stored one).
    pub fn alert(&self) -> &Alert {
        &self.alert
    }

    /// The id it is stored under.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn body(&self) -> std::result::Result<&str, &str> {
        self.body.as_deref().map_err(String::as_str)
    }

    pub(crate) fn event_time(&self) -> Option<&str> {
        self.event_time.as_deref()
    }
}
