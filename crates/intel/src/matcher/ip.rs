//! Addresses and CIDR networks: one hash table per prefix length present, IPv4 and
//! IPv6 apart. An address is masked to each length present and looked up, so
//! overlapping networks all match and a lookup costs one probe per length (a handful
//! in practice: /32, /24, /16, /128, /64, /48).

use super::keys::Net;
use super::table::{Arena, Posting, Postings, Span};
use hashbrown::{HashMap, HashSet};

/// Networks (and single addresses) → postings, with each one's text in the arena.
#[derive(Debug, Default)]
pub(crate) struct IpTable {
    /// (IPv6, prefix length) → masked address → (posting, canonical text).
    lengths: Vec<((bool, u8), HashMap<u128, (Posting, Span)>)>,
}

impl IpTable {
    pub(crate) fn insert(
        &mut self,
        arena: &mut Arena,
        postings: &mut Postings,
        net: Net,
        observable: u32,
    ) -> Option<Span> {
        let at = match self
            .lengths
            .iter()
            .position(|(length, _)| *length == (net.v6, net.prefix))
        {
            Some(at) => at,
            None => {
                self.lengths.push(((net.v6, net.prefix), HashMap::new()));
                // Longest prefixes first: the most specific network is found first.
                self.lengths.sort_by(|a, b| b.0 .1.cmp(&a.0 .1));
                self.lengths
                    .iter()
                    .position(|(length, _)| *length == (net.v6, net.prefix))?
            }
        };
        let table = &mut self.lengths[at].1;
        if let Some((posting, span)) = table.get_mut(&net.bits) {
            *posting = postings.add(*posting, observable);
            return Some(*span);
        }
        let span = arena.push(&net.text())?;
        table.insert(net.bits, (observable, span));
        Some(span)
    }

    /// Calls `found` with every observable whose network holds `address`.
    pub(crate) fn lookup(&self, address: Net, mut found: impl FnMut(u32)) {
        for ((v6, prefix), table) in &self.lengths {
            if *v6 != address.v6 {
                continue;
            }
            let key = Net::masked(*v6, address.bits, *prefix);
            if let Some((posting, _)) = table.get(&key) {
                // Postings live beside the value tables; the caller resolves lists.
                found(*posting);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.lengths.iter().map(|(_, t)| t.len()).sum()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.lengths
            .iter()
            .map(|(_, t)| t.capacity() * (16 + 12 + 1))
            .sum()
    }
}

/// A set of networks: the allow-list's addresses.
#[derive(Debug, Default)]
pub(crate) struct IpSet {
    lengths: Vec<((bool, u8), HashSet<u128>)>,
}

impl IpSet {
    pub(crate) fn insert(&mut self, net: Net) {
        match self
            .lengths
            .iter_mut()
            .find(|(length, _)| *length == (net.v6, net.prefix))
        {
            Some((_, set)) => {
                set.insert(net.bits);
            }
            None => self
                .lengths
                .push(((net.v6, net.prefix), HashSet::from_iter([net.bits]))),
        }
    }

    /// Whether an allowed network holds `address`.
    pub(crate) fn contains(&self, address: Net) -> bool {
        self.covers_network(address)
    }

    /// Whether an allowed network holds all of `net`.
    pub(crate) fn covers_network(&self, net: Net) -> bool {
        self.lengths.iter().any(|((v6, prefix), set)| {
            *v6 == net.v6
                && *prefix <= net.prefix
                && set.contains(&Net::masked(*v6, net.bits, *prefix))
        })
    }
}
