//! The dedup key: what makes two alerts "the same alert" across re-runs.

use rampart_event::Alert;

/// The stable identity of an alert, which is also its id in the store: the alert's own
/// id ([`rampart_event::alert_id`]: rule id + the event's host, channel, provider,
/// event id, time and record id, or a digest of its fields when it has no record id of
/// its own), derived from the header and matched values for alerts that carry none.
///
/// The path an event was read from is not part of it: the same event hunted again
/// (any path spelling, stdin) adds nothing, while two hosts' events with one record id,
/// a rotated file and another day's log piped through stdin are all new alerts.
pub fn dedup_key(alert: &Alert) -> String {
    alert.stable_id()
}
