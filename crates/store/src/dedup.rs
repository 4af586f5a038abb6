//! The dedup key: what makes two alerts "the same alert" across re-runs.

use rampart_event::Alert;
use sha2::{Digest, Sha256};

/// The stable identity of an alert: rule id + source + record id, or, when the
/// record id is unknown, a hash of the event header and matched values instead.
///
/// Re-running the same rules over the same files gives the same keys, so the store
/// adds no duplicates. The source is taken as written by the reader: hunting the same
/// file through a different path spelling yields new keys, so callers should pass
/// canonical paths.
pub fn dedup_key(alert: &Alert) -> String {
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(alert.rule_id.as_bytes());
    part(alert.event.source.as_bytes());
    match alert.event.record_id {
        Some(record) => part(&record.to_le_bytes()),
        None => {
            let time = alert.event.timestamp.map(|t| t.to_rfc3339());
            part(time.as_deref().unwrap_or("").as_bytes());
            part(alert.event.computer.as_deref().unwrap_or("").as_bytes());
            part(alert.event.channel.as_deref().unwrap_or("").as_bytes());
            part(&alert.event.event_id.unwrap_or(u32::MAX).to_le_bytes());
            for matched in &alert.matched {
                part(matched.field.as_bytes());
                part(matched.value.as_bytes());
            }
        }
    }
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}
