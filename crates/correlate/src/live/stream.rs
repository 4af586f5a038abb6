//! [`StreamingCorrelator`]: Sigma correlation rules over a never-ending stream, judged
//! by a watermark.

use crate::sigma::{CorrelationAlert, CorrelationEngine, CorrelationWarning, EventFields, Fields};
use chrono::{DateTime, TimeDelta, Utc};
use rampart_event::{Alert, Event};
use rampart_sigma::RuleSet;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

/// How far the watermark may advance before the windows are swept again: tumbling
/// windows fire at most this much event time after they end.
const SWEEP_STEP: TimeDelta = TimeDelta::seconds(1);

/// How a [`StreamingCorrelator`] waits for stragglers.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// How much older than the newest event seen a match may be and still take part
    /// in correlations (sources that lag, batches that arrive out of order). Matches
    /// wait this long (in event time) before they are fed.
    pub lateness: TimeDelta,
    /// At most this many matches wait; past it the oldest is fed early (counted in
    /// [`StreamingCorrelator::forced`]).
    pub max_buffered: usize,
}

impl Default for StreamConfig {
    /// Five minutes of lateness, 65 536 waiting matches.
    fn default() -> Self {
        StreamConfig {
            lateness: TimeDelta::minutes(5),
            max_buffered: 65_536,
        }
    }
}

/// One match waiting for the watermark: only the fields correlations can ask for.
struct Pending {
    time: DateTime<Utc>,
    /// Arrival order: ties in event time are fed in the order they came.
    seq: u64,
    rule_id: String,
    fields: Vec<(String, String)>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// Sigma correlation rules for events that arrive in near-time order from many
/// sources, without an end.
///
/// Feed every detection alert with its event ([`StreamingCorrelator::observe`]); call
/// [`StreamingCorrelator::tick`] now and then (e.g. every second) so a quiet stream
/// still fires; [`StreamingCorrelator::finish`] when the stream really ends. Every call
/// returns the correlations that fired, as [`Alert`]s.
///
/// Event time, not arrival time, decides: the watermark is the newest event time seen
/// minus [`StreamConfig::lateness`]. A match at or after the watermark waits in a
/// min-heap and is fed once the watermark reaches it, so the correlation windows see
/// every source's matches in time order whatever order the sources delivered them in.
/// A match older than the watermark (or than a match already fed) is late: counted in
/// [`StreamingCorrelator::late`] and not fed. The caller still emits the late alert of
/// the simple rule.
///
/// Memory: the heap holds at most [`StreamConfig::max_buffered`] matches, each only
/// with the fields the correlations ask for; windows expire as the watermark passes
/// them, and the engine sweeps groups past
/// [`GROUP_SOFT_LIMIT`](crate::sigma::GROUP_SOFT_LIMIT).
pub struct StreamingCorrelator {
    engine: CorrelationEngine,
    /// Field names correlations may ask for (see [`CorrelationEngine::wanted_fields`]).
    wanted: Vec<String>,
    config: StreamConfig,
    pending: BinaryHeap<Reverse<Pending>>,
    seq: u64,
    newest: Option<DateTime<Utc>>,
    watermark: Option<DateTime<Utc>>,
    /// Event time of the newest match fed.
    fed: Option<DateTime<Utc>>,
    swept: Option<DateTime<Utc>>,
    /// When the newest event time last moved forward, for [`StreamingCorrelator::tick`].
    arrived: Option<Instant>,
    late: u64,
    forced: u64,
    untimed: u64,
}

impl StreamingCorrelator {
    /// A correlator for the correlation rules of `set` (None when it has none), with
    /// the warnings about references to unknown rules.
    pub fn new(set: &RuleSet, config: StreamConfig) -> Option<(Self, Vec<CorrelationWarning>)> {
        if set.correlations.is_empty() {
            return None;
        }
        let (engine, warnings) = CorrelationEngine::new(&set.correlations, &set.rules);
        let wanted = engine.wanted_fields();
        let correlator = StreamingCorrelator {
            engine,
            wanted,
            config,
            pending: BinaryHeap::new(),
            seq: 0,
            newest: None,
            watermark: None,
            fed: None,
            swept: None,
            arrived: None,
            late: 0,
            forced: 0,
            untimed: 0,
        };
        Some((correlator, warnings))
    }

    /// Whether any correlation takes this detection alert as input; others are
    /// ignored by [`StreamingCorrelator::observe`].
    pub fn listens_to(&self, alert: &Alert) -> bool {
        self.engine.listens_to(&alert.rule_id)
    }

    /// Whether this detection alert is withheld by `generate: false`.
    pub fn suppressed(&self, alert: &Alert) -> bool {
        self.engine.is_suppressed(&alert.rule_id)
    }

    /// Takes one detection alert and the event it matched; returns the correlations
    /// that fired. An alert no correlation listens to is ignored; one without an event
    /// time cannot take part (counted in [`StreamingCorrelator::untimed`]); a late one
    /// is counted in [`StreamingCorrelator::late`].
    pub fn observe(&mut self, alert: &Alert, event: &Event) -> Vec<Alert> {
        if !self.engine.listens_to(&alert.rule_id) {
            return Vec::new();
        }
        let Some(time) = alert.event.timestamp.or(event.meta.timestamp) else {
            self.untimed += 1;
            return Vec::new();
        };
        if self.floor().is_some_and(|floor| time < floor) {
            self.late += 1;
            return Vec::new();
        }
        let view = EventFields(event);
        let fields = self
            .wanted
            .iter()
            .filter_map(|name| Some((name.clone(), view.field(name)?)))
            .collect();
        self.seq += 1;
        self.pending.push(Reverse(Pending {
            time,
            seq: self.seq,
            rule_id: alert.rule_id.clone(),
            fields,
        }));
        if self.newest.is_none_or(|newest| time > newest) {
            self.newest = Some(time);
            self.arrived = Some(Instant::now());
        }
        let mut fired = Vec::new();
        while self.pending.len() > self.config.max_buffered {
            if let Some(Reverse(oldest)) = self.pending.pop() {
                self.forced += 1;
                self.feed(oldest, &mut fired);
            }
        }
        if let Some(newest) = self.newest {
            self.raise(newest.checked_sub_signed(self.config.lateness), &mut fired);
        }
        fired.iter().map(CorrelationAlert::to_alert).collect()
    }

    /// Moves the watermark to `time` (when later): matches up to it are fed, windows
    /// that ended before it fire or expire. Nothing older than `time` is accepted
    /// afterwards.
    pub fn advance_to(&mut self, time: DateTime<Utc>) -> Vec<Alert> {
        let mut fired = Vec::new();
        self.raise(Some(time), &mut fired);
        fired.iter().map(CorrelationAlert::to_alert).collect()
    }

    /// The idle flush: event time is taken to go on at the pace of the clock while no
    /// newer event arrives, so the watermark becomes the newest event time plus the
    /// time elapsed since it arrived, minus the lateness. A quiet stream thus still
    /// fires its tumbling windows, one lateness after their end, whatever the sources'
    /// clocks say (replayed old logs included). Call it every second or so.
    pub fn tick(&mut self, now: Instant) -> Vec<Alert> {
        let (Some(newest), Some(arrived)) = (self.newest, self.arrived) else {
            return Vec::new();
        };
        let idle =
            TimeDelta::from_std(now.saturating_duration_since(arrived)).unwrap_or(TimeDelta::MAX);
        let target = newest
            .checked_add_signed(idle)
            .and_then(|t| t.checked_sub_signed(self.config.lateness));
        let mut fired = Vec::new();
        self.raise(target, &mut fired);
        fired.iter().map(CorrelationAlert::to_alert).collect()
    }

    /// End of stream: feeds every waiting match and closes every window.
    pub fn finish(&mut self) -> Vec<Alert> {
        let mut fired = Vec::new();
        while let Some(Reverse(pending)) = self.pending.pop() {
            self.feed(pending, &mut fired);
        }
        fired.extend(self.engine.finish());
        fired.iter().map(CorrelationAlert::to_alert).collect()
    }

    /// Matches that arrived older than the watermark and were not fed.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Matches fed before the watermark reached them because the buffer was full.
    pub fn forced(&self) -> u64 {
        self.forced
    }

    /// Matches without an event time (they cannot take part).
    pub fn untimed(&self) -> u64 {
        self.untimed
    }

    /// Matches waiting for the watermark.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// The current watermark, once an event has been seen.
    pub fn watermark(&self) -> Option<DateTime<Utc>> {
        self.watermark
    }

    /// Groups holding window state, over all correlations.
    pub fn open_groups(&self) -> usize {
        self.engine.open_groups()
    }

    /// The time before which a match is late: the watermark, or the newest match fed
    /// when the full buffer fed one early.
    fn floor(&self) -> Option<DateTime<Utc>> {
        match (self.watermark, self.fed) {
            (Some(w), Some(f)) => Some(w.max(f)),
            (w, f) => w.or(f),
        }
    }

    /// Raises the watermark to `target` (when later), feeds what it passed and sweeps
    /// the windows once it moved a [`SWEEP_STEP`] since the last sweep.
    fn raise(&mut self, target: Option<DateTime<Utc>>, fired: &mut Vec<CorrelationAlert>) {
        let Some(target) = target else {
            return;
        };
        if self.watermark.is_some_and(|w| w >= target) {
            return;
        }
        self.watermark = Some(target);
        while self
            .pending
            .peek()
            .is_some_and(|Reverse(oldest)| oldest.time <= target)
        {
            if let Some(Reverse(pending)) = self.pending.pop() {
                self.feed(pending, fired);
            }
        }
        if self.swept.is_none_or(|swept| target - swept >= SWEEP_STEP) {
            self.swept = Some(target);
            fired.extend(self.engine.advance(target));
        }
    }

    fn feed(&mut self, pending: Pending, fired: &mut Vec<CorrelationAlert>) {
        if self.fed.is_none_or(|fed| pending.time > fed) {
            self.fed = Some(pending.time);
        }
        fired.extend(
            self.engine
                .observe(&pending.rule_id, pending.time, &pending.fields),
        );
    }
}
