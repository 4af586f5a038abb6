//! The closing summary of `rampart hunt`, printed on stderr.

use rampart_event::terminal::Escaped;
use rampart_event::{Alert, Level};
use std::collections::BTreeMap;
use std::time::Duration;

/// Alert counts, merged batch by batch.
#[derive(Debug, Default)]
pub struct Tally {
    /// Alerts by level.
    pub by_level: BTreeMap<Level, u64>,
    /// Alerts by ATT&CK tactic (an alert with several tactics counts in each).
    pub by_tactic: BTreeMap<String, u64>,
    /// IoC alerts (threat-intelligence hits).
    pub ioc: u64,
}

impl Tally {
    /// Counts one alert.
    pub fn add(&mut self, alert: &Alert) {
        *self.by_level.entry(alert.level).or_default() += 1;
        if alert.intel.is_some() {
            self.ioc += 1;
        }
        for tactic in &alert.tactics {
            *self.by_tactic.entry(tactic.clone()).or_default() += 1;
        }
    }

    /// Adds another tally's counts.
    pub fn merge(&mut self, other: Tally) {
        self.ioc += other.ioc;
        for (level, count) in other.by_level {
            *self.by_level.entry(level).or_default() += count;
        }
        for (tactic, count) in other.by_tactic {
            *self.by_tactic.entry(tactic).or_default() += count;
        }
    }
}

/// Everything the summary reports.
#[derive(Debug, Default)]
pub struct Summary {
    /// Inputs found.
    pub files: usize,
    /// Inputs passed over or that could not be read at all.
    pub unreadable: usize,
    /// Records (lines, documents, EVTX records) that could not be read.
    pub records_skipped: u64,
    /// Events read.
    pub events: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Problems found inside inputs.
    pub input_problems: u64,
    /// Rules that loaded and compiled.
    pub rules: usize,
    /// Rule documents that failed to load.
    pub rules_failed: usize,
    /// Rules the compiler rejected.
    pub rules_rejected: usize,
    /// Rules left out by `--min-level`.
    pub rules_below_level: usize,
    /// Time to load and compile the rules.
    pub rules_time: Duration,
    /// Indicators matched beside the rules (`--intel`), if any.
    pub intel: Option<IntelSummary>,
    /// Time to read and scan the inputs.
    pub scan_time: Duration,
    /// Alerts written.
    pub alerts: u64,
    /// Alerts by level and tactic.
    pub tally: Tally,
    /// What the rules' ATT&CK tags do not match in the loaded release, if anything.
    pub version_skew: Option<String>,
    /// Matches that Sigma filters suppressed, per (rule, filter) (see
    /// `rampart_detect::Engine::suppressed`); only the pairs that suppressed something.
    pub suppressed: Vec<rampart_detect::SuppressedCount>,
}

/// What `--intel` loaded.
#[derive(Debug, Default)]
pub struct IntelSummary {
    /// Indicators read.
    pub read: u64,
    /// Indicators matched.
    pub loaded: usize,
    /// Indicators left out, by reason.
    pub left_out: Vec<(&'static str, usize)>,
    /// Records that could not be read.
    pub unreadable: u64,
    /// Time to read them and build the matcher.
    pub elapsed: Duration,
}

impl IntelSummary {
    /// The summary of one load.
    pub fn of(load: &rampart_pipeline::IntelLoad) -> Self {
        let stats = load.stats();
        let left_out = [
            ("not for detection", stats.not_for_detection),
            ("expired", stats.expired),
            ("not yet valid", stats.not_yet_valid),
            ("allow-listed", stats.allow_listed),
            ("unusable", stats.unusable),
            ("over the matcher's limits", stats.over_limit),
        ]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .collect();
        IntelSummary {
            read: load.read,
            loaded: stats.loaded,
            left_out,
            unreadable: load.problems.len() as u64,
            elapsed: load.elapsed,
        }
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Summary {
    /// Prints the summary on stderr.
    pub fn print(&self) {
        let seconds = self.scan_time.as_secs_f64();
        let rate = if seconds > 0.0 {
            self.events as f64 / seconds
        } else {
            0.0
        };
        eprintln!(
            "hunt: {} files, {} events, {:.1} MB in {:.2} s ({} events/s)",
            thousands(self.files as u64),
            thousands(self.events),
            self.bytes as f64 / 1e6,
            seconds,
            thousands(rate as u64)
        );
        let mut rules = format!(
            "rules: {} loaded and compiled in {} ms",
            thousands(self.rules as u64),
            self.rules_time.as_millis()
        );
        if self.rules_below_level > 0 {
            rules.push_str(&format!(", {} below --min-level", self.rules_below_level));
        }
        if self.rules_failed + self.rules_rejected > 0 {
            rules.push_str(&format!(
                ", {} failed to load and {} rejected (run `rampart sigma check` for the reasons)",
                self.rules_failed, self.rules_rejected
            ));
        }
        eprintln!("{rules}");
        if let Some(intel) = &self.intel {
            let mut line = format!(
                "intel: {} indicators loaded of {} read in {} ms, {} IoC hits",
                thousands(intel.loaded as u64),
                thousands(intel.read),
                intel.elapsed.as_millis(),
                thousands(self.tally.ioc)
            );
            let left: Vec<String> = intel
                .left_out
                .iter()
                .map(|(why, count)| format!("{} {why}", thousands(*count as u64)))
                .collect();
            if !left.is_empty() {
                line.push_str(&format!("; left out: {}", left.join(", ")));
            }
            if intel.unreadable > 0 {
                line.push_str(&format!("; {} records unreadable", intel.unreadable));
            }
            eprintln!("{line}");
        }
        if let Some(skew) = &self.version_skew {
            eprintln!("warning: {}", Escaped(skew));
        }
        let levels: Vec<String> = Level::ALL
            .iter()
            .rev()
            .filter_map(|level| {
                let count = self.tally.by_level.get(level)?;
                Some(format!("{level} {}", thousands(*count)))
            })
            .collect();
        eprintln!(
            "alerts: {}{}",
            thousands(self.alerts),
            if levels.is_empty() {
                String::new()
            } else {
                format!(" ({})", levels.join(", "))
            }
        );
        let suppressed: u64 = self.suppressed.iter().map(|s| s.count).sum();
        if suppressed > 0 {
            let mut pairs: Vec<&rampart_detect::SuppressedCount> = self.suppressed.iter().collect();
            pairs.sort_by_key(|s| std::cmp::Reverse(s.count));
            let text: Vec<String> = pairs
                .iter()
                .take(5)
                .map(|s| {
                    format!(
                        "{} by {} {}",
                        Escaped(&s.rule),
                        Escaped(s.filter_id.as_deref().unwrap_or(&s.filter_title)),
                        thousands(s.count)
                    )
                })
                .collect();
            let more = if pairs.len() > 5 { ", …" } else { "" };
            eprintln!(
                "suppressed by filters: {} matches ({}{more})",
                thousands(suppressed),
                text.join(", ")
            );
        }
        if !self.tally.by_tactic.is_empty() {
            let mut tactics: Vec<(&String, &u64)> = self.tally.by_tactic.iter().collect();
            tactics.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let text: Vec<String> = tactics
                .iter()
                .map(|(tactic, count)| format!("{} {}", Escaped(tactic), thousands(**count)))
                .collect();
            eprintln!("by tactic: {}", text.join(", "));
        }
        if self.input_problems + self.unreadable as u64 > 0 {
            eprintln!(
                "input problems: {} inside inputs ({} records skipped), {} inputs skipped \
                 (listed above)",
                self.input_problems, self.records_skipped, self.unreadable
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
