//! Whether a playbook's trigger holds for an alert or an incident.
//!
//! Pure functions over the types every stage speaks (`event::Alert`,
//! `correlate::Incident`): the service calls them on each new alert and each created or
//! grown incident, `hunt --respond` on a batch. Every criterion given must hold; a list
//! holds when any entry does; an empty list or absent bound is no criterion.

use rampart_correlate::Incident;
use rampart_enrich::{Pyramid, PyramidClassifier};
use rampart_event::{Alert, Level};

use super::{Subject, Trigger};

/// Shell-style glob: `*` any run of characters, `?` one character, the rest compared
/// without case. Linear in practice (one backtrack point), so a hostile host name
/// cannot make it slow.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Whether an observed technique id answers a trigger's: the same id, or a
/// sub-technique of it (`T1003.001` answers `T1003`), without case.
pub fn technique_answers(trigger: &str, observed: &str) -> bool {
    let trigger = trigger.trim();
    let observed = observed.trim();
    observed.eq_ignore_ascii_case(trigger)
        || (observed.len() > trigger.len()
            && observed.as_bytes()[trigger.len()] == b'.'
            && observed[..trigger.len()].eq_ignore_ascii_case(trigger))
}

/// The pyramid-of-pain level of an alert, as the enricher decides it: an IoC hit by the
/// kinds of the values it matched, a rule alert by its matched fields.
pub fn alert_pyramid(alert: &Alert, classifier: &PyramidClassifier) -> Pyramid {
    match &alert.intel {
        Some(intel) => rampart_enrich::pyramid::of_observables(
            intel
                .observables
                .iter()
                .map(|o| (o.field.as_str(), o.kind.as_str())),
        ),
        None => classifier.classify(
            alert
                .matched
                .iter()
                .map(|m| (m.field.as_str(), m.value.as_str())),
        ),
    }
}

impl Trigger {
    /// Whether the trigger holds for a new alert (`on: alert` only; `min_score` never
    /// holds for an alert, which has no score).
    pub fn matches_alert(&self, alert: &Alert, pyramid: &PyramidClassifier) -> bool {
        self.on == Subject::Alert
            && self.min_score.is_none()
            && self.level_holds(alert.level)
            && self.techniques_hold(alert.techniques.iter())
            && self.tactics_hold(alert.tactics.iter())
            && self.rules_hold(std::iter::once(&alert.rule_id))
            && self.hosts_hold(alert.event.computer.as_deref())
            && self.pyramid_holds(std::slice::from_ref(alert), pyramid)
    }

    /// Whether the trigger holds for an incident (`on: incident` only). `alerts` are the
    /// incident's alerts as stored; the pyramid criterion looks at them (any alert at
    /// one of the levels), the rest at the incident's figures and timeline.
    pub fn matches_incident(
        &self,
        incident: &Incident,
        alerts: &[Alert],
        pyramid: &PyramidClassifier,
    ) -> bool {
        self.on == Subject::Incident
            && self.level_holds(incident.max_level)
            && self.min_score.is_none_or(|min| incident.score >= min)
            && self.techniques_hold(incident.techniques.iter())
            && self.tactics_hold(incident.tactics.iter())
            && self.rules_hold(
                incident
                    .timeline
                    .iter()
                    .map(|entry| &entry.rule_id)
                    .chain(alerts.iter().map(|alert| &alert.rule_id)),
            )
            && self.hosts_hold(Some(incident.host.as_str()).filter(|h| *h != "-"))
            && self.pyramid_holds(alerts, pyramid)
    }

    fn level_holds(&self, level: Level) -> bool {
        match &self.min_level {
            None => true,
            // The schema allows only level names; an unknown one never holds.
            Some(min) => min.parse::<Level>().is_ok_and(|min| level >= min),
        }
    }

    fn techniques_hold<'a>(&self, mut observed: impl Iterator<Item = &'a String>) -> bool {
        self.techniques.is_empty()
            || observed.any(|o| self.techniques.iter().any(|t| technique_answers(t, o)))
    }

    fn tactics_hold<'a>(&self, mut observed: impl Iterator<Item = &'a String>) -> bool {
        self.tactics.is_empty()
            || observed.any(|o| {
                self.tactics
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(o.trim()))
            })
    }

    fn rules_hold<'a>(&self, mut observed: impl Iterator<Item = &'a String>) -> bool {
        self.rules.is_empty() || observed.any(|o| self.rules.iter().any(|r| r.trim() == o))
    }

    fn hosts_hold(&self, host: Option<&str>) -> bool {
        self.hosts.is_empty()
            || host.is_some_and(|host| self.hosts.iter().any(|g| glob_matches(g, host)))
    }

    fn pyramid_holds(&self, alerts: &[Alert], classifier: &PyramidClassifier) -> bool {
        if self.pyramid.is_empty() {
            return true;
        }
        alerts.iter().any(|alert| {
            let level = alert_pyramid(alert, classifier).level;
            let name = serde_json::to_value(level).ok();
            self.pyramid
                .iter()
                .any(|wanted| name.as_ref().and_then(|n| n.as_str()) == Some(wanted.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_without_case_and_backtrack() {
        assert!(glob_matches("WS-*", "ws-0042"));
        assert!(glob_matches("*.corp.local", "DC01.CORP.LOCAL"));
        assert!(glob_matches("dc0?", "DC01"));
        assert!(glob_matches("*a*b*c", "xxaxxbxxbc"));
        assert!(!glob_matches("dc0?", "DC010"));
        assert!(!glob_matches("WS-*", "SRV-1"));
        assert!(glob_matches("*", ""));
        // A hostile text against many stars stays fast (one backtrack point).
        let long = "a".repeat(20_000);
        assert!(!glob_matches("*a*a*a*a*a*b", &long));
    }

    #[test]
    fn sub_techniques_answer_their_parent_only() {
        assert!(technique_answers("T1003", "T1003.001"));
        assert!(technique_answers("t1003", "T1003"));
        assert!(!technique_answers("T1003.001", "T1003"));
        assert!(!technique_answers("T100", "T1003"));
        assert!(!technique_answers("T1003", "T10030"));
    }
}
