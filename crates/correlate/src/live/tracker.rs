//! [`IncidentTracker`]: alerts grouped into incidents as they arrive.

use crate::incident::{incident_id, summarize, timeline_entry};
use crate::{alert_user, Incident, IncidentConfig, KillChain, NextPredictor};
use chrono::{DateTime, TimeDelta, Utc};
use rampart_event::Alert;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// How an [`IncidentTracker`] groups and how long it remembers.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// Grouping: host [, user] and the inactivity gap, as in [`crate::group_incidents`].
    pub grouping: IncidentConfig,
    /// How far behind the newest alert time an alert may arrive and still join the
    /// incident it belongs to: an incident leaves memory once the watermark (newest
    /// alert time − lateness) is more than the inactivity gap past its last alert.
    pub lateness: TimeDelta,
    /// At most this many incidents are held; past it the longest idle leave memory.
    pub max_open: usize,
    /// Likely next techniques ranked per incident (when a predictor is given).
    pub next_limit: usize,
}

impl Default for TrackerConfig {
    /// Default grouping, five minutes of lateness, 100 000 open incidents, eight
    /// likely next techniques.
    fn default() -> Self {
        TrackerConfig {
            grouping: IncidentConfig::default(),
            lateness: TimeDelta::minutes(5),
            max_open: 100_000,
            next_limit: 8,
        }
    }
}

/// What one batch of alerts changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentChanges {
    /// Incidents created or grown, whole and up to date, highest score first: store
    /// them (replacing the stored ones of the same id).
    pub changed: Vec<Incident>,
    /// Ids of incidents merged into another one (a late alert bridged the gap between
    /// them): remove them from the store; their alerts are in a `changed` incident.
    pub retired: Vec<String>,
}

/// Grouping key: host and, when grouping by user, the user.
type Key = (String, Option<String>);

/// The incidents of one key that are still in memory.
#[derive(Debug, Default)]
struct Slot {
    /// Incidents with a time, ordered by first alert, disjoint in time.
    timed: Vec<Incident>,
    /// The key's alerts without an event time.
    untimed: Option<Incident>,
}

/// Incremental incident grouping for a service.
///
/// [`IncidentTracker::add`] takes each new batch of stored alerts (with their store
/// ids) and returns the incidents that changed. The grouping is that of
/// [`crate::group_incidents`]: an alert joins its host's (and user's) incident when it
/// lies within the inactivity gap of it, else starts a new one; an alert that closes
/// the gap between two incidents merges them into the earlier. Ids are given once, at
/// creation (from host, user and the first alert, as `group_incidents` derives them),
/// and kept: alerts that join later, even earlier late ones, do not change them. For
/// alerts added in time order the incidents are those `group_incidents` builds over all
/// of them. An alert already in its incident (the same store id) is not added twice.
///
/// Memory: an incident whose last alert is more than the inactivity gap before the
/// watermark (newest alert time − [`TrackerConfig::lateness`]) leaves memory, and at
/// most [`TrackerConfig::max_open`] are held. An incident's timeline holds one line per
/// alert, as the stored incident does.
pub struct IncidentTracker {
    kill_chain: KillChain,
    config: TrackerConfig,
    /// Likely next techniques: the predictor and the techniques the rules cover.
    predictor: Option<(Arc<NextPredictor>, HashSet<String>)>,
    slots: HashMap<Key, Slot>,
    open: usize,
    newest: Option<DateTime<Utc>>,
    watermark: Option<DateTime<Utc>>,
    dropped: u64,
}

impl IncidentTracker {
    /// An empty tracker.
    pub fn new(kill_chain: KillChain, config: TrackerConfig) -> Self {
        IncidentTracker {
            kill_chain,
            config,
            predictor: None,
            slots: HashMap::new(),
            open: 0,
            newest: None,
            watermark: None,
            dropped: 0,
        }
    }

    /// A tracker that goes on with stored incidents (after a restart): alerts that
    /// arrive next join them as they would have before. The incidents carry everything
    /// needed (timeline, users), so their alerts need not be read again. Incidents
    /// already idle past the watermark their own newest alert sets are not kept.
    pub fn seeded(kill_chain: KillChain, config: TrackerConfig, incidents: Vec<Incident>) -> Self {
        let mut tracker = IncidentTracker::new(kill_chain, config);
        for mut incident in incidents {
            incident
                .timeline
                .sort_by(|a, b| (a.time, a.alert_id.as_str()).cmp(&(b.time, b.alert_id.as_str())));
            tracker.see(incident.last_seen);
            let slot = tracker
                .slots
                .entry((incident.host.clone(), incident.user.clone()))
                .or_default();
            if incident.first_seen.is_none() {
                if slot.untimed.is_none() {
                    slot.untimed = Some(incident);
                    tracker.open += 1;
                }
            } else {
                let at = slot
                    .timed
                    .partition_point(|i| i.first_seen <= incident.first_seen);
                slot.timed.insert(at, incident);
                tracker.open += 1;
            }
        }
        tracker.expire();
        tracker
    }

    /// Ranks likely next techniques for every changed incident, with `predictor` and
    /// the techniques the loaded rules cover (`covered`, upper-case ids).
    pub fn with_likely_next(
        mut self,
        predictor: Arc<NextPredictor>,
        covered: HashSet<String>,
    ) -> Self {
        self.predictor = Some((predictor, covered));
        self
    }

    /// Adds a batch of alerts, each with its id in the caller's store; returns the
    /// incidents that changed.
    pub fn add<'a>(
        &mut self,
        alerts: impl IntoIterator<Item = (&'a str, &'a Alert)>,
    ) -> IncidentChanges {
        let mut batch: Vec<(&str, &Alert)> = alerts.into_iter().collect();
        batch.sort_by(|a, b| (a.1.event.timestamp, a.0).cmp(&(b.1.event.timestamp, b.0)));
        let mut touched: HashSet<String> = HashSet::new();
        let mut retired: Vec<String> = Vec::new();
        for (id, alert) in batch {
            self.place(id, alert, &mut touched, &mut retired);
            self.see(alert.event.timestamp);
        }
        let mut changed = Vec::new();
        for slot in self.slots.values_mut() {
            for incident in slot.timed.iter_mut().chain(slot.untimed.as_mut()) {
                if touched.contains(&incident.id) {
                    summarize(incident, &self.kill_chain);
                    if let Some((predictor, covered)) = &self.predictor {
                        incident.likely_next = predictor.predict(
                            &incident.techniques,
                            covered,
                            self.config.next_limit,
                        );
                    }
                    changed.push(incident.clone());
                }
            }
        }
        changed.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.first_seen.cmp(&b.first_seen))
                .then_with(|| a.id.cmp(&b.id))
        });
        retired.retain(|id| changed.iter().all(|incident| &incident.id != id));
        self.expire();
        IncidentChanges { changed, retired }
    }

    /// Moves the watermark to `time` (when later), letting incidents idle past the
    /// inactivity gap leave memory; for a quiet stream (e.g. the clock minus the
    /// lateness, when sources send live events).
    pub fn advance_to(&mut self, time: DateTime<Utc>) {
        if self.watermark.is_none_or(|w| time > w) {
            self.watermark = Some(time);
        }
        self.expire();
    }

    /// Incidents held in memory.
    pub fn open(&self) -> usize {
        self.open
    }

    /// Incidents that left memory so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The watermark: newest alert time − lateness, or later if advanced.
    pub fn watermark(&self) -> Option<DateTime<Utc>> {
        self.watermark
    }

    /// An incident held in memory, by id.
    pub fn incident(&self, id: &str) -> Option<&Incident> {
        self.slots
            .values()
            .flat_map(|slot| slot.timed.iter().chain(slot.untimed.as_ref()))
            .find(|incident| incident.id == id)
    }

    /// Notes an alert time: newest time and watermark.
    fn see(&mut self, time: Option<DateTime<Utc>>) {
        let Some(time) = time else {
            return;
        };
        if self.newest.is_none_or(|n| time > n) {
            self.newest = Some(time);
            if let Some(mark) = time.checked_sub_signed(self.config.lateness) {
                if self.watermark.is_none_or(|w| mark > w) {
                    self.watermark = Some(mark);
                }
            }
        }
    }

    /// Puts one alert into its incident (joining, creating or merging).
    fn place(
        &mut self,
        id: &str,
        alert: &Alert,
        touched: &mut HashSet<String>,
        retired: &mut Vec<String>,
    ) {
        let host = alert
            .event
            .computer
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("-")
            .to_string();
        let user = if self.config.grouping.by_user {
            alert_user(alert)
        } else {
            None
        };
        let entry = timeline_entry(id, alert, &self.kill_chain);
        let named = alert_user(alert);
        let gap = self.config.grouping.inactivity;
        let slot = self.slots.entry((host.clone(), user.clone())).or_default();
        let target = match entry.time {
            None => match &mut slot.untimed {
                Some(incident) => incident,
                None => {
                    self.open += 1;
                    slot.untimed.insert(fresh(&host, &user, id))
                }
            },
            Some(time) => {
                // Incidents this alert lies within the gap of: a contiguous run.
                let near: Vec<usize> = slot
                    .timed
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| {
                        let (Some(first), Some(last)) = (i.first_seen, i.last_seen) else {
                            return false;
                        };
                        first - time <= gap && time - last <= gap
                    })
                    .map(|(index, _)| index)
                    .collect();
                match near.as_slice() {
                    [] => {
                        self.open += 1;
                        let at = slot.timed.partition_point(|i| i.first_seen <= Some(time));
                        slot.timed.insert(at, fresh(&host, &user, id));
                        &mut slot.timed[at]
                    }
                    [first, rest @ ..] => {
                        // Merge the later ones into the earliest, which keeps its id.
                        for &index in rest.iter().rev() {
                            let gone = slot.timed.remove(index);
                            self.open -= 1;
                            retired.push(gone.id.clone());
                            touched.remove(&gone.id);
                            let into = &mut slot.timed[*first];
                            for line in gone.timeline {
                                insert_line(into, line);
                            }
                            for name in gone.users {
                                insert_user(into, name);
                            }
                        }
                        &mut slot.timed[*first]
                    }
                }
            }
        };
        let time = entry.time;
        if insert_line(target, entry) {
            // Keep first/last seen current for the next alert of this batch.
            if target
                .first_seen
                .is_none_or(|f| time.is_some_and(|t| t < f))
            {
                target.first_seen = time;
            }
            if target.last_seen.is_none_or(|l| time.is_some_and(|t| t > l)) {
                target.last_seen = time;
            }
        }
        if let Some(name) = named {
            insert_user(target, name);
        }
        touched.insert(target.id.clone());
    }

    /// Drops incidents idle past the gap before the watermark, then the longest idle
    /// ones while more than [`TrackerConfig::max_open`] are held.
    fn expire(&mut self) {
        if let Some(watermark) = self.watermark {
            let gap = self.config.grouping.inactivity;
            let mut dropped = 0;
            for slot in self.slots.values_mut() {
                slot.timed.retain(|incident| {
                    let keep = incident
                        .last_seen
                        .is_none_or(|last| watermark - last <= gap);
                    if !keep {
                        dropped += 1;
                    }
                    keep
                });
            }
            self.forget(dropped);
        }
        if self.open > self.config.max_open {
            // Down to nine tenths, so the sort is paid once per many alerts.
            let keep = self.config.max_open - self.config.max_open / 10;
            let excess = self.open.saturating_sub(keep);
            let mut by_age: Vec<(Option<DateTime<Utc>>, &str)> = self
                .slots
                .values()
                .flat_map(|slot| slot.timed.iter().chain(slot.untimed.as_ref()))
                .map(|incident| (incident.last_seen, incident.id.as_str()))
                .collect();
            by_age.sort_unstable();
            let gone: HashSet<String> = by_age
                .into_iter()
                .take(excess)
                .map(|(_, id)| id.to_string())
                .collect();
            let mut dropped = 0;
            for slot in self.slots.values_mut() {
                slot.timed.retain(|incident| {
                    let keep = !gone.contains(&incident.id);
                    if !keep {
                        dropped += 1;
                    }
                    keep
                });
                if slot
                    .untimed
                    .as_ref()
                    .is_some_and(|incident| gone.contains(&incident.id))
                {
                    slot.untimed = None;
                    dropped += 1;
                }
            }
            self.forget(dropped);
        }
    }

    fn forget(&mut self, dropped: usize) {
        if dropped == 0 {
            return;
        }
        self.open = self.open.saturating_sub(dropped);
        self.dropped += dropped as u64;
        self.slots
            .retain(|_, slot| !slot.timed.is_empty() || slot.untimed.is_some());
    }
}

/// A new incident for a first alert; its lines and figures follow.
fn fresh(host: &str, user: &Option<String>, first_alert: &str) -> Incident {
    Incident {
        id: incident_id(host, user.as_deref(), first_alert),
        host: host.to_string(),
        user: user.clone(),
        users: Vec::new(),
        first_seen: None,
        last_seen: None,
        max_level: rampart_event::Level::Informational,
        score: 0.0,
        tactics: Vec::new(),
        techniques: Vec::new(),
        rules: 0,
        timeline: Vec::new(),
        likely_next: Vec::new(),
    }
}

/// Inserts a timeline line in (time, alert id) order; false when the alert is there.
fn insert_line(incident: &mut Incident, line: crate::TimelineEntry) -> bool {
    let key = |e: &crate::TimelineEntry| (e.time, e.alert_id.clone());
    let wanted = key(&line);
    match incident
        .timeline
        .binary_search_by(|existing| key(existing).cmp(&wanted))
    {
        Ok(_) => false,
        Err(at) => {
            incident.timeline.insert(at, line);
            true
        }
    }
}

/// Adds a user name to the sorted, distinct list.
fn insert_user(incident: &mut Incident, name: String) {
    if let Err(at) = incident.users.binary_search(&name) {
        incident.users.insert(at, name);
    }
}
