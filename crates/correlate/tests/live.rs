#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Live correlation and incidents on real events: the EVTX-ATTACK-SAMPLES corpus read
//! by the ingest crate and scanned by the detection engine, checked against the batch
//! paths a hunt uses (`AlertCorrelator` replay, `group_incidents`).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rampart_correlate::live::{IncidentTracker, StreamConfig, StreamingCorrelator, TrackerConfig};
use rampart_correlate::sigma::AlertCorrelator;
use rampart_correlate::{
    group_incidents, kill_chain_from, next_predictor_from, Coverage, Incident, IncidentConfig,
    KillChain, Tactic,
};
use rampart_detect::{Engine, LogsourceMap};
use rampart_event::{Alert, Event, EventMeta, Level};
use rampart_ingest::{Collector, Input, ReadOptions};
use rampart_knowledge::Knowledge;
use rampart_sigma::{load_rules, load_str, LoadOptions, RuleSet};
use rampart_testkit::data_path;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Every event of the corpus, file by file in path order.
fn corpus() -> &'static [Event] {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| {
        let mut events = Vec::new();
        let dir = data_path("evtx-attack-samples");
        for file in rampart_testkit::files_under(&dir, "evtx") {
            let collector = Collector::new();
            Input::file(&file)
                .unwrap()
                .read(&ReadOptions::default(), &collector)
                .unwrap();
            events.extend(collector.into_parts().0);
        }
        assert!(events.len() > 5_000, "{} events", events.len());
        events
    })
}

/// (alert, event) for every match of `set` over the corpus, in corpus order.
fn scan(set: &RuleSet) -> Vec<(Alert, Event)> {
    let (engine, _) = Engine::compile(set, &LogsourceMap::builtin());
    let mut scratch = engine.scratch();
    let mut pairs = Vec::new();
    for event in corpus() {
        engine.scan(event, &mut scratch, &mut |alert| {
            pairs.push((alert, event.clone()))
        });
    }
    pairs
}

/// Catch-all detection rules and correlations of every type over them (sliding and
/// tumbling windows, aliases, a chain), on fields the corpus's events carry.
const CORRELATIONS: &str = r#"title: Any process creation
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
name: any_process_creation
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '.exe'
  condition: selection
level: low
---
title: Any logon
id: 7a3d7b1e-3b53-4d0c-9a53-6a0e0b8b1f01
name: any_logon
status: test
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4624
  condition: selection
level: low
---
title: Burst of process creations
id: 0e95725d-7320-415d-80f7-004da920fc11
name: burst
status: test
correlation:
  type: event_count
  rules:
    - any_process_creation
  group-by:
    - Computer
  timespan: 10m
  condition:
    gte: 5
level: high
---
title: Many distinct programs
id: 1c2b3a4d-0000-4000-8000-000000000002
status: test
correlation:
  type: value_count
  rules:
    - any_process_creation
  group-by:
    - Computer
  timespan: 30m
  condition:
    field: Image
    gte: 4
level: medium
---
title: Few logons in an hour
id: 1c2b3a4d-0000-4000-8000-000000000003
status: test
correlation:
  type: event_count
  rules:
    - any_logon
  group-by:
    - Computer
  timespan: 1h
  condition:
    lte: 2
level: low
---
title: Logon and program start
id: 1c2b3a4d-0000-4000-8000-000000000004
status: test
correlation:
  type: temporal
  rules:
    - any_logon
    - any_process_creation
  group-by:
    - Computer
  timespan: 5m
level: medium
---
title: Logon then program start in that session
id: 1c2b3a4d-0000-4000-8000-000000000005
status: test
correlation:
  type: temporal_ordered
  rules:
    - any_logon
    - any_process_creation
  group-by:
    - Computer
    - session
  aliases:
    session:
      any_logon: TargetLogonId
      any_process_creation: LogonId
  timespan: 10m
level: high
---
title: Mean logon type
id: 1c2b3a4d-0000-4000-8000-000000000006
status: test
correlation:
  type: value_avg
  rules:
    - any_logon
  group-by:
    - Computer
  timespan: 1h
  condition:
    field: LogonType
    gt: 2
level: low
---
title: Bursts that repeat
id: 1c2b3a4d-0000-4000-8000-000000000007
status: test
correlation:
  type: event_count
  rules:
    - burst
  group-by:
    - Computer
  timespan: 1d
  condition:
    gte: 2
level: critical
"#;

fn correlation_rules() -> RuleSet {
    let (set, diagnostics) = load_str(CORRELATIONS, Path::new("live.yml"), &LoadOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(set.correlations.len(), 7);
    set
}

/// The correlated pairs of the corpus, in corpus order.
fn correlated() -> &'static [(Alert, Event)] {
    static PAIRS: OnceLock<Vec<(Alert, Event)>> = OnceLock::new();
    PAIRS.get_or_init(|| scan(&correlation_rules()))
}

fn time_of(pair: &(Alert, Event)) -> Option<DateTime<Utc>> {
    pair.0.event.timestamp.or(pair.1.meta.timestamp)
}

/// What a hunt does: sort by event time, replay, finish.
fn batch(set: &RuleSet, pairs: &[(Alert, Event)]) -> Vec<String> {
    let (correlator, _) = AlertCorrelator::new(set).unwrap();
    let mut sorted: Vec<&(Alert, Event)> = pairs.iter().collect();
    sorted.sort_by_key(|pair| time_of(pair));
    let mut fired: Vec<Alert> = sorted
        .iter()
        .flat_map(|(alert, event)| correlator.observe(alert, event))
        .collect();
    fired.extend(correlator.finish());
    canonical(fired)
}

/// Fired correlations, order-free, each whole.
fn canonical(fired: Vec<Alert>) -> Vec<String> {
    let mut lines: Vec<String> = fired
        .iter()
        .map(|alert| serde_json::to_string(alert).unwrap())
        .collect();
    lines.sort();
    lines
}

/// Feeds `pairs` in the order given, then ends the stream.
fn stream(
    set: &RuleSet,
    config: StreamConfig,
    pairs: &[&(Alert, Event)],
) -> (Vec<String>, StreamingCorrelator) {
    let max = config.max_buffered;
    let (mut correlator, _) = StreamingCorrelator::new(set, config).unwrap();
    let mut fired = Vec::new();
    for (alert, event) in pairs {
        fired.extend(correlator.observe(alert, event));
        assert!(correlator.buffered() <= max);
    }
    fired.extend(correlator.finish());
    (canonical(fired), correlator)
}

fn sorted_pairs() -> Vec<&'static (Alert, Event)> {
    let mut pairs: Vec<&(Alert, Event)> = correlated().iter().collect();
    pairs.sort_by_key(|pair| time_of(pair));
    pairs
}

#[test]
fn streaming_in_time_order_fires_what_the_batch_replay_fires() {
    let set = correlation_rules();
    let expected = batch(&set, correlated());
    let kinds: HashSet<String> = expected
        .iter()
        .map(|line| {
            let alert: Alert = serde_json::from_str(line).unwrap();
            alert.rule_id
        })
        .collect();
    // Every correlation type fires on the corpus, the chained one included.
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    let (fired, correlator) = stream(&set, StreamConfig::default(), &sorted_pairs());
    assert_eq!(correlator.late(), 0);
    assert_eq!(correlator.forced(), 0);
    assert_eq!(fired, expected);
}

#[test]
fn streaming_out_of_order_within_the_lateness_fires_the_same() {
    let set = correlation_rules();
    let expected = batch(&set, correlated());
    let lateness = TimeDelta::minutes(5);
    // Each pair arrives up to the lateness after its event time (the same delay for
    // the same event time, so ties keep their order): sources that lag differently.
    let delay = |time: DateTime<Utc>| {
        let mix = (time.timestamp_micros() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        TimeDelta::milliseconds((mix % 299_000) as i64)
    };
    let mut arrivals = sorted_pairs();
    arrivals.sort_by_key(|pair| time_of(pair).map(|t| t + delay(t)));
    let moved = arrivals
        .iter()
        .zip(sorted_pairs())
        .filter(|(a, b)| !std::ptr::eq(**a, *b))
        .count();
    assert!(moved > 100, "the arrival order differs: {moved}");
    let config = StreamConfig {
        lateness,
        ..StreamConfig::default()
    };
    let (fired, correlator) = stream(&set, config, &arrivals);
    assert_eq!(correlator.late(), 0);
    assert_eq!(fired, expected);
}

#[test]
fn a_full_buffer_feeds_the_oldest_early_and_counts_it() {
    let set = correlation_rules();
    let expected = batch(&set, correlated());
    let config = StreamConfig {
        lateness: TimeDelta::days(3650),
        max_buffered: 8,
        ..StreamConfig::default()
    };
    let (fired, correlator) = stream(&set, config, &sorted_pairs());
    assert!(correlator.forced() > 1000, "{}", correlator.forced());
    assert_eq!(fired, expected, "time-ordered input is unharmed");
}

#[test]
fn late_matches_are_counted_and_not_fed() {
    let set = correlation_rules();
    let pairs = sorted_pairs();
    let (mut correlator, _) = StreamingCorrelator::new(&set, StreamConfig::default()).unwrap();
    let mut fired = Vec::new();
    for (alert, event) in &pairs {
        fired.extend(correlator.observe(alert, event));
    }
    let watermark = correlator.watermark().unwrap();
    // The corpus's oldest matches again, years behind the watermark.
    let before = correlator.open_groups();
    for pair in pairs.iter().take(50) {
        assert!(time_of(pair).unwrap() < watermark);
        assert!(correlator.observe(&pair.0, &pair.1).is_empty());
    }
    assert_eq!(correlator.late(), 50);
    assert_eq!(correlator.open_groups(), before);
    fired.extend(correlator.finish());
    assert_eq!(canonical(fired), batch(&set, correlated()));
}

#[test]
fn a_match_dated_far_ahead_of_the_clock_moves_nothing() {
    let set = correlation_rules();
    let pairs = sorted_pairs();
    let (mut correlator, _) = StreamingCorrelator::new(&set, StreamConfig::default()).unwrap();
    let mut fired = Vec::new();
    let (half, rest) = pairs.split_at(pairs.len() / 2);
    for (alert, event) in half {
        fired.extend(correlator.observe(alert, event));
    }
    let mut forged = half[0].clone();
    forged.0.event.timestamp = Some(Utc::now() + TimeDelta::days(400));
    assert!(correlator.observe(&forged.0, &forged.1).is_empty());
    assert_eq!(correlator.future(), 1);
    for (alert, event) in rest {
        fired.extend(correlator.observe(alert, event));
    }
    assert_eq!(correlator.late(), 0, "the watermark did not jump");
    fired.extend(correlator.finish());
    assert_eq!(canonical(fired), batch(&set, correlated()));

    let mut tracker = IncidentTracker::new(chain(), TrackerConfig::default());
    tracker.add([("a", &alert("cmd", "T1059", 0))]);
    let mut far = alert("dump", "T1003", 0);
    far.event.timestamp = Some(Utc::now() + TimeDelta::days(400));
    tracker.add([("far", &far)]);
    assert_eq!(tracker.open(), 2, "the first incident stays in memory");
    assert_eq!(tracker.watermark(), Some(at(0) - TimeDelta::minutes(5)));
}

#[test]
fn a_quiet_stream_still_fires_its_tumbling_windows() {
    let set = correlation_rules();
    let few_logons = "1c2b3a4d-0000-4000-8000-000000000003";
    let logon = sorted_pairs()
        .into_iter()
        .find(|(alert, _)| alert.rule_id == "7a3d7b1e-3b53-4d0c-9a53-6a0e0b8b1f01")
        .unwrap();
    let (mut correlator, _) = StreamingCorrelator::new(&set, StreamConfig::default()).unwrap();
    let start = Instant::now();
    assert!(correlator.observe(&logon.0, &logon.1).is_empty());
    assert_eq!(correlator.buffered(), 1, "waits for the lateness");
    // Five minutes later nothing has closed: the hour-long window is open.
    assert!(correlator
        .tick(start + Duration::from_secs(6 * 60))
        .is_empty());
    assert_eq!(correlator.buffered(), 0);
    // An hour and the lateness after the logon, the window closes and fires.
    let fired = correlator.tick(start + Duration::from_secs(66 * 60));
    let ids: Vec<&str> = fired.iter().map(|a| a.rule_id.as_str()).collect();
    assert!(ids.contains(&few_logons), "{ids:?}");
    assert!(correlator.finish().iter().all(|a| a.rule_id != few_logons));
}

#[test]
fn advance_to_feeds_and_judges_up_to_the_given_time() {
    let set = correlation_rules();
    let pairs = sorted_pairs();
    let (mut correlator, _) = StreamingCorrelator::new(&set, StreamConfig::default()).unwrap();
    let mut fired = Vec::new();
    for (alert, event) in &pairs {
        fired.extend(correlator.observe(alert, event));
    }
    assert!(correlator.buffered() > 0);
    let last = time_of(pairs.last().unwrap()).unwrap();
    fired.extend(correlator.advance_to(last + TimeDelta::days(2)));
    assert_eq!(correlator.buffered(), 0);
    assert_eq!(correlator.open_groups(), 0, "every window has expired");
    assert!(correlator.finish().is_empty(), "nothing was left to close");
    assert_eq!(canonical(fired), batch(&set, correlated()));
}

// --- Incidents --------------------------------------------------------------------

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

/// SigmaHQ's Windows process-creation and Security rules' alerts over the corpus, with
/// their ids, in (time, id) order.
fn sigma_alerts() -> &'static [(String, Alert)] {
    static ALERTS: OnceLock<Vec<(String, Alert)>> = OnceLock::new();
    ALERTS.get_or_init(|| {
        let (set, _) = load_rules(&[
            data_path("sigma/rules/windows/process_creation"),
            data_path("sigma/rules/windows/builtin/security"),
        ]);
        assert!(set.rules.len() > 1000);
        let mut alerts: Vec<(String, Alert)> = scan(&set)
            .into_iter()
            .map(|(alert, _)| (alert.stable_id(), alert))
            .collect();
        alerts.sort_by(|a, b| (a.1.event.timestamp, &a.0).cmp(&(b.1.event.timestamp, &b.0)));
        alerts.dedup_by(|a, b| a.0 == b.0);
        assert!(alerts.len() > 300, "{} alerts", alerts.len());
        alerts
    })
}

/// What the caller's store holds after applying every change: id → incident.
#[derive(Default)]
struct Stored(BTreeMap<String, Incident>);

impl Stored {
    fn apply(&mut self, changes: rampart_correlate::live::IncidentChanges) {
        for merged in changes.retired {
            self.0.remove(&merged.id);
        }
        for incident in changes.changed {
            self.0.insert(incident.id.clone(), incident);
        }
    }
}

fn by_id(incidents: Vec<Incident>) -> BTreeMap<String, Incident> {
    incidents.into_iter().map(|i| (i.id.clone(), i)).collect()
}

fn batch_incidents(
    alerts: &[(String, Alert)],
    config: &IncidentConfig,
) -> BTreeMap<String, Incident> {
    by_id(group_incidents(
        alerts.iter().map(|(id, a)| (id.as_str(), a)),
        &kill_chain_from(knowledge()),
        config,
    ))
}

fn track(tracker: &mut IncidentTracker, alerts: &[(String, Alert)], stored: &mut Stored) {
    for chunk in alerts.chunks(7) {
        stored.apply(tracker.add(chunk.iter().map(|(id, a)| (id.as_str(), a))));
    }
}

#[test]
fn incidents_grown_batch_by_batch_equal_the_batch_grouping() {
    let alerts = sigma_alerts();
    for by_user in [false, true] {
        let grouping = IncidentConfig {
            by_user,
            ..IncidentConfig::default()
        };
        let config = TrackerConfig {
            grouping: grouping.clone(),
            lateness: TimeDelta::minutes(1),
            ..TrackerConfig::default()
        };
        let mut tracker = IncidentTracker::new(kill_chain_from(knowledge()), config);
        let mut stored = Stored::default();
        track(&mut tracker, alerts, &mut stored);
        let expected = batch_incidents(alerts, &grouping);
        assert!(expected.len() > 10, "{} incidents", expected.len());
        assert!(expected.values().any(|i| i.timeline.len() > 5));
        assert_eq!(stored.0, expected, "by user: {by_user}");
        // Incidents long idle left memory; the store still has them.
        assert!(tracker.dropped() > 5, "{}", tracker.dropped());
        assert!(tracker.open() < expected.len());
    }
}

#[test]
fn past_the_timeline_cap_alerts_count_but_are_not_listed() {
    let alerts = sigma_alerts();
    let config = TrackerConfig {
        max_timeline: 3,
        ..TrackerConfig::default()
    };
    let mut tracker = IncidentTracker::new(kill_chain_from(knowledge()), config);
    let mut stored = Stored::default();
    track(&mut tracker, alerts, &mut stored);
    let mut expected = batch_incidents(alerts, &IncidentConfig::default());
    let mut capped = 0;
    for incident in expected.values_mut() {
        if incident.timeline.len() > 3 {
            capped += 1;
            incident.unlisted = incident.timeline.len() - 3;
            incident.timeline.truncate(3);
        }
    }
    assert!(capped > 3, "{capped}");
    assert_eq!(stored.0, expected);
    assert!(stored.0.values().all(|i| i.timeline.len() <= 3));
}

#[test]
fn a_restart_seeded_from_the_store_continues_the_same_incidents() {
    let alerts = sigma_alerts();
    let config = TrackerConfig::default();
    let half = alerts.len() / 2;
    let mut first = IncidentTracker::new(kill_chain_from(knowledge()), config.clone());
    let mut stored = Stored::default();
    track(&mut first, &alerts[..half], &mut stored);
    drop(first);
    // Through the store's representation: JSON.
    let reloaded: Vec<Incident> = stored
        .0
        .values()
        .map(|i| serde_json::from_str(&serde_json::to_string(i).unwrap()).unwrap())
        .collect();
    let mut second = IncidentTracker::seeded(kill_chain_from(knowledge()), config, reloaded);
    assert!(second.open() > 0 && second.open() <= stored.0.len());
    track(&mut second, &alerts[half..], &mut stored);
    assert_eq!(
        stored.0,
        batch_incidents(alerts, &IncidentConfig::default())
    );
}

fn chain() -> KillChain {
    let tactic = |shortname: &str| Tactic {
        shortname: shortname.into(),
        id: None,
        name: None,
    };
    let mut chain = KillChain::new(vec![
        tactic("execution"),
        tactic("credential-access"),
        tactic("lateral-movement"),
    ]);
    chain.add_technique("T1059", vec!["execution".into()]);
    chain.add_technique("T1003", vec!["credential-access".into()]);
    chain.add_technique("T1021", vec!["lateral-movement".into()]);
    chain
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

fn alert(rule: &str, technique: &str, minutes: i64) -> Alert {
    Alert {
        id: String::new(),
        rule_id: rule.into(),
        rule_title: format!("rule {rule}"),
        level: Level::High,
        status: None,
        techniques: vec![technique.into()],
        tactics: vec![],
        tags: vec![],
        event: EventMeta {
            source: "live".into(),
            timestamp: Some(at(minutes)),
            computer: Some("WS1".into()),
            ..EventMeta::default()
        },
        matched: Vec::new(),
        context: Vec::new(),
        intel: None,
    }
}

#[test]
fn an_incident_keeps_its_id_when_an_earlier_late_alert_joins() {
    let mut tracker = IncidentTracker::new(chain(), TrackerConfig::default());
    let (a, b, late) = (
        alert("cmd", "T1059", 10),
        alert("dump", "T1003", 20),
        alert("smb", "T1021", 5),
    );
    let first = tracker.add([("a", &a), ("b", &b)]);
    assert_eq!(first.changed.len(), 1);
    let id = first.changed[0].id.clone();
    let before = first.changed[0].score;
    let next = tracker.add([("late", &late)]);
    assert_eq!(next.changed.len(), 1);
    let grown = &next.changed[0];
    assert_eq!(grown.id, id, "the id stays");
    assert_eq!(grown.first_seen, Some(at(5)));
    assert_eq!(grown.timeline[0].alert_id, "late");
    assert_eq!(
        grown.tactics,
        ["execution", "credential-access", "lateral-movement"]
    );
    assert!(grown.score > before, "{} > {before}", grown.score);
}

#[test]
fn an_alert_added_twice_counts_once() {
    let mut tracker = IncidentTracker::new(chain(), TrackerConfig::default());
    let (a, b) = (alert("cmd", "T1059", 0), alert("dump", "T1003", 3));
    tracker.add([("a", &a), ("b", &b)]);
    let again = tracker.add([("b", &b)]);
    assert_eq!(again.changed[0].timeline.len(), 2);
    assert_eq!(again.changed[0].rules, 2);
}

#[test]
fn a_late_alert_that_bridges_two_incidents_merges_them_into_the_earlier() {
    // Alerts may be two hours late: the first incident stays in memory.
    let config = TrackerConfig {
        lateness: TimeDelta::hours(2),
        ..TrackerConfig::default()
    };
    let mut tracker = IncidentTracker::new(chain(), config);
    let (a, b, bridge) = (
        alert("cmd", "T1059", 0),
        alert("dump", "T1003", 100),
        alert("smb", "T1021", 50),
    );
    let mut stored = Stored::default();
    stored.apply(tracker.add([("a", &a)]));
    stored.apply(tracker.add([("b", &b)]));
    assert_eq!(stored.0.len(), 2, "100 minutes apart: two incidents");
    let earlier = stored
        .0
        .values()
        .find(|i| i.first_seen == Some(at(0)))
        .unwrap()
        .id
        .clone();
    let later = stored.0.keys().find(|id| **id != earlier).unwrap().clone();
    let changes = tracker.add([("bridge", &bridge)]);
    assert_eq!(
        changes.retired,
        [rampart_correlate::live::Retired {
            id: later,
            into: earlier.clone()
        }],
        "the later merges into the earlier"
    );
    stored.apply(changes);
    assert_eq!(stored.0.len(), 1);
    let merged = &stored.0[&earlier];
    let members: Vec<&str> = merged
        .timeline
        .iter()
        .map(|e| e.alert_id.as_str())
        .collect();
    assert_eq!(members, ["a", "bridge", "b"]);
    assert_eq!(tracker.open(), 1);
}

#[test]
fn likely_next_follows_the_incident_as_it_grows() {
    let predictor = Arc::new(next_predictor_from(knowledge()));
    let mut tracker = IncidentTracker::new(kill_chain_from(knowledge()), TrackerConfig::default())
        .with_likely_next(predictor, HashSet::new());
    let first = tracker.add([("a", &alert("mimikatz", "T1003.001", 0))]);
    let before = first.changed[0].likely_next.clone();
    assert!(!before.is_empty());
    assert!(
        before.iter().all(|n| n.technique != "T1003.001"),
        "never what was seen"
    );
    let second = tracker.add([("b", &alert("psexec", "T1021.002", 3))]);
    let after = &second.changed[0].likely_next;
    assert!(!after.is_empty());
    assert_ne!(&before, after, "a new technique changes the ranking");
    assert!(after.iter().all(|n| n.technique != "T1021.002"));
    // The rules change (a reload): the next ranking says what the new rules cover.
    let suggested = after[0].technique.clone();
    assert_ne!(after[0].coverage, Coverage::Covered);
    tracker.set_covered(HashSet::from([suggested.to_ascii_uppercase()]));
    let third = tracker.add([("c", &alert("psexec", "T1021.002", 4))]);
    let again = third.changed[0]
        .likely_next
        .iter()
        .find(|n| n.technique == suggested)
        .expect("still suggested");
    assert_eq!(again.coverage, Coverage::Covered);
    // Stored and read back, the ranking is kept; older bodies without it still read.
    let json = serde_json::to_value(&second.changed[0]).unwrap();
    let back: Incident = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back.likely_next, after);
    let mut old = json;
    old.as_object_mut().unwrap().remove("likely_next");
    let back: Incident = serde_json::from_value(old).unwrap();
    assert!(back.likely_next.is_empty());
}

#[test]
fn idle_incidents_leave_memory_as_the_watermark_passes() {
    let config = TrackerConfig {
        max_open: 3,
        ..TrackerConfig::default()
    };
    let mut tracker = IncidentTracker::new(chain(), config);
    let hosts: Vec<Alert> = (0..10)
        .map(|i| {
            let mut a = alert("cmd", "T1059", i);
            a.event.computer = Some(format!("WS{i}").into());
            a
        })
        .collect();
    let ids: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
    let changes = tracker.add(ids.iter().map(String::as_str).zip(&hosts));
    assert_eq!(changes.changed.len(), 10, "every incident is reported");
    assert!(tracker.open() <= 3, "{}", tracker.open());
    // The newest host is kept, the oldest went.
    assert!(tracker
        .incident(&changes.changed.iter().find(|i| i.host == "WS9").unwrap().id)
        .is_some());
    tracker.advance_to(at(9) + TimeDelta::hours(2));
    assert_eq!(tracker.open(), 0);
    assert_eq!(tracker.dropped(), 10);
}

/// The specification's own example ("Failed Logins Followed by Successful Login"),
/// its matches arriving out of order: the success before the last failures.
#[test]
fn spec_example_out_of_order_fires_as_in_order() {
    let spec = std::fs::read_to_string(data_path(
        "sigma-specification/specification/sigma-correlation-rules-specification.md",
    ))
    .unwrap();
    let section = spec
        .split("### Failed Logins Followed by Successful Login")
        .nth(1)
        .unwrap();
    let yaml = section
        .split("```yml")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let (set, diagnostics) = load_str(yaml, Path::new("spec.yml"), &LoadOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let failed = "53ba33fd-3a50-4468-a5ef-c583635cfa92";
    let success = "4d0a2c83-c62c-4ed4-b475-c7e23a9269b8";
    let hit = |rule: &str, seconds: i64| {
        let mut alert = alert(rule, "T1110", 0);
        alert.event.timestamp = Some(at(0) + TimeDelta::seconds(seconds));
        let mut event = Event::default();
        event.set("User", rampart_event::Value::Str("alice".into()));
        (alert, event)
    };
    let mut in_order: Vec<(Alert, Event)> = (0..10).map(|i| hit(failed, i * 30)).collect();
    in_order.push(hit(success, 400));
    let expected = batch(&set, &in_order);
    assert_eq!(expected.len(), 2, "{expected:?}");
    // Arrival: the success first, then the failures newest first.
    let mut arrivals: Vec<&(Alert, Event)> = vec![&in_order[10]];
    arrivals.extend(in_order[..10].iter().rev());
    let ten_minutes = StreamConfig {
        lateness: TimeDelta::minutes(10),
        ..StreamConfig::default()
    };
    let (fired, correlator) = stream(&set, ten_minutes, &arrivals);
    assert_eq!(correlator.late(), 0);
    assert_eq!(fired, expected);
    // With five minutes the four failures older than 100 s arrive late: six remain,
    // too few for the brute-force window.
    let (fired, correlator) = stream(&set, StreamConfig::default(), &arrivals);
    assert_eq!(correlator.late(), 4);
    assert!(fired.is_empty(), "{fired:?}");
}
