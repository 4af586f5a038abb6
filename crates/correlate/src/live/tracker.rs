//! [`IncidentTracker`]: alerts grouped into incidents as they arrive.

use crate::incident::{incident_id, timeline_entry};
use crate::{alert_user, score, Incident, IncidentConfig, KillChain, NextPredictor, TimelineEntry};
use chrono::{DateTime, TimeDelta, Utc};
use rampart_event::{Alert, Level};
use std::collections::{BTreeSet, HashMap, HashSet};
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
    /// At most this many alerts are listed in an incident's timeline; later ones
    /// still count in its figures (score, rules, techniques, last seen) and in
    /// [`Incident::unlisted`]. Bounds an incident a noisy rule keeps alive.
    pub max_timeline: usize,
    /// Alert times further than this ahead of the clock do not move the watermark (the
    /// alert is still grouped): one forged timestamp would otherwise send every
    /// incident out of memory.
    pub max_future: TimeDelta,
}

impl Default for TrackerConfig {
    /// Default grouping, five minutes of lateness, 100 000 open incidents, eight
    /// likely next techniques, 10 000 alerts listed per incident, a day ahead of the
    /// clock.
    fn default() -> Self {
        TrackerConfig {
            grouping: IncidentConfig::default(),
            lateness: TimeDelta::minutes(5),
            max_open: 100_000,
            next_limit: 8,
            max_timeline: 10_000,
            max_future: TimeDelta::days(1),
        }
    }
}

/// What one batch of alerts changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentChanges {
    /// Incidents created or grown, whole and up to date, highest score first: store
    /// them (replacing the stored ones of the same id).
    pub changed: Vec<Incident>,
    /// Incidents merged into another one (a late alert bridged the gap between them):
    /// remove them from the store; their alerts are in the `changed` incident `into`.
    pub retired: Vec<Retired>,
}

/// An incident merged into another, which keeps its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    /// The merged incident's id, gone.
    pub id: String,
    /// The incident that holds its alerts now (one of the batch's `changed`; when a
    /// batch merges more than once, the last survivor).
    pub into: String,
}

/// Grouping key: host and, when grouping by user, the user.
type Key = (String, Option<String>);

/// Where a line sits in a timeline: event time, then alert id.
type LineKey = (Option<DateTime<Utc>>, String);

/// An incident in memory with the running figures its summary is made from, so a
/// batch costs what its alerts cost, not what the incident's whole timeline does.
#[derive(Debug)]
struct Tracked {
    incident: Incident,
    /// Per rule: the level of its latest line (as `group_incidents` takes it).
    rules: HashMap<String, (LineKey, Level)>,
    techniques: HashSet<String>,
    tactics: HashSet<String>,
    attributed: BTreeSet<String>,
}

impl Tracked {
    fn new(host: &str, user: &Option<String>, first_alert: &str) -> Self {
        Tracked {
            incident: Incident {
                id: incident_id(host, user.as_deref(), first_alert),
                host: host.to_string(),
                user: user.clone(),
                users: Vec::new(),
                first_seen: None,
                last_seen: None,
                max_level: Level::Informational,
                score: 0.0,
                tactics: Vec::new(),
                techniques: Vec::new(),
                rules: 0,
                timeline: Vec::new(),
                likely_next: Vec::new(),
                unlisted: 0,
                attributed: Vec::new(),
            },
            rules: HashMap::new(),
            techniques: HashSet::new(),
            tactics: HashSet::new(),
            attributed: BTreeSet::new(),
        }
    }

    /// A stored incident, its figures rebuilt from its timeline and summary (of the
    /// rules, only those of listed alerts are known again).
    fn from_stored(mut incident: Incident) -> Self {
        incident
            .timeline
            .sort_by(|a, b| (a.time, a.alert_id.as_str()).cmp(&(b.time, b.alert_id.as_str())));
        let lines = std::mem::take(&mut incident.timeline);
        let mut tracked = Tracked {
            techniques: incident.techniques.iter().cloned().collect(),
            tactics: incident.tactics.iter().cloned().collect(),
            attributed: incident.attributed.iter().cloned().collect(),
            rules: HashMap::new(),
            incident,
        };
        for line in lines {
            tracked.count(&line);
            tracked.incident.timeline.push(line);
        }
        tracked
    }

    /// Adds one alert's line: counted in the figures, listed while the timeline has
    /// room; false when this alert is listed already.
    fn add(&mut self, line: TimelineEntry, max_timeline: usize) -> bool {
        let wanted = (line.time, line.alert_id.as_str());
        let timeline = &mut self.incident.timeline;
        let at = match timeline.binary_search_by(|e| (e.time, e.alert_id.as_str()).cmp(&wanted)) {
            Ok(_) => return false,
            Err(at) => at,
        };
        self.count(&line);
        if let Some(time) = line.time {
            let incident = &mut self.incident;
            if incident.first_seen.is_none_or(|first| time < first) {
                incident.first_seen = Some(time);
            }
            if incident.last_seen.is_none_or(|last| time > last) {
                incident.last_seen = Some(time);
            }
        }
        if self.incident.timeline.len() < max_timeline {
            self.incident.timeline.insert(at, line);
        } else {
            self.incident.unlisted += 1;
        }
        true
    }

    /// Takes one line into the running figures.
    fn count(&mut self, line: &TimelineEntry) {
        let key = (line.time, line.alert_id.clone());
        match self.rules.get_mut(&line.rule_id) {
            Some(latest) if latest.0 >= key => {}
            Some(latest) => *latest = (key, line.level),
            None => {
                self.rules.insert(line.rule_id.clone(), (key, line.level));
            }
        }
        self.techniques.extend(line.techniques.iter().cloned());
        self.tactics.extend(line.tactics.iter().cloned());
        self.attributed.extend(line.attributed.iter().cloned());
    }

    /// Takes in an incident merged into this one.
    fn absorb(&mut self, other: Tracked, max_timeline: usize) {
        for (rule, (key, level)) in other.rules {
            match self.rules.get_mut(&rule) {
                Some(latest) if latest.0 >= key => {}
                Some(latest) => *latest = (key, level),
                None => {
                    self.rules.insert(rule, (key, level));
                }
            }
        }
        self.techniques.extend(other.techniques);
        self.tactics.extend(other.tactics);
        self.attributed.extend(other.attributed);
        let incident = &mut self.incident;
        if let Some(first) = other.incident.first_seen {
            if incident.first_seen.is_none_or(|mine| first < mine) {
                incident.first_seen = Some(first);
            }
        }
        if let Some(last) = other.incident.last_seen {
            if incident.last_seen.is_none_or(|mine| last > mine) {
                incident.last_seen = Some(last);
            }
        }
        self.incident.unlisted += other.incident.unlisted;
        for line in other.incident.timeline {
            if self.incident.timeline.len() < max_timeline {
                let wanted = (line.time, line.alert_id.as_str());
                if let Err(at) = self
                    .incident
                    .timeline
                    .binary_search_by(|e| (e.time, e.alert_id.as_str()).cmp(&wanted))
                {
                    self.incident.timeline.insert(at, line);
                }
            } else {
                self.incident.unlisted += 1;
            }
        }
        for name in other.incident.users {
            insert_user(&mut self.incident, name);
        }
    }

    /// Brings the summary up to date from the running figures (what
    /// [`crate::group_incidents`] computes from all the alerts).
    fn summarize(&mut self, kill_chain: &KillChain) {
        let mut tactics: Vec<String> = self.tactics.iter().cloned().collect();
        kill_chain.sort_tactics(&mut tactics);
        let mut techniques: Vec<String> = self.techniques.iter().cloned().collect();
        techniques.sort_by_key(|t| {
            (
                kill_chain.technique_position(t).unwrap_or(usize::MAX),
                t.clone(),
            )
        });
        let levels = self.rules.values().map(|(_, level)| *level);
        let incident = &mut self.incident;
        incident.score = score(levels.clone(), techniques.len(), &tactics, kill_chain);
        incident.max_level = levels.max().unwrap_or(Level::Informational);
        incident.rules = self.rules.len();
        incident.tactics = tactics;
        incident.techniques = techniques;
        incident.attributed = self.attributed.iter().cloned().collect();
    }
}

/// The incidents of one key that are still in memory.
#[derive(Debug, Default)]
struct Slot {
    /// Incidents with a time, ordered by first alert, disjoint in time.
    timed: Vec<Tracked>,
    /// The key's alerts without an event time.
    untimed: Option<Tracked>,
}

impl Slot {
    fn all(&self) -> impl Iterator<Item = &Tracked> {
        self.timed.iter().chain(self.untimed.as_ref())
    }
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
/// of them (up to [`TrackerConfig::max_timeline`] alerts listed per incident). An
/// alert already listed in its incident (the same store id) is not added twice.
///
/// Memory: an incident whose last alert is more than the inactivity gap before the
/// watermark (newest alert time − [`TrackerConfig::lateness`]) leaves memory, at most
/// [`TrackerConfig::max_open`] are held, and each lists at most
/// [`TrackerConfig::max_timeline`] alerts. A batch costs the work of its alerts plus a
/// copy of each incident it changed.
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
    /// needed (timeline, users, figures), so their alerts need not be read again.
    /// Incidents already idle past the watermark their own newest alert sets are not
    /// kept.
    pub fn seeded(kill_chain: KillChain, config: TrackerConfig, incidents: Vec<Incident>) -> Self {
        let mut tracker = IncidentTracker::new(kill_chain, config);
        for incident in incidents {
            tracker.see(incident.last_seen);
            let slot = tracker
                .slots
                .entry((incident.host.clone(), incident.user.clone()))
                .or_default();
            let tracked = Tracked::from_stored(incident);
            if tracked.incident.first_seen.is_none() {
                if slot.untimed.is_none() {
                    slot.untimed = Some(tracked);
                    tracker.open += 1;
                }
            } else {
                let first = tracked.incident.first_seen;
                let at = slot
                    .timed
                    .partition_point(|t| t.incident.first_seen <= first);
                slot.timed.insert(at, tracked);
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

    /// Replaces the covered techniques (the rules changed: a reload); the incidents
    /// changed from now on are ranked against them. Nothing without a predictor.
    pub fn set_covered(&mut self, covered: HashSet<String>) {
        if let Some((_, current)) = &mut self.predictor {
            *current = covered;
        }
    }

    /// Adds a batch of alerts, each with its id in the caller's store; returns the
    /// incidents that changed.
    pub fn add<'a>(
        &mut self,
        alerts: impl IntoIterator<Item = (&'a str, &'a Alert)>,
    ) -> IncidentChanges {
        let mut batch: Vec<(&str, &Alert)> = alerts.into_iter().collect();
        batch.sort_by(|a, b| (a.1.event.timestamp, a.0).cmp(&(b.1.event.timestamp, b.0)));
        let mut touched: HashMap<String, Key> = HashMap::new();
        let mut retired: Vec<Retired> = Vec::new();
        for (id, alert) in batch {
            self.place(id, alert, &mut touched, &mut retired);
            self.see(alert.event.timestamp);
        }
        let keys: HashSet<&Key> = touched.values().collect();
        let mut changed = Vec::new();
        for key in keys {
            let Some(slot) = self.slots.get_mut(key) else {
                continue;
            };
            for tracked in slot.timed.iter_mut().chain(slot.untimed.as_mut()) {
                if touched.contains_key(&tracked.incident.id) {
                    tracked.summarize(&self.kill_chain);
                    let incident = &mut tracked.incident;
                    if let Some((predictor, covered)) = &self.predictor {
                        incident.likely_next = predictor.predict_attributed(
                            &incident.techniques,
                            &incident.attributed,
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
        // A survivor merged later into another in the same batch: follow to the last.
        let into_of: HashMap<String, String> = retired
            .iter()
            .map(|merge| (merge.id.clone(), merge.into.clone()))
            .collect();
        for merge in &mut retired {
            let mut hops = 0;
            while let Some(next) = into_of.get(&merge.into) {
                hops += 1;
                if hops > into_of.len() {
                    break;
                }
                merge.into = next.clone();
            }
        }
        retired.retain(|merge| changed.iter().all(|incident| incident.id != merge.id));
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

    /// An incident held in memory, by id, as of the last batch.
    pub fn incident(&self, id: &str) -> Option<&Incident> {
        self.slots
            .values()
            .flat_map(Slot::all)
            .map(|tracked| &tracked.incident)
            .find(|incident| incident.id == id)
    }

    /// Notes an alert time: newest time and watermark.
    fn see(&mut self, time: Option<DateTime<Utc>>) {
        let Some(time) = time else {
            return;
        };
        let ahead = Utc::now()
            .checked_add_signed(self.config.max_future)
            .is_some_and(|limit| time > limit);
        if !ahead && self.newest.is_none_or(|n| time > n) {
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
        touched: &mut HashMap<String, Key>,
        retired: &mut Vec<Retired>,
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
        let line = timeline_entry(id, alert, &self.kill_chain);
        let named = alert_user(alert);
        let gap = self.config.grouping.inactivity;
        let max_timeline = self.config.max_timeline;
        let key: Key = (host, user);
        let slot = self.slots.entry(key.clone()).or_default();
        let target = match line.time {
            None => match &mut slot.untimed {
                Some(tracked) => tracked,
                None => {
                    self.open += 1;
                    slot.untimed.insert(Tracked::new(&key.0, &key.1, id))
                }
            },
            Some(time) => {
                // Incidents this alert lies within the gap of: a contiguous run.
                let near: Vec<usize> = slot
                    .timed
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| {
                        let (Some(first), Some(last)) =
                            (t.incident.first_seen, t.incident.last_seen)
                        else {
                            return false;
                        };
                        first - time <= gap && time - last <= gap
                    })
                    .map(|(index, _)| index)
                    .collect();
                match near.as_slice() {
                    [] => {
                        self.open += 1;
                        let at = slot
                            .timed
                            .partition_point(|t| t.incident.first_seen <= Some(time));
                        slot.timed.insert(at, Tracked::new(&key.0, &key.1, id));
                        &mut slot.timed[at]
                    }
                    [first, rest @ ..] => {
                        // Merge the later ones into the earliest, which keeps its id.
                        for &index in rest.iter().rev() {
                            let gone = slot.timed.remove(index);
                            self.open -= 1;
                            retired.push(Retired {
                                id: gone.incident.id.clone(),
                                into: slot.timed[*first].incident.id.clone(),
                            });
                            touched.remove(&gone.incident.id);
                            slot.timed[*first].absorb(gone, max_timeline);
                        }
                        &mut slot.timed[*first]
                    }
                }
            }
        };
        target.add(line, max_timeline);
        if let Some(name) = named {
            insert_user(&mut target.incident, name);
        }
        touched.insert(target.incident.id.clone(), key);
    }

    /// Drops incidents idle past the gap before the watermark, then the longest idle
    /// ones while more than [`TrackerConfig::max_open`] are held.
    fn expire(&mut self) {
        if let Some(watermark) = self.watermark {
            let gap = self.config.grouping.inactivity;
            let mut dropped = 0;
            for slot in self.slots.values_mut() {
                slot.timed.retain(|tracked| {
                    let keep = tracked
                        .incident
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
                .flat_map(Slot::all)
                .map(|tracked| (tracked.incident.last_seen, tracked.incident.id.as_str()))
                .collect();
            by_age.sort_unstable();
            let gone: HashSet<String> = by_age
                .into_iter()
                .take(excess)
                .map(|(_, id)| id.to_string())
                .collect();
            let mut dropped = 0;
            for slot in self.slots.values_mut() {
                slot.timed.retain(|tracked| {
                    let keep = !gone.contains(&tracked.incident.id);
                    if !keep {
                        dropped += 1;
                    }
                    keep
                });
                if slot
                    .untimed
                    .as_ref()
                    .is_some_and(|tracked| gone.contains(&tracked.incident.id))
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

/// Adds a user name to the sorted, distinct list.
fn insert_user(incident: &mut Incident, name: String) {
    if let Err(at) = incident.users.binary_search(&name) {
        incident.users.insert(at, name);
    }
}
