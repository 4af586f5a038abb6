//! [`Enricher`]: alert + knowledge graph → [`EnrichedAlert`], with per-technique context
//! computed once and shared.

use crate::context::{resolve, ResolvedTag, TacticRef, TechniqueContext};
use crate::pyramid::{Pyramid, PyramidClassifier};
use chrono::{DateTime, Utc};
use rampart_event::{Alert, AlertIntel, ContextField, EventMeta, Level, MatchedField};
use rampart_intel::attribution::{Attribution, Attributor, Joined};
use rampart_intel::IntelContext;
use rampart_knowledge::{Domain, Kind, Knowledge, Matrix};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The framework name ECS puts in `threat.framework`.
pub const FRAMEWORK: &str = "MITRE ATT&CK";

/// ECS-style `threat.*` fields, so Elastic users find ATT&CK where they expect it.
/// Lists are parallel arrays, as in ECS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Threat {
    /// Always [`FRAMEWORK`].
    pub framework: String,
    /// Parent-level techniques (`T1003`).
    pub technique: EcsTechnique,
    /// Tactics, in matrix order.
    pub tactic: EcsRefs,
    /// ECS `threat.group`: the ATT&CK groups an IoC alert's intelligence is attributed
    /// to (absent for rule alerts).
    #[serde(default, skip_serializing_if = "EcsRefs::is_empty")]
    pub group: EcsRefs,
    /// ECS `threat.software`: the ATT&CK software (malware, tools) an IoC alert's
    /// intelligence names (absent for rule alerts).
    #[serde(default, skip_serializing_if = "EcsRefs::is_empty")]
    pub software: EcsRefs,
    /// ECS `threat.enrichments[]`: for an IoC alert, one per observable of its
    /// indicator, in the indicator-match shape (absent for rule alerts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enrichments: Vec<EcsEnrichment>,
}

/// One ECS `threat.enrichments` entry: the indicator and what of the event it matched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EcsEnrichment {
    /// ECS `threat.enrichments.indicator`.
    pub indicator: EcsIndicator,
    /// ECS `threat.enrichments.matched`.
    pub matched: EcsMatched,
}

/// The part of ECS `threat.indicator` an IoC alert knows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EcsIndicator {
    /// ECS indicator type (`file`, `ipv4-addr`, `domain-name`, `url`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The feed (`stix:…`, `misp:…`).
    pub provider: String,
    /// `None`, `Low`, `Medium` or `High`, from the 0–100 confidence on STIX's scale
    /// (0; 1–29; 30–69; 70–100); absent when the feed gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
}

/// ECS `threat.enrichments.matched`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EcsMatched {
    /// The event's value that matched.
    pub atomic: String,
    /// The event field it was in (Sigma name).
    pub field: String,
    /// The indicator's id.
    pub id: String,
    /// Always `indicator_match_rule`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl EcsEnrichment {
    /// One entry per observable of an IoC alert's indicator.
    fn of(alert: &Alert, intel: &AlertIntel) -> Vec<EcsEnrichment> {
        let confidence = intel.confidence.map(|c| {
            match c {
                0 => "None",
                1..=29 => "Low",
                30..=69 => "Medium",
                _ => "High",
            }
            .to_string()
        });
        intel
            .observables
            .iter()
            .map(|observable| {
                let atomic = alert
                    .matched
                    .iter()
                    .find(|m| m.field == observable.field)
                    .map_or(&observable.value, |m| &m.value);
                EcsEnrichment {
                    indicator: EcsIndicator {
                        kind: ecs_indicator_type(&observable.kind, &observable.value).into(),
                        provider: intel.source.clone(),
                        confidence: confidence.clone(),
                    },
                    matched: EcsMatched {
                        atomic: atomic.clone(),
                        field: observable.field.clone(),
                        id: intel.indicator_id.clone(),
                        kind: "indicator_match_rule".into(),
                    },
                }
            })
            .collect()
    }
}

/// The ECS indicator type of an observable kind (as the intelligence crate names it).
fn ecs_indicator_type(kind: &str, value: &str) -> &'static str {
    match kind {
        "ip" if value.contains(':') => "ipv6-addr",
        "ip" => "ipv4-addr",
        "domain" => "domain-name",
        "url" => "url",
        "email" => "email-addr",
        "registry-key" => "windows-registry-key",
        "command-line" => "process",
        _ => "file",
    }
}

/// ECS `threat.technique`: the parent techniques, with sub-techniques nested.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EcsTechnique {
    /// Ids.
    pub id: Vec<String>,
    /// Names.
    pub name: Vec<String>,
    /// Web pages.
    pub reference: Vec<String>,
    /// Sub-techniques (`T1003.001`).
    pub subtechnique: EcsRefs,
}

/// Parallel id / name / reference arrays.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EcsRefs {
    /// Ids.
    pub id: Vec<String>,
    /// Names.
    pub name: Vec<String>,
    /// Web pages.
    pub reference: Vec<String>,
}

impl EcsRefs {
    /// Whether no object is listed.
    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    fn push(&mut self, id: &str, name: &str, url: Option<&str>) {
        if self.id.iter().any(|known| known == id) {
            return;
        }
        self.id.push(id.to_string());
        self.name.push(name.to_string());
        self.reference.push(url.unwrap_or_default().to_string());
    }
}

/// The rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleView {
    /// Rule id.
    pub id: String,
    /// Title.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Tags as written.
    pub tags: Vec<String>,
}

/// What enrichment adds beyond ECS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// Context of every technique the rule's tags resolved to.
    pub techniques: Vec<Arc<TechniqueContext>>,
    /// Every technique tag with its resolution (active, deprecated, revoked, unknown).
    pub tags: Vec<ResolvedTag>,
    /// Pyramid-of-pain level of what matched.
    pub pyramid: Pyramid,
    /// For an IoC alert whose intelligence names actors, malware or ATT&CK ids: what
    /// they join to in ATT&CK (groups, software, the named techniques at their current
    /// ids, the groups' own techniques, and the names that matched nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Arc<Attribution>>,
}

/// One enriched alert: the native JSON-lines record (schema in the crate docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrichedAlert {
    /// The alert's stable id (the store's id; OCSF `finding_info.uid`).
    #[serde(default)]
    pub id: String,
    /// Event time.
    #[serde(rename = "@timestamp")]
    pub timestamp: Option<DateTime<Utc>>,
    /// The rule.
    pub rule: RuleView,
    /// The event header (source, computer, channel, provider, event id, record id).
    pub event: EventMeta,
    /// Matched fields and values.
    pub matched: Vec<MatchedField>,
    /// Context fields of the event (user, process, parent, …), values capped.
    #[serde(default)]
    pub context: Vec<ContextField>,
    /// ECS `threat.*`.
    pub threat: Threat,
    /// ATT&CK, D3FEND and ENGAGE context.
    pub enrichment: Enrichment,
    /// For an IoC alert: the indicator, its feed and what it indicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intel: Option<Box<AlertIntel>>,
}

/// A tag's resolution with the shared context, as cached.
type Cached = (ResolvedTag, Option<Arc<TechniqueContext>>);

/// Distinct intelligence contexts whose attribution is kept; past this the memo
/// starts again, so a feed of endlessly varied contexts cannot grow it without bound.
const MAX_ATTRIBUTIONS: usize = 4096;

/// Enriches alerts from one knowledge graph. Cheap to share between threads; the
/// per-technique cache fills as techniques are met.
pub struct Enricher<'k> {
    knowledge: &'k Knowledge,
    pyramid: PyramidClassifier,
    cache: Mutex<HashMap<String, Cached>>,
    /// Built at the first IoC alert: rule alerts never pay for its name index.
    attributor: OnceLock<Attributor<'k>>,
    /// Attribution per intelligence context (actors, malware, ATT&CK ids): a feed's
    /// indicators mostly share a few contexts, so each is joined once.
    attributions: Mutex<HashMap<String, Option<Arc<Attribution>>>>,
}

impl<'k> Enricher<'k> {
    /// An enricher over `knowledge`; ATT&CK software names (tools and malware) and their
    /// aliases become the pyramid's tool list.
    pub fn new(knowledge: &'k Knowledge) -> Self {
        let matrix = knowledge.enterprise();
        let tools = matrix
            .software
            .iter()
            .flat_map(|s| std::iter::once(s.meta.name.clone()).chain(s.aliases.iter().cloned()));
        Enricher {
            knowledge,
            pyramid: PyramidClassifier::new(tools),
            cache: Mutex::new(HashMap::new()),
            attributor: OnceLock::new(),
            attributions: Mutex::new(HashMap::new()),
        }
    }

    /// What ATT&CK knows of the actors, malware and ATT&CK ids an IoC alert's
    /// intelligence names (memoised per context); `None` when it names none.
    pub fn attribution(&self, intel: &AlertIntel) -> Option<Arc<Attribution>> {
        if intel.actors.is_empty() && intel.malware.is_empty() && intel.attack_ids.is_empty() {
            return None;
        }
        // The lists as Rust writes them (quoted, escaped): two contexts share a key
        // only when they are the same, whatever characters a feed puts in names.
        let key = format!("{:?}", (&intel.actors, &intel.malware, &intel.attack_ids));
        if let Ok(memo) = self.attributions.lock() {
            if let Some(found) = memo.get(&key) {
                return found.clone();
            }
        }
        let attributor = self
            .attributor
            .get_or_init(|| Attributor::new(self.knowledge));
        let context = IntelContext {
            actors: intel.actors.clone(),
            malware: intel.malware.clone(),
            attack_ids: intel.attack_ids.clone(),
            reports: Vec::new(),
        };
        let attribution = attributor.context(&context);
        let found = (!attribution.is_empty()).then(|| Arc::new(attribution));
        if let Ok(mut memo) = self.attributions.lock() {
            if memo.len() >= MAX_ATTRIBUTIONS {
                memo.clear();
            }
            memo.insert(key, found.clone());
        }
        found
    }

    /// The knowledge graph.
    pub fn knowledge(&self) -> &Knowledge {
        self.knowledge
    }

    /// Resolves a technique id (cached): its tag status and shared context.
    pub fn technique(&self, id: &str) -> (ResolvedTag, Option<Arc<TechniqueContext>>) {
        let key = id.trim().to_ascii_uppercase();
        if let Ok(cache) = self.cache.lock() {
            if let Some(hit) = cache.get(&key) {
                return hit.clone();
            }
        }
        let (tag, context) = resolve(self.knowledge, &key);
        let entry = (tag, context.map(Arc::new));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, entry.clone());
        }
        entry
    }

    /// Number of distinct technique ids resolved so far.
    pub fn cached_techniques(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Enriches one alert.
    pub fn enrich(&self, alert: &Alert) -> EnrichedAlert {
        let mut techniques: Vec<Arc<TechniqueContext>> = Vec::new();
        let mut tags = Vec::new();
        let mut add = |context: Option<Arc<TechniqueContext>>| {
            if let Some(context) = context {
                if !techniques
                    .iter()
                    .any(|c| c.technique.id == context.technique.id)
                {
                    techniques.push(context);
                }
            }
        };
        for id in &alert.techniques {
            let (tag, context) = self.technique(id);
            tags.push(tag);
            add(context);
        }
        let attribution = alert.intel.as_deref().and_then(|i| self.attribution(i));
        // The techniques the intelligence names, at their current ids, are what the
        // alert is about (as a rule's tags are); the groups' other techniques are
        // only what such an actor does, listed in the attribution and nowhere else.
        if let Some(attribution) = &attribution {
            for joined in &attribution.techniques {
                add(self.technique(&joined.id).1);
            }
        }
        // An IoC hit is as brittle as the kind of value it matched, whatever field
        // the value was found in (a domain inside a command line is still a domain).
        let pyramid = match &alert.intel {
            Some(intel) => crate::pyramid::of_observables(
                intel
                    .observables
                    .iter()
                    .map(|o| (o.field.as_str(), o.kind.as_str())),
            ),
            None => self.pyramid.classify(
                alert
                    .matched
                    .iter()
                    .map(|m| (m.field.as_str(), m.value.as_str())),
            ),
        };
        EnrichedAlert {
            id: alert.stable_id(),
            timestamp: alert.event.timestamp,
            rule: RuleView {
                id: alert.rule_id.clone(),
                name: alert.rule_title.clone(),
                level: alert.level,
                status: alert.status.clone(),
                tags: alert.tags.clone(),
            },
            event: alert.event.clone(),
            matched: alert.matched.clone(),
            context: alert.context.clone(),
            threat: self.threat(alert, &techniques, attribution.as_deref()),
            enrichment: Enrichment {
                techniques,
                tags,
                pyramid,
                attribution,
            },
            intel: alert.intel.clone(),
        }
    }

    /// ECS `threat.*`: techniques from the resolved contexts; tactics from the rule's
    /// tactic tags when it has any (the rule author's claim), else the techniques';
    /// groups and software from an IoC alert's attribution.
    fn threat(
        &self,
        alert: &Alert,
        techniques: &[Arc<TechniqueContext>],
        attribution: Option<&Attribution>,
    ) -> Threat {
        let mut threat = Threat {
            framework: FRAMEWORK.to_string(),
            ..Threat::default()
        };
        for context in techniques {
            let t = &context.technique;
            match &context.parent {
                Some(parent) => {
                    push_technique(&mut threat.technique, parent);
                    threat
                        .technique
                        .subtechnique
                        .push(&t.id, &t.name, t.url.as_deref());
                }
                None => push_technique(&mut threat.technique, t),
            }
        }
        let mut tactics: Vec<TacticRef> = Vec::new();
        let matrix = self.knowledge.enterprise();
        for shortname in &alert.tactics {
            if let Some(tactic) = matrix.tactics.iter().find(|t| &t.shortname == shortname) {
                tactics.push(TacticRef {
                    id: tactic.meta.attack_id.clone(),
                    shortname: shortname.clone(),
                    name: tactic.meta.name.clone(),
                    url: tactic.meta.url.clone(),
                });
            }
        }
        if tactics.is_empty() {
            tactics = techniques
                .iter()
                .flat_map(|c| c.tactics.iter().cloned())
                .collect();
        }
        tactics.sort_by_key(|t| matrix.tactic_order(&t.shortname).unwrap_or(usize::MAX));
        for tactic in &tactics {
            threat
                .tactic
                .push(&tactic.id, &tactic.name, tactic.url.as_deref());
        }
        if let Some(intel) = &alert.intel {
            threat.enrichments = EcsEnrichment::of(alert, intel);
        }
        if let Some(attribution) = attribution {
            push_joined(&mut threat.group, matrix, Kind::Group, &attribution.groups);
            push_joined(
                &mut threat.software,
                matrix,
                Kind::Software,
                &attribution.software,
            );
        }
        threat
    }

    /// The ATT&CK version of the Enterprise matrix (for OCSF `attacks[].version`).
    pub fn attack_version(&self) -> String {
        self.knowledge
            .matrix(Domain::Enterprise)
            .map(|m| m.version.clone())
            .unwrap_or_default()
    }
}

/// Joined ATT&CK objects into ECS id / name / reference arrays (the reference is the
/// object's ATT&CK page).
fn push_joined(ecs: &mut EcsRefs, matrix: &Matrix, kind: Kind, joined: &[Joined]) {
    for object in joined {
        let url = matrix
            .by_attack_id(&object.id)
            .into_iter()
            .filter(|node| node.kind == kind)
            .find_map(|node| matrix.meta(node).and_then(|m| m.url.as_deref()));
        ecs.push(&object.id, &object.name, url);
    }
}

fn push_technique(ecs: &mut EcsTechnique, technique: &crate::context::Ref) {
    if ecs.id.iter().any(|known| known == &technique.id) {
        return;
    }
    ecs.id.push(technique.id.clone());
    ecs.name.push(technique.name.clone());
    ecs.reference
        .push(technique.url.clone().unwrap_or_default());
}
