//! Matching indicators against events: one structure per observable kind, built once,
//! run on every event in the same pass as the Sigma rules.
//!
//! - Hashes, e-mail addresses, file names, registry keys, command lines and URLs: one
//!   hash table per kind, the value's matching form ([`keys`]) → the observables that
//!   have it.
//! - Domains: one hash table; an event's host name is looked up as itself and as each
//!   parent (`a.b.evil.com`, `b.evil.com`, `evil.com`, `com`), so an indicator matches
//!   its subdomains and never `notevil.com`.
//! - Host names and URLs inside free text (command lines, script blocks, URLs): the
//!   text is cut into host-shaped tokens (runs of letters, digits, `-`, `_`, `.`) and
//!   each token walks the domain table as above; URL-shaped substrings (`scheme://…`)
//!   are looked up whole. Token edges are label boundaries, which is what an
//!   Aho-Corasick automaton over every domain would need checks for, and the walk costs
//!   no memory beyond the table: an automaton over 200,000 domains costs about as much
//!   as the rest of the matcher.
//! - IP addresses and CIDR networks: one table per prefix length present (IPv4 and
//!   IPv6 apart); an address is masked to each length and looked up.
//!
//! Only indicators meant for detection and valid at the build time are kept. The
//! allow-list always wins: an indicator whose value it covers is left out, and an
//! event value it covers never matches (an allowed domain shields its subdomains and
//! the URLs and e-mail addresses on them; an allowed network its addresses). An
//! indicator with several observables (`all_of`) matches only when every one of them
//! is found in the same event.
//!
//! Memory: every string (values, ids, names) is stored once in one arena; tables hold
//! 12-byte slots; feed, labels and context are shared by every indicator that has the
//! same ones. No indicator costs an automaton or a rule of its own.

mod alert;
mod fields;
mod ip;
mod keys;
mod table;

pub use alert::{level_for_confidence, IOC_RULE_PREFIX};

use crate::model::{Indicator, IntelContext, Observable, ObservableKind};
use chrono::{DateTime, Utc};
use fields::Roles;
use hashbrown::{DefaultHashBuilder, HashTable};
use ip::{IpSet, IpTable};
use keys::Net;
use rampart_event::{Event, Value};
use std::hash::BuildHasher;
use std::sync::Arc;
use table::{Arena, Postings, Span, StringSet, ValueTable};

const KINDS: usize = ObservableKind::ALL.len();

fn slot(kind: ObservableKind) -> usize {
    kind as usize
}

/// What the feed says about an indicator besides its values, shared by every
/// indicator that says the same.
#[derive(Debug, PartialEq)]
struct Shared {
    source: String,
    labels: Vec<String>,
    context: IntelContext,
}

/// The hash of a shared part, from borrowed fields.
fn shared_hash(
    hasher: &DefaultHashBuilder,
    source: &str,
    labels: &[String],
    context: &IntelContext,
) -> u64 {
    let IntelContext {
        actors,
        malware,
        attack_ids,
        reports,
    } = context;
    hasher.hash_one((source, labels, actors, malware, attack_ids, reports))
}

/// One indicator as the matcher keeps it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: Span,
    name: Option<Span>,
    shared: u32,
    confidence: Option<u8>,
    first_observable: u32,
    observables: u8,
}

/// One observable of one indicator.
#[derive(Debug, Clone, Copy)]
struct ObservableEntry {
    indicator: u32,
    kind: ObservableKind,
    value: Span,
}

/// The most observables one indicator may have (a STIX `AND` chain); longer ones are
/// left out and counted.
pub const MAX_OBSERVABLES: usize = 32;

/// Why indicators given to the matcher were left out, and how many were kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Indicators kept: they match.
    pub loaded: usize,
    /// Left out: not meant for detection (MISP `to_ids` false).
    pub not_for_detection: usize,
    /// Left out: `valid_until` passed.
    pub expired: usize,
    /// Left out: `valid_from` still to come.
    pub not_yet_valid: usize,
    /// Left out: the allow-list covers one of their values.
    pub allow_listed: usize,
    /// Left out: a value that is not valid for its kind, no observable, or more than
    /// [`MAX_OBSERVABLES`].
    pub unusable: usize,
    /// Left out: the matcher's limits (4 GiB of text, 2^31 observables) reached.
    pub over_limit: usize,
}

/// What the matcher reads of an indicator, borrowed (see [`MatcherBuilder::add_core`]).
#[derive(Debug, Clone, Copy)]
pub struct IndicatorCore<'a> {
    /// [`Indicator::id`].
    pub id: &'a str,
    /// [`Indicator::name`].
    pub name: Option<&'a str>,
    /// [`Indicator::confidence`].
    pub confidence: Option<u8>,
    /// [`Indicator::detect`].
    pub detect: bool,
    /// [`Indicator::valid_from`].
    pub valid_from: Option<DateTime<Utc>>,
    /// [`Indicator::valid_until`].
    pub valid_until: Option<DateTime<Utc>>,
    /// [`Indicator::all_of`].
    pub all_of: &'a [Observable],
}

/// A shared part registered with [`MatcherBuilder::add_context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextId(u32);

/// Builds a [`Matcher`] one indicator at a time, so a huge feed never has to be held
/// whole beside it.
pub struct MatcherBuilder {
    matcher: Matcher,
    now: DateTime<Utc>,
    shared_index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

/// Indicators ready to be matched against events: built once (see the module
/// documentation), shared between threads, never changed.
#[derive(Debug, Default)]
pub struct Matcher {
    arena: Arena,
    postings: Postings,
    tables: [ValueTable; KINDS],
    ips: IpTable,
    observables: Vec<ObservableEntry>,
    indicators: Vec<Entry>,
    shared: Vec<Arc<Shared>>,
    allow: Allow,
    stats: LoadStats,
    /// Field roles some table can answer: fields with none are passed over.
    wanted: Roles,
    /// The last label of every indicator domain (`com`, `uk`): a token of free text
    /// ending in any other (`exe`, `dll`, `ps1`, a .NET member) is no indicator's host
    /// or subdomain, and is passed over without a lookup.
    last_labels: StringSet,
}

/// The allow-list, per kind.
#[derive(Debug, Default)]
struct Allow {
    values: [StringSet; KINDS],
    ips: IpSet,
}

/// An observable value in its matching form.
enum Key {
    Text(String),
    Net(Net),
}

fn key(kind: ObservableKind, value: &str) -> Option<Key> {
    use ObservableKind as K;
    let text = match kind {
        K::Md5 | K::Imphash => keys::hash(value, 32),
        K::Sha1 => keys::hash(value, 40),
        K::Sha256 => keys::hash(value, 64),
        K::Sha512 => keys::hash(value, 128),
        K::Ip => return keys::network(value).map(Key::Net),
        K::Domain => keys::domain(value),
        K::Url => keys::url(value),
        K::Email => keys::email(value),
        K::FileName => keys::file_name(value),
        K::RegistryKey => keys::registry_key(value),
        K::CommandLine => keys::command_line(value),
    };
    text.map(Key::Text)
}

/// The field roles in which a kind is looked for.
fn roles_of(kind: ObservableKind) -> Roles {
    use ObservableKind as K;
    match kind {
        K::Md5 => Roles::HASHES.union(Roles::MD5),
        K::Sha1 => Roles::HASHES.union(Roles::SHA1),
        K::Sha256 => Roles::HASHES.union(Roles::SHA256),
        K::Sha512 => Roles::HASHES.union(Roles::SHA512),
        K::Imphash => Roles::HASHES.union(Roles::IMPHASH),
        K::Ip => Roles::IP,
        K::Domain => Roles::DOMAIN.union(Roles::URL).union(Roles::TEXT),
        K::Url => Roles::URL.union(Roles::TEXT),
        K::Email => Roles::EMAIL,
        K::FileName => Roles::FILE,
        K::RegistryKey => Roles::REGISTRY,
        K::CommandLine => Roles::COMMAND,
    }
}

impl MatcherBuilder {
    /// A builder keeping indicators valid at `now`, with `allow` winning over them.
    pub fn new(allow: &[Observable], now: DateTime<Utc>) -> Self {
        let mut matcher = Matcher::default();
        for observable in allow {
            match key(observable.kind, &observable.value) {
                Some(Key::Net(net)) => matcher.allow.ips.insert(net),
                Some(Key::Text(text)) => matcher.allow.values[slot(observable.kind)].insert(&text),
                None => {}
            }
        }
        MatcherBuilder {
            matcher,
            now,
            shared_index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Adds `indicator` when it is meant for detection, valid now, usable and not
    /// covered by the allow-list; counts it in [`LoadStats`] either way.
    pub fn add(&mut self, indicator: &Indicator) {
        let core = IndicatorCore {
            id: &indicator.id,
            name: indicator.name.as_deref(),
            confidence: indicator.confidence,
            detect: indicator.detect,
            valid_from: indicator.valid_from,
            valid_until: indicator.valid_until,
            all_of: &indicator.all_of,
        };
        let Some(keyed) = self.admit(&core) else {
            return;
        };
        let inserted = self
            .add_context(&indicator.source, &indicator.labels, &indicator.context)
            .and_then(|context| self.insert(&core, keyed, context.0));
        if inserted.is_none() {
            self.matcher.stats.over_limit += 1;
        }
    }

    /// Like [`MatcherBuilder::add`], for an indicator handed over in parts, its shared
    /// part registered before ([`MatcherBuilder::add_context`]): a store that keeps
    /// the shared parts apart decodes each once, not once per indicator.
    pub fn add_core(&mut self, core: &IndicatorCore<'_>, context: ContextId) {
        let Some(keyed) = self.admit(core) else {
            return;
        };
        if (context.0 as usize) >= self.matcher.shared.len()
            || self.insert(core, keyed, context.0).is_none()
        {
            self.matcher.stats.over_limit += 1;
        }
    }

    /// The time validity is judged at.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Counts an indicator the caller could not hand over because the matcher's limits
    /// were reached (its shared part could not be registered).
    pub fn count_over_limit(&mut self) {
        self.matcher.stats.over_limit += 1;
    }

    /// Registers the part indicators share (source, labels, what they indicate) and
    /// names it for [`MatcherBuilder::add_core`]; an equal part registered before is
    /// named again, not copied. `None` past the matcher's limits.
    pub fn add_context(
        &mut self,
        source: &str,
        labels: &[String],
        context: &IntelContext,
    ) -> Option<ContextId> {
        let hash = shared_hash(&self.hasher, source, labels, context);
        let all = &self.matcher.shared;
        if let Some(&index) = self.shared_index.find(hash, |&index| {
            let known = &all[index as usize];
            known.source == source && known.labels == labels && known.context == *context
        }) {
            return Some(ContextId(index));
        }
        let index = u32::try_from(all.len()).ok()?;
        self.matcher.shared.push(Arc::new(Shared {
            source: source.to_owned(),
            labels: labels.to_vec(),
            context: context.clone(),
        }));
        let all = &self.matcher.shared;
        let hasher = &self.hasher;
        self.shared_index.insert_unique(hash, index, |&i| {
            let known = &all[i as usize];
            shared_hash(hasher, &known.source, &known.labels, &known.context)
        });
        Some(ContextId(index))
    }

    /// The indicator's observables in matching form when it is to be kept, counting
    /// why when it is not.
    fn admit(&mut self, core: &IndicatorCore<'_>) -> Option<Vec<(ObservableKind, Key)>> {
        let stats = &mut self.matcher.stats;
        if !core.detect {
            stats.not_for_detection += 1;
            return None;
        }
        if core.valid_until.is_some_and(|until| until <= self.now) {
            stats.expired += 1;
            return None;
        }
        if core.valid_from.is_some_and(|from| from > self.now) {
            stats.not_yet_valid += 1;
            return None;
        }
        if core.all_of.is_empty() || core.all_of.len() > MAX_OBSERVABLES {
            stats.unusable += 1;
            return None;
        }
        let mut keyed = Vec::with_capacity(core.all_of.len());
        for observable in core.all_of {
            match key(observable.kind, &observable.value) {
                Some(key) => keyed.push((observable.kind, key)),
                None => {
                    stats.unusable += 1;
                    return None;
                }
            }
        }
        if keyed
            .iter()
            .any(|(kind, key)| self.matcher.allow.covers_indicator(*kind, key))
        {
            stats.allow_listed += 1;
            return None;
        }
        Some(keyed)
    }

    fn insert(
        &mut self,
        core: &IndicatorCore<'_>,
        keyed: Vec<(ObservableKind, Key)>,
        shared: u32,
    ) -> Option<()> {
        let index = u32::try_from(self.matcher.indicators.len()).ok()?;
        let first = u32::try_from(self.matcher.observables.len()).ok()?;
        if first.checked_add(keyed.len() as u32)? >= 1 << 31 {
            return None;
        }
        let m = &mut self.matcher;
        let id = m.arena.push(core.id)?;
        let name = match core.name {
            Some(name) => Some(m.arena.push(name)?),
            None => None,
        };
        for (offset, (kind, key)) in keyed.into_iter().enumerate() {
            let observable = first + offset as u32;
            let value = match key {
                Key::Text(text) => {
                    m.tables[slot(kind)].insert(&mut m.arena, &mut m.postings, &text, observable)?
                }
                Key::Net(net) => m
                    .ips
                    .insert(&mut m.arena, &mut m.postings, net, observable)?,
            };
            m.observables.push(ObservableEntry {
                indicator: index,
                kind,
                value,
            });
            m.wanted = m.wanted.union(roles_of(kind));
            if kind == ObservableKind::Domain {
                let domain = m.arena.get(value);
                let last = domain.rsplit('.').next().unwrap_or(domain);
                if !m.last_labels.contains(last) {
                    m.last_labels.insert(last);
                }
            }
        }
        m.indicators.push(Entry {
            id,
            name,
            shared,
            confidence: core.confidence.map(|c| c.min(100)),
            first_observable: first,
            observables: (m.observables.len() as u32 - first) as u8,
        });
        m.stats.loaded += 1;
        Some(())
    }

    /// The matcher, its tables shrunk to what they hold.
    pub fn build(self) -> Matcher {
        let mut matcher = self.matcher;
        matcher.arena.shrink();
        for table in &mut matcher.tables {
            table.shrink(&matcher.arena);
        }
        matcher.observables.shrink_to_fit();
        matcher.indicators.shrink_to_fit();
        matcher.shared.shrink_to_fit();
        matcher
    }
}

impl Allow {
    /// Whether the allow-list covers an indicator's value (so it could never match).
    fn covers_indicator(&self, kind: ObservableKind, key: &Key) -> bool {
        match key {
            Key::Net(net) => self.ips.covers_network(*net),
            Key::Text(text) => self.covers(kind, text),
        }
    }

    /// Whether the allow-list covers a value in its matching form.
    fn covers(&self, kind: ObservableKind, text: &str) -> bool {
        use ObservableKind as K;
        if self.values[slot(kind)].contains(text) {
            return true;
        }
        let domains = &self.values[slot(K::Domain)];
        if domains.is_empty() {
            return false;
        }
        match kind {
            K::Domain => parents(text).any(|d| domains.contains(d)),
            K::Url => {
                let host = text.split(['/', '?', '#', ':']).next().unwrap_or(text);
                parents(host).any(|d| domains.contains(d))
            }
            K::Email => text
                .rsplit_once('@')
                .is_some_and(|(_, domain)| parents(domain).any(|d| domains.contains(d))),
            _ => false,
        }
    }
}

/// `a.b.c`, `b.c`, `c`.
fn parents(domain: &str) -> impl Iterator<Item = &str> {
    std::iter::once(domain).chain(
        domain
            .match_indices('.')
            .map(move |(at, _)| &domain[at + 1..])
            .filter(|rest| !rest.is_empty()),
    )
}

/// One observable of a hit and where the event held it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The observable's kind.
    pub kind: ObservableKind,
    /// The indicator's value (matching form: `evil.com`, `203.0.113.0/24`).
    pub value: String,
    /// The event field it was found in.
    pub field: String,
    /// The field's value in the event, as written.
    pub event_value: String,
}

/// An indicator that matched an event, with every one of its observables found.
#[derive(Debug)]
pub struct Hit<'m> {
    matcher: &'m Matcher,
    entry: Entry,
    /// Where each observable was found (at least one entry per observable).
    pub found: Vec<Found>,
}

impl<'m> Hit<'m> {
    /// The indicator's id.
    pub fn id(&self) -> &'m str {
        self.matcher.arena.get(self.entry.id)
    }

    /// Its feed.
    pub fn source(&self) -> &'m str {
        &self.matcher.shared[self.entry.shared as usize].source
    }

    /// Its name, when the feed gives one.
    pub fn name(&self) -> Option<&'m str> {
        self.entry.name.map(|span| self.matcher.arena.get(span))
    }

    /// Its confidence, 0–100.
    pub fn confidence(&self) -> Option<u8> {
        self.entry.confidence
    }

    /// Its labels.
    pub fn labels(&self) -> &'m [String] {
        &self.matcher.shared[self.entry.shared as usize].labels
    }

    /// What it indicates.
    pub fn context(&self) -> &'m IntelContext {
        &self.matcher.shared[self.entry.shared as usize].context
    }

    /// Its observables (matching form).
    pub fn observables(&self) -> impl Iterator<Item = Observable> + 'm {
        let matcher = self.matcher;
        let first = self.entry.first_observable as usize;
        matcher.observables[first..first + usize::from(self.entry.observables)]
            .iter()
            .map(move |o| Observable {
                kind: o.kind,
                value: matcher.arena.get(o.value).to_string(),
            })
    }
}

/// One observable found while an event is scanned.
struct Seen<'e> {
    observable: u32,
    field: &'e str,
    event_value: &'e str,
}

/// How many bytes of an event value a hit keeps.
const EVENT_VALUE_CAP: usize = rampart_event::CONTEXT_VALUE_CAP;

impl Matcher {
    /// A matcher over `indicators` valid at `now`, with `allow` winning over them.
    pub fn new(indicators: &[Indicator], allow: &[Observable], now: DateTime<Utc>) -> Matcher {
        let mut builder = MatcherBuilder::new(allow, now);
        for indicator in indicators {
            builder.add(indicator);
        }
        builder.build()
    }

    /// Indicators that match.
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// Whether no indicator matches.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// What was kept and left out, and why.
    pub fn stats(&self) -> LoadStats {
        self.stats
    }

    /// Bytes held on the heap (an estimate from capacities).
    pub fn heap_bytes(&self) -> usize {
        self.arena.bytes()
            + self.postings.bytes()
            + self.tables.iter().map(ValueTable::bytes).sum::<usize>()
            + self.ips.bytes()
            + self.observables.capacity() * std::mem::size_of::<ObservableEntry>()
            + self.indicators.capacity() * std::mem::size_of::<Entry>()
            + self.shared.capacity() * (std::mem::size_of::<Shared>() + 24)
    }

    /// Distinct values per kind (for reports).
    pub fn values(&self, kind: ObservableKind) -> usize {
        match kind {
            ObservableKind::Ip => self.ips.len(),
            kind => self.tables[slot(kind)].len(),
        }
    }

    /// Runs every indicator over `event`, calling `out` once per indicator that
    /// matched (in load order).
    pub fn scan<'m>(&'m self, event: &Event, out: &mut impl FnMut(Hit<'m>)) {
        if self.indicators.is_empty() {
            return;
        }
        let mut seen: Vec<Seen<'_>> = Vec::new();
        let mut scratch = String::new();
        for (name, value) in &event.fields {
            let roles = fields::roles(name);
            if roles.0 & self.wanted.0 == 0 {
                continue;
            }
            match value {
                Value::Str(text) => self.look(
                    roles,
                    name.as_str(),
                    text.as_str(),
                    event,
                    &mut seen,
                    &mut scratch,
                ),
                Value::List(items) => {
                    for item in items {
                        if let Value::Str(text) = item {
                            self.look(
                                roles,
                                name.as_str(),
                                text.as_str(),
                                event,
                                &mut seen,
                                &mut scratch,
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        if seen.is_empty() {
            return;
        }
        self.report(seen, out);
    }

    /// Groups what was seen by indicator and reports those with every observable seen.
    fn report<'m>(&'m self, mut seen: Vec<Seen<'_>>, out: &mut impl FnMut(Hit<'m>)) {
        seen.sort_by_key(|s| s.observable);
        seen.dedup_by(|a, b| a.observable == b.observable && a.field == b.field);
        let mut at = 0;
        while at < seen.len() {
            let indicator = self.observables[seen[at].observable as usize].indicator;
            let mut end = at;
            let mut distinct = 0usize;
            let mut last = None;
            while end < seen.len()
                && self.observables[seen[end].observable as usize].indicator == indicator
            {
                if last != Some(seen[end].observable) {
                    distinct += 1;
                    last = Some(seen[end].observable);
                }
                end += 1;
            }
            let entry = self.indicators[indicator as usize];
            if distinct == usize::from(entry.observables) {
                let found = seen[at..end]
                    .iter()
                    .map(|s| {
                        let observable = &self.observables[s.observable as usize];
                        Found {
                            kind: observable.kind,
                            value: self.arena.get(observable.value).to_string(),
                            field: s.field.to_string(),
                            event_value: cap(s.event_value),
                        }
                    })
                    .collect();
                out(Hit {
                    matcher: self,
                    entry,
                    found,
                });
            }
            at = end;
        }
    }

    /// Looks one value of a field up in every table its roles name.
    fn look<'e>(
        &self,
        roles: Roles,
        field: &'e str,
        text: &'e str,
        event: &'e Event,
        seen: &mut Vec<Seen<'e>>,
        scratch: &mut String,
    ) {
        use ObservableKind as K;
        let mut hit = |kind: ObservableKind, key: &str, seen: &mut Vec<Seen<'e>>| {
            if let Some(posting) = self.tables[slot(kind)].get(&self.arena, key) {
                if !self.allow.covers(kind, key) {
                    for &observable in self.postings.get(posting) {
                        seen.push(Seen {
                            observable,
                            field,
                            event_value: text,
                        });
                    }
                }
            }
        };
        if roles.has(Roles::HASHES) {
            for part in text.split([',', ';', ' ']) {
                let (algorithm, digest) = match part.split_once('=') {
                    Some((algorithm, digest)) => (Some(algorithm.trim()), digest.trim()),
                    None => (None, part.trim()),
                };
                let kind = match (algorithm, digest.len()) {
                    (Some(a), _) if a.eq_ignore_ascii_case("md5") => K::Md5,
                    (Some(a), _) if a.eq_ignore_ascii_case("sha1") => K::Sha1,
                    (Some(a), _) if a.eq_ignore_ascii_case("sha256") => K::Sha256,
                    (Some(a), _) if a.eq_ignore_ascii_case("sha512") => K::Sha512,
                    (Some(a), _) if a.eq_ignore_ascii_case("imphash") => K::Imphash,
                    (Some(_), _) => continue,
                    (None, 32) => K::Md5,
                    (None, 40) => K::Sha1,
                    (None, 64) => K::Sha256,
                    (None, 128) => K::Sha512,
                    (None, _) => continue,
                };
                if lower_into(scratch, digest) {
                    hit(kind, scratch, seen);
                }
            }
        }
        for (role, kind) in [
            (Roles::MD5, K::Md5),
            (Roles::SHA1, K::Sha1),
            (Roles::SHA256, K::Sha256),
            (Roles::SHA512, K::Sha512),
            (Roles::IMPHASH, K::Imphash),
        ] {
            if roles.has(role) && lower_into(scratch, text.trim()) {
                hit(kind, scratch, seen);
            }
        }
        if roles.has(Roles::IP) && !self.ips.is_empty() {
            if let Some(address) = keys::event_address(text) {
                if !self.allow.ips.contains(address) {
                    self.ips.lookup(address, |posting| {
                        for &observable in self.postings.get(&posting) {
                            seen.push(Seen {
                                observable,
                                field,
                                event_value: text,
                            });
                        }
                    });
                }
            }
        }
        let domains = !self.tables[slot(K::Domain)].is_empty();
        let urls = !self.tables[slot(K::Url)].is_empty();
        if roles.has(Roles::DOMAIN) && domains {
            if let Some(domain) = keys::domain(text) {
                self.walk_domain(&domain, &mut |key, seen| hit(K::Domain, key, seen), seen);
            }
        }
        if roles.has(Roles::URL) && (domains || urls) {
            let full;
            let url = if text.starts_with('/') {
                // A web log's path: its host is in `cs-host`.
                match host_of(event) {
                    Some(host) => {
                        full = format!("{host}{text}");
                        full.as_str()
                    }
                    None => text,
                }
            } else {
                text
            };
            if let Some(key) = keys::url(url) {
                if urls {
                    hit(K::Url, &key, seen);
                }
                if domains && !roles.has(Roles::TEXT) {
                    let host = key.split(['/', '?', '#', ':']).next().unwrap_or("");
                    self.walk_domain(host, &mut |key, seen| hit(K::Domain, key, seen), seen);
                }
            }
        }
        if roles.has(Roles::TEXT) && (domains || urls) {
            self.scan_text(text, domains, urls, scratch, &mut hit, seen);
        }
        if roles.has(Roles::FILE) && !self.tables[slot(K::FileName)].is_empty() {
            if let Some(name) = keys::file_name(text) {
                hit(K::FileName, &name, seen);
            }
        }
        if roles.has(Roles::REGISTRY) && !self.tables[slot(K::RegistryKey)].is_empty() {
            if let Some(path) = keys::registry_key(text) {
                hit(K::RegistryKey, &path, seen);
                // A value's path (Sysmon 13's `TargetObject`) is under its key.
                if let Some((parent, _value)) = path.rsplit_once('\\') {
                    hit(K::RegistryKey, parent, seen);
                }
            }
        }
        if roles.has(Roles::COMMAND) && !self.tables[slot(K::CommandLine)].is_empty() {
            if let Some(line) = keys::command_line(text) {
                hit(K::CommandLine, &line, seen);
            }
        }
        if roles.has(Roles::EMAIL) && !self.tables[slot(K::Email)].is_empty() {
            for part in text.split([',', ';']) {
                if let Some(address) = keys::email(part) {
                    hit(K::Email, &address, seen);
                }
            }
        }
    }

    /// Looks `domain` (lower-case) and each of its parents up.
    fn walk_domain<'e>(
        &self,
        domain: &str,
        hit: &mut impl FnMut(&str, &mut Vec<Seen<'e>>),
        seen: &mut Vec<Seen<'e>>,
    ) {
        // An allowed domain shields its subdomains: `hit` checks the parent it found,
        // and the full name is checked here.
        if self.allow.covers(ObservableKind::Domain, domain) {
            return;
        }
        for parent in parents(domain) {
            hit(parent, seen);
        }
    }

    /// Host names and URLs inside free text.
    fn scan_text<'e>(
        &self,
        text: &str,
        domains: bool,
        urls: bool,
        scratch: &mut String,
        hit: &mut impl FnMut(ObservableKind, &str, &mut Vec<Seen<'e>>),
        seen: &mut Vec<Seen<'e>>,
    ) {
        let bytes = text.as_bytes();
        if urls {
            let mut from = 0;
            while let Some(at) = text[from..].find("://") {
                let at = from + at;
                let start = bytes[..at]
                    .iter()
                    .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'+'))
                    .map_or(0, |p| p + 1);
                let end = bytes[at..]
                    .iter()
                    .position(|b| {
                        b.is_ascii_whitespace()
                            || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`' | b'|')
                    })
                    .map_or(bytes.len(), |p| at + p);
                if start < at {
                    if let Some(key) = keys::url(&text[start..end]) {
                        hit(ObservableKind::Url, &key, seen);
                    }
                }
                from = end.max(at + 3);
            }
        }
        if !domains {
            return;
        }
        let mut at = 0;
        while at < bytes.len() {
            if !keys::is_domain_byte(bytes[at]) {
                at += 1;
                continue;
            }
            let start = at;
            while at < bytes.len() && keys::is_domain_byte(bytes[at]) {
                at += 1;
            }
            let token = text[start..at].trim_matches(['.', '-', '_']);
            let Some((_, last)) = token.rsplit_once('.') else {
                continue;
            };
            // A host name's last label has a letter; `10.0.0.1` and `1.5` are no names.
            if last.len() < 2 || !last.bytes().any(|b| b.is_ascii_alphabetic()) {
                continue;
            }
            if !self.has_last_label(last) {
                continue;
            }
            if lower_into(scratch, token) {
                let domain = std::mem::take(scratch);
                self.walk_domain(
                    &domain,
                    &mut |key, seen| hit(ObservableKind::Domain, key, seen),
                    seen,
                );
                *scratch = domain;
            }
        }
    }
}

impl Matcher {
    /// Whether some indicator domain ends in the label `last` (any case).
    fn has_last_label(&self, last: &str) -> bool {
        let mut buffer = [0u8; 64];
        let Some(lower) = buffer.get_mut(..last.len()) else {
            return false;
        };
        lower.copy_from_slice(last.as_bytes());
        lower.make_ascii_lowercase();
        std::str::from_utf8(lower).is_ok_and(|label| self.last_labels.contains(label))
    }
}

/// The host of a web log record (`cs-host`), for a URL logged as a path.
fn host_of(event: &Event) -> Option<&str> {
    event
        .fields
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("cs-host") || name.eq_ignore_ascii_case("host"))
        .and_then(|(_, value)| value.as_str())
}

/// `text` lower-cased (ASCII) into `scratch`; false when empty.
fn lower_into(scratch: &mut String, text: &str) -> bool {
    scratch.clear();
    scratch.push_str(text);
    scratch.make_ascii_lowercase();
    !scratch.is_empty()
}

/// An event value cut to [`EVENT_VALUE_CAP`] bytes on a character boundary.
fn cap(value: &str) -> String {
    if value.len() <= EVENT_VALUE_CAP {
        return value.to_string();
    }
    let mut end = EVENT_VALUE_CAP;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{}", &value[..end], rampart_event::CUT_MARK)
}

#[cfg(test)]
mod tests;
