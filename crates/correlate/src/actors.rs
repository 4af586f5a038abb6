//! ATT&CK groups and campaigns with the techniques each used: the evidence likely-next
//! suggestions are drawn from, indexed once per knowledge graph.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Whether an actor is an ATT&CK group or a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// An intrusion set (`G0016`).
    Group,
    /// A campaign (`C0024`).
    Campaign,
}

/// One group or campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// ATT&CK id (`G0016`, `C0024`).
    pub id: String,
    /// Display name (`APT29`).
    pub name: String,
    /// Group or campaign.
    pub kind: ActorKind,
}

/// Index of a technique id in [`ThreatActors`]' table.
pub(crate) type TechniqueIndex = u32;

/// Groups and campaigns with their techniques, built with [`ThreatActorsBuilder`].
///
/// Techniques are matched at the level of their base technique (`T1003` for
/// `T1003.001`): seeing any LSASS or SAM dump makes every actor that dumps credentials
/// a candidate author, as the old co-occurrence ranking did.
#[derive(Debug, Clone, Default)]
pub struct ThreatActors {
    pub(crate) actors: Vec<Actor>,
    /// Per actor: the exact techniques it used, sorted, distinct.
    pub(crate) uses: Vec<Vec<TechniqueIndex>>,
    /// Per actor: the base techniques of those, sorted, distinct.
    pub(crate) bases: Vec<Vec<TechniqueIndex>>,
    /// Per actor: actors that share its record (a group and the campaigns attributed
    /// to it), which an honest evaluation must leave out together.
    pub(crate) kin: Vec<Vec<usize>>,
    /// Interned technique ids (upper case).
    pub(crate) techniques: Vec<String>,
    pub(crate) index: HashMap<String, TechniqueIndex>,
    /// Per technique: its base technique.
    pub(crate) base_of: Vec<TechniqueIndex>,
    /// Per base technique: the actors using it or one of its sub-techniques.
    pub(crate) users_of_base: Vec<Vec<usize>>,
    /// Per base technique: `ln((actors + 1) / users)`, so a technique every actor uses
    /// says little about which actor is at work, yet still more than nothing.
    pub(crate) rarity: Vec<f64>,
    /// Per actor: the sum of its base techniques' rarity.
    pub(crate) rarity_total: Vec<f64>,
    names: HashMap<String, String>,
    replacements: HashMap<String, String>,
    /// Name key ([`name_key`]) of every group's id, name and alias → the group.
    groups_by_key: HashMap<String, usize>,
}

/// The lookup key of a name: its letters and digits, lower-cased (`APT 29`, `apt-29`
/// and `APT29` are one key), as threat-intelligence feeds spell actors their own way.
pub(crate) fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl ThreatActors {
    /// The actors, in the order they were added.
    pub fn actors(&self) -> &[Actor] {
        &self.actors
    }

    /// Number of actors (groups and campaigns).
    pub fn len(&self) -> usize {
        self.actors.len()
    }

    /// Whether no actor was recorded.
    pub fn is_empty(&self) -> bool {
        self.actors.is_empty()
    }

    /// The technique ids an actor used, sorted.
    pub fn techniques_of(&self, actor: usize) -> Vec<&str> {
        self.uses
            .get(actor)
            .map(|uses| {
                uses.iter()
                    .map(|&t| self.techniques[t as usize].as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Actors that share an actor's record (its campaigns, or a campaign's groups).
    pub fn kin_of(&self, actor: usize) -> &[usize] {
        self.kin.get(actor).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A technique's display name, when known.
    pub fn name(&self, technique: &str) -> Option<&str> {
        self.names
            .get(&technique.to_ascii_uppercase())
            .map(String::as_str)
    }

    /// The current id for an observed technique id: upper case, trimmed, and a revoked
    /// id replaced by its successor (`T1562.001` → `T1685` in ATT&CK 19).
    pub fn canonical(&self, technique: &str) -> String {
        let id = technique.trim().to_ascii_uppercase();
        match self.replacements.get(&id) {
            Some(current) => current.clone(),
            None => id,
        }
    }

    /// The group an ATT&CK id (`G0016`), name (`APT29`) or alias (`The Dukes`, `Cozy
    /// Bear`) names, compared by [`name_key`]: any case, spaces and punctuation.
    pub fn group_named(&self, text: &str) -> Option<usize> {
        self.groups_by_key.get(&name_key(text)).copied()
    }

    pub(crate) fn technique_index(&self, id: &str) -> Option<TechniqueIndex> {
        self.index.get(id).copied()
    }

    /// The base technique of an id that need not be interned.
    pub(crate) fn base_index(&self, id: &str) -> Option<TechniqueIndex> {
        let base = id.split_once('.').map_or(id, |(base, _)| base);
        self.technique_index(base)
    }
}

/// Collects actors, names and replacements, then indexes them once.
#[derive(Debug, Default)]
pub struct ThreatActorsBuilder {
    actors: Vec<(Actor, Vec<String>)>,
    aliases: Vec<(usize, String)>,
    kin: Vec<(usize, usize)>,
    names: HashMap<String, String>,
    replacements: HashMap<String, String>,
}

impl ThreatActorsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an actor and the techniques it used (ids such as `T1003.001`); returns
    /// its index.
    pub fn add_actor(
        &mut self,
        actor: Actor,
        techniques: impl IntoIterator<Item = String>,
    ) -> usize {
        self.actors.push((actor, techniques.into_iter().collect()));
        self.actors.len() - 1
    }

    /// Records another name of an actor (a group's alias), for [`ThreatActors::group_named`].
    pub fn add_alias(&mut self, actor: usize, alias: &str) {
        self.aliases.push((actor, alias.to_string()));
    }

    /// Records that two actors share a record (a campaign attributed to a group).
    pub fn add_kin(&mut self, a: usize, b: usize) {
        self.kin.push((a, b));
    }

    /// Records a technique's display name (`OS Credential Dumping: LSASS Memory`).
    pub fn add_name(&mut self, technique: &str, name: &str) {
        self.names
            .insert(technique.trim().to_ascii_uppercase(), name.to_string());
    }

    /// Records that a revoked technique id is replaced by `current`.
    pub fn add_replacement(&mut self, revoked: &str, current: &str) {
        self.replacements.insert(
            revoked.trim().to_ascii_uppercase(),
            current.trim().to_ascii_uppercase(),
        );
    }

    /// Builds the indexes.
    pub fn build(self) -> ThreatActors {
        let mut table = ThreatActors {
            names: self.names,
            replacements: self.replacements,
            ..ThreatActors::default()
        };
        for (actor, techniques) in self.actors {
            let mut uses: Vec<TechniqueIndex> = techniques
                .iter()
                .map(|t| intern(&mut table, &t.trim().to_ascii_uppercase()))
                .collect();
            uses.sort_unstable();
            uses.dedup();
            let mut bases: Vec<TechniqueIndex> =
                uses.iter().map(|&t| table.base_of[t as usize]).collect();
            bases.sort_unstable();
            bases.dedup();
            table.actors.push(actor);
            table.uses.push(uses);
            table.bases.push(bases);
        }
        // Ids and names first, then aliases: an alias never takes over another group's
        // own name.
        for (index, actor) in table.actors.iter().enumerate() {
            if actor.kind == ActorKind::Group {
                for text in [&actor.id, &actor.name] {
                    table.groups_by_key.entry(name_key(text)).or_insert(index);
                }
            }
        }
        for (index, alias) in self.aliases {
            if table
                .actors
                .get(index)
                .is_some_and(|a| a.kind == ActorKind::Group)
            {
                let key = name_key(&alias);
                if !key.is_empty() {
                    table.groups_by_key.entry(key).or_insert(index);
                }
            }
        }
        table.kin = vec![Vec::new(); table.actors.len()];
        for (a, b) in self.kin {
            if a < table.kin.len() && b < table.kin.len() && a != b {
                table.kin[a].push(b);
                table.kin[b].push(a);
            }
        }
        for kin in &mut table.kin {
            kin.sort_unstable();
            kin.dedup();
        }
        table.users_of_base = vec![Vec::new(); table.techniques.len()];
        for (actor, bases) in table.bases.iter().enumerate() {
            for &base in bases {
                table.users_of_base[base as usize].push(actor);
            }
        }
        let actors = table.actors.len() as f64;
        table.rarity = table
            .users_of_base
            .iter()
            .map(|users| ((actors + 1.0) / users.len().max(1) as f64).ln())
            .collect();
        table.rarity_total = table
            .bases
            .iter()
            .map(|bases| bases.iter().map(|&b| table.rarity[b as usize]).sum())
            .collect();
        table
    }
}

/// The index of `id` (upper case), adding it and its base technique when new.
fn intern(table: &mut ThreatActors, id: &str) -> TechniqueIndex {
    if let Some(&index) = table.index.get(id) {
        return index;
    }
    let base = id.split_once('.').map(|(base, _)| intern(table, base));
    let index = table.techniques.len() as TechniqueIndex;
    table.techniques.push(id.to_string());
    table.index.insert(id.to_string(), index);
    table.base_of.push(base.unwrap_or(index));
    index
}
