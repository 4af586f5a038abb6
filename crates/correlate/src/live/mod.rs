//! Correlation for a service: alerts arrive all day from many sources, roughly in
//! event-time order, and nothing ever ends.
//!
//! A hunt keeps the matches correlations need, sorts them after the scan and replays
//! them ([`crate::sigma::AlertCorrelator`]), then groups every alert into incidents
//! ([`crate::group_incidents`]). A service cannot wait for the end, so both become
//! incremental here:
//!
//! - [`StreamingCorrelator`]: Sigma correlation rules over event time with a
//!   **watermark** = newest event time seen − allowed lateness. Matches wait in a
//!   bounded min-heap and are fed to the correlation windows in event-time order once
//!   the watermark passes them; windows are judged and expired as the watermark
//!   advances. A match older than the watermark is *late*: counted, never fed (the
//!   caller still emits the detection alert itself). For input in time order it fires
//!   what the batch replay fires.
//! - [`IncidentTracker`]: alerts → incidents one batch at a time, with the grouping of
//!   [`crate::group_incidents`] (host [, user], inactivity gap); an incident keeps the
//!   id it was given when later (or late, earlier) alerts join it. Each batch returns
//!   the incidents it changed, with score, kill chain and likely next techniques
//!   updated, for the caller to store. For alerts in time order it builds the same
//!   incidents as `group_incidents` over all of them.
//!
//! Both hold bounded state: buffered matches are capped, correlation windows expire by
//! the watermark, incidents idle past the inactivity gap leave memory (they stay in the
//! caller's store; a restart seeds the tracker from it).

mod stream;
mod tracker;

pub use stream::{StreamConfig, StreamingCorrelator};
pub use tracker::{IncidentChanges, IncidentTracker, Retired, TrackerConfig};
