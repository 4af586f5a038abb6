//! Alerts grouped into incidents: one host (and user, when asked), one burst of activity.
//!
//! Grouping: alerts are split by host (and by user when [`IncidentConfig::by_user`] is
//! set and the alert names one), sorted by event time, and a new incident starts when
//! the gap to the previous alert exceeds [`IncidentConfig::inactivity`]. Alerts without
//! a timestamp cannot be placed in time; each host's untimed alerts form one incident.
//!
//! Score (see [`score`]): `Σ level weight over distinct rules` plus
//! `5 × distinct techniques` plus `25 × reach`, where the level weights are informational 0.5, low 1, medium 3, high 6,
//! critical 10, and `reach` is how far along the matrix the furthest tactic seen lies
//! (`(position + 1) / number of tactics`, 0 when no tactic is known). Counting each rule
//! once keeps one noisy rule that fired a thousand times from outranking a short chain
//! of distinct high-severity techniques that got all the way to impact.

use crate::{KillChain, NextTechnique};
use chrono::{DateTime, TimeDelta, Utc};
use rampart_event::{Alert, Level};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// How alerts are grouped into incidents.
#[derive(Debug, Clone)]
pub struct IncidentConfig {
    /// A gap longer than this between two alerts of a host starts a new incident.
    pub inactivity: TimeDelta,
    /// Also split a host's alerts by the user they name (see [`alert_user`]).
    pub by_user: bool,
}

impl Default for IncidentConfig {
    /// One hour of inactivity, grouped by host only.
    fn default() -> Self {
        IncidentConfig {
            inactivity: TimeDelta::hours(1),
            by_user: false,
        }
    }
}

/// One alert's line in an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// The alert's id in the caller's store (its dedup key).
    pub alert_id: String,
    /// Event time.
    pub time: Option<DateTime<Utc>>,
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub rule_title: String,
    /// Rule level.
    pub level: Level,
    /// ATT&CK technique ids of the rule.
    pub techniques: Vec<String>,
    /// Tactic shortnames (the rule's tags, else those of its techniques).
    pub tactics: Vec<String>,
    /// ATT&CK groups the intelligence behind an IoC alert attributes it to
    /// ([`attributed_groups`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributed: Vec<String>,
}

/// A group of alerts on one host within one burst of activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id: derived from host, user and the first alert, so re-grouping the same
    /// alerts gives the same ids.
    pub id: String,
    /// Host the alerts came from (`-` when unknown).
    pub host: String,
    /// User, when grouping by user and the alerts name one.
    pub user: Option<String>,
    /// Users named by the alerts' matched fields.
    pub users: Vec<String>,
    /// Time of the first alert.
    pub first_seen: Option<DateTime<Utc>>,
    /// Time of the last alert.
    pub last_seen: Option<DateTime<Utc>>,
    /// Highest level among the alerts.
    pub max_level: Level,
    /// Score, see the module documentation.
    pub score: f64,
    /// Tactic shortnames seen, in matrix order.
    pub tactics: Vec<String>,
    /// Technique ids seen, ordered by the matrix position of their tactic, then id.
    pub techniques: Vec<String>,
    /// Distinct rules that fired.
    pub rules: usize,
    /// Alerts in time order.
    pub timeline: Vec<TimelineEntry>,
    /// Likely next techniques, when whoever built the incident ranked them (the live
    /// [`crate::live::IncidentTracker`] does; [`group_incidents`] does not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub likely_next: Vec<NextTechnique>,
    /// Alerts counted in the figures but not listed in the timeline, past the live
    /// tracker's cap ([`crate::live::TrackerConfig::max_timeline`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlisted: usize,
    /// ATT&CK groups its IoC alerts are attributed to, by id; likely-next ranks their
    /// techniques first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributed: Vec<String>,
}

impl Incident {
    /// Number of alerts: the timeline's and those past its cap.
    pub fn alert_count(&self) -> usize {
        self.timeline.len() + self.unlisted
    }
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// Rule ids of IoC alerts start with this: the matcher's alerts name the indicator
/// (`intel:<indicator id>`), not a Sigma rule.
pub const INTEL_RULE_PREFIX: &str = "intel:";

/// The ATT&CK groups an IoC alert is attributed to: the `attack.gNNNN` tags of an alert
/// whose rule id starts with [`INTEL_RULE_PREFIX`], upper-cased, sorted, distinct. Sigma
/// rules' group tags say which group a rule was written after, not who is at work, so
/// they do not count.
pub fn attributed_groups(alert: &Alert) -> Vec<String> {
    if !alert.rule_id.starts_with(INTEL_RULE_PREFIX) {
        return Vec::new();
    }
    let groups: BTreeSet<String> = alert
        .tags
        .iter()
        .filter_map(|tag| {
            let id = tag.trim().strip_prefix("attack.")?;
            let digits = id.strip_prefix('g').or_else(|| id.strip_prefix('G'))?;
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| format!("G{digits}"))
        })
        .collect();
    groups.into_iter().collect()
}

/// Field names whose matched value names a user account.
const USER_FIELDS: &[&str] = &["User", "TargetUserName", "SubjectUserName", "UserName"];

/// The user an alert names through its matched fields, if any.
///
/// Alerts carry only the fields their rule matched, so this is known for some alerts
/// only; that is why grouping by user is optional.
pub fn alert_user(alert: &Alert) -> Option<String> {
    alert
        .matched
        .iter()
        .find(|m| USER_FIELDS.contains(&m.field.as_str()) && !m.value.trim().is_empty())
        .map(|m| m.value.trim().to_string())
}

/// Alerts paired with their store ids.
type Members<'a> = Vec<(&'a str, &'a Alert)>;

/// Groups alerts into incidents, highest score first.
///
/// `alerts` pairs each alert with its id in the caller's store.
pub fn group_incidents<'a>(
    alerts: impl IntoIterator<Item = (&'a str, &'a Alert)>,
    kill_chain: &KillChain,
    config: &IncidentConfig,
) -> Vec<Incident> {
    let mut by_key: BTreeMap<(String, Option<String>), Members<'a>> = BTreeMap::new();
    for (id, alert) in alerts {
        let host = alert
            .event
            .computer
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("-")
            .to_string();
        let user = if config.by_user {
            alert_user(alert)
        } else {
            None
        };
        by_key.entry((host, user)).or_default().push((id, alert));
    }
    let mut incidents = Vec::new();
    for ((host, user), mut members) in by_key {
        members.sort_by(|a, b| (a.1.event.timestamp, a.0).cmp(&(b.1.event.timestamp, b.0)));
        let (untimed, timed): (Vec<_>, Vec<_>) = members
            .into_iter()
            .partition(|m| m.1.event.timestamp.is_none());
        let mut burst: Vec<(&str, &Alert)> = Vec::new();
        let mut last: Option<DateTime<Utc>> = None;
        for member in timed {
            let time = member.1.event.timestamp;
            if let (Some(prev), Some(now)) = (last, time) {
                if now - prev > config.inactivity && !burst.is_empty() {
                    incidents.push(build(&host, &user, &burst, kill_chain));
                    burst.clear();
                }
            }
            last = time;
            burst.push(member);
        }
        if !burst.is_empty() {
            incidents.push(build(&host, &user, &burst, kill_chain));
        }
        if !untimed.is_empty() {
            incidents.push(build(&host, &user, &untimed, kill_chain));
        }
    }
    incidents.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.first_seen.cmp(&b.first_seen))
            .then_with(|| a.id.cmp(&b.id))
    });
    incidents
}

/// The tactics an alert stands for: its rule's tactic tags, else its techniques'.
fn alert_tactics(alert: &Alert, kill_chain: &KillChain) -> Vec<String> {
    let mut tactics = alert.tactics.clone();
    if tactics.is_empty() {
        for technique in &alert.techniques {
            tactics.extend(kill_chain.tactics_of(technique).iter().cloned());
        }
    }
    kill_chain.sort_tactics(&mut tactics);
    tactics
}

fn build(
    host: &str,
    user: &Option<String>,
    members: &[(&str, &Alert)],
    kill_chain: &KillChain,
) -> Incident {
    let mut users = BTreeSet::new();
    let mut timeline = Vec::with_capacity(members.len());
    for (id, alert) in members {
        users.extend(alert_user(alert));
        timeline.push(timeline_entry(id, alert, kill_chain));
    }
    let first_id = members.first().map(|m| m.0).unwrap_or_default();
    let mut incident = Incident {
        id: incident_id(host, user.as_deref(), first_id),
        host: host.to_string(),
        user: user.clone(),
        users: users.into_iter().collect(),
        first_seen: None,
        last_seen: None,
        max_level: Level::Informational,
        score: 0.0,
        tactics: Vec::new(),
        techniques: Vec::new(),
        rules: 0,
        timeline,
        likely_next: Vec::new(),
        unlisted: 0,
        attributed: Vec::new(),
    };
    summarize(&mut incident, kill_chain);
    incident
}

/// An alert's line in a timeline.
pub(crate) fn timeline_entry(id: &str, alert: &Alert, kill_chain: &KillChain) -> TimelineEntry {
    TimelineEntry {
        alert_id: id.to_string(),
        time: alert.event.timestamp,
        rule_id: alert.rule_id.clone(),
        rule_title: alert.rule_title.clone(),
        level: alert.level,
        techniques: alert.techniques.clone(),
        tactics: alert_tactics(alert, kill_chain),
        attributed: attributed_groups(alert),
    }
}

/// Recomputes what an incident derives from its timeline (kept in time order): first
/// and last seen, tactics, techniques, distinct rules, highest level and score.
fn summarize(incident: &mut Incident, kill_chain: &KillChain) {
    let mut tactics = Vec::new();
    let mut techniques = BTreeSet::new();
    let mut attributed = BTreeSet::new();
    let mut rules: BTreeMap<&str, Level> = BTreeMap::new();
    for entry in &incident.timeline {
        tactics.extend(entry.tactics.iter().cloned());
        techniques.extend(entry.techniques.iter().cloned());
        attributed.extend(entry.attributed.iter().cloned());
        rules.insert(&entry.rule_id, entry.level);
    }
    incident.attributed = attributed.into_iter().collect();
    kill_chain.sort_tactics(&mut tactics);
    let mut techniques: Vec<String> = techniques.into_iter().collect();
    techniques.sort_by_key(|t| {
        (
            kill_chain.technique_position(t).unwrap_or(usize::MAX),
            t.clone(),
        )
    });
    incident.score = score(
        rules.values().copied(),
        techniques.len(),
        &tactics,
        kill_chain,
    );
    incident.max_level = rules
        .values()
        .copied()
        .max()
        .unwrap_or(Level::Informational);
    incident.rules = rules.len();
    incident.first_seen = incident.timeline.first().and_then(|e| e.time);
    incident.last_seen = incident.timeline.last().and_then(|e| e.time);
    incident.tactics = tactics;
    incident.techniques = techniques;
}

/// The weight of one distinct rule of this level in an incident's score.
pub fn level_weight(level: Level) -> f64 {
    match level {
        Level::Informational => 0.5,
        Level::Low => 1.0,
        Level::Medium => 3.0,
        Level::High => 6.0,
        Level::Critical => 10.0,
    }
}

/// An incident's score: `Σ level_weight(rule level) + 5 × techniques + 25 × reach`,
/// rounded to one decimal (see the module documentation).
pub fn score(
    rule_levels: impl IntoIterator<Item = Level>,
    distinct_techniques: usize,
    tactics: &[String],
    kill_chain: &KillChain,
) -> f64 {
    let severity: f64 = rule_levels.into_iter().map(level_weight).sum();
    let furthest = tactics.iter().filter_map(|t| kill_chain.position(t)).max();
    let reach = match (furthest, kill_chain.tactics().len()) {
        (Some(position), total) if total > 0 => (position + 1) as f64 / total as f64,
        _ => 0.0,
    };
    let raw = severity + 5.0 * distinct_techniques as f64 + 25.0 * reach;
    (raw * 10.0).round() / 10.0
}

pub(crate) fn incident_id(host: &str, user: Option<&str>, first_alert: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [host, user.unwrap_or(""), first_alert] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let hex: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
    format!("INC-{hex}")
}
