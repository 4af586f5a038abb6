//! Generated indicators with the mix and shapes of real feeds, for benchmarks and load
//! tests: about half hashes (MD5, SHA-1, SHA-256), a fifth IP addresses (some CIDR
//! networks, some IPv6), a fifth domains, and a tenth URLs, file names and registry
//! keys; a few dozen sources, a few hundred distinct contexts (actors, malware, ATT&CK
//! ids), confidence from 20 to 100, validity windows around `now`. Deterministic for a
//! seed, and streamed: a million indicators never have to be held at once.

use crate::model::{Indicator, IntelContext, Observable, ObservableKind};
use chrono::{DateTime, Duration, Utc};

/// `count` indicators from `seed`, valid around `now`.
pub fn indicators(count: usize, seed: u64, now: DateTime<Utc>) -> impl Iterator<Item = Indicator> {
    let mut random = SplitMix(seed);
    (0..count).map(move |n| generate(&mut random, n, now))
}

/// The SplitMix64 generator: tiny, fast and good enough for test data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn hex(&mut self, digits: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(digits);
        while text.len() < digits {
            let mut word = self.next();
            for _ in 0..16 {
                if text.len() == digits {
                    break;
                }
                text.push(char::from(HEX[(word & 0xf) as usize]));
                word >>= 4;
            }
        }
        text
    }
}

const WORDS: &[&str] = &[
    "update", "cdn", "secure", "login", "mail", "cloud", "office", "micro", "soft", "data", "sync",
    "static", "api", "portal", "web", "news", "drive", "share", "host", "node", "track", "img",
    "files", "docs", "auth", "support", "service", "online", "global", "net",
];
const TLDS: &[&str] = &[
    "com", "net", "org", "info", "ru", "cn", "top", "xyz", "io", "biz", "co.uk", "de",
];
const ACTORS: &[&str] = &[
    "APT 29",
    "APT28",
    "Lazarus Group",
    "Turla",
    "FIN7",
    "Sandworm Team",
    "OceanLotus",
    "Kimsuky",
    "MuddyWater",
    "Wizard Spider",
];
const MALWARE: &[&str] = &[
    "PolyglotDuke",
    "MiniDuke",
    "Emotet",
    "TrickBot",
    "Cobalt Strike",
    "QakBot",
    "AgentTesla",
    "Ryuk",
    "IcedID",
    "PlugX",
    "njRAT",
    "Zebrocy",
];
const TECHNIQUES: &[&str] = &[
    "T1071.001",
    "T1059.001",
    "T1566.001",
    "T1105",
    "T1204.002",
    "T1547.001",
    "T1053.005",
    "T1027",
    "T1086",
    "T1573",
];
const EXTENSIONS: &[&str] = &["exe", "dll", "ps1", "vbs", "js", "hta", "bat", "scr"];
const RUN_KEYS: &[&str] = &[
    r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run",
    r"HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Run",
    r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services",
    r"HKEY_CURRENT_USER\Software\Classes\CLSID",
];

fn domain(random: &mut SplitMix) -> String {
    let labels = 1 + random.below(3);
    let mut name = String::new();
    for _ in 0..labels {
        name.push_str(random.pick(WORDS));
        if random.below(2) == 0 {
            name.push_str(&random.below(1000).to_string());
        }
        name.push('-');
        name.push_str(&random.hex(4));
        name.push('.');
    }
    name.push_str(random.pick(TLDS));
    name
}

fn observable(random: &mut SplitMix) -> Observable {
    use ObservableKind as K;
    let roll = random.below(100);
    let (kind, value) = match roll {
        0..=14 => (K::Md5, random.hex(32)),
        15..=24 => (K::Sha1, random.hex(40)),
        25..=49 => (K::Sha256, random.hex(64)),
        50..=67 => {
            let addr = random.next() as u32;
            (K::Ip, std::net::Ipv4Addr::from(addr).to_string())
        }
        68 => {
            let prefix = [16u32, 20, 24, 24, 28][random.below(5) as usize];
            let addr = (random.next() as u32) & !((1u32 << (32 - prefix)) - 1);
            (
                K::Ip,
                format!("{}/{prefix}", std::net::Ipv4Addr::from(addr)),
            )
        }
        69 => {
            let addr = (0x2001_0db8u128 << 96) | u128::from(random.next());
            let ip = std::net::Ipv6Addr::from(addr);
            if random.below(4) == 0 {
                let net = std::net::Ipv6Addr::from(addr & !((1u128 << 80) - 1));
                (K::Ip, format!("{net}/48"))
            } else {
                (K::Ip, ip.to_string())
            }
        }
        70..=89 => (K::Domain, domain(random)),
        90..=94 => {
            let host = domain(random);
            let path = random.pick(WORDS);
            let file = random.hex(8);
            let ext = random.pick(EXTENSIONS);
            (K::Url, format!("http://{host}/{path}/{file}.{ext}"))
        }
        95..=97 => {
            let stem = random.pick(WORDS);
            let n = random.below(100);
            let ext = random.pick(EXTENSIONS);
            (K::FileName, format!("{stem}{n}_{}.{ext}", random.hex(4)))
        }
        _ => {
            let key = random.pick(RUN_KEYS);
            let name = random.pick(WORDS);
            (K::RegistryKey, format!("{key}\\{name}{}", random.hex(6)))
        }
    };
    Observable { kind, value }
}

fn generate(random: &mut SplitMix, n: usize, now: DateTime<Utc>) -> Indicator {
    let all_of = vec![observable(random)];
    // A few hundred contexts, as feeds describe a few campaigns each.
    let context_id = random.below(300);
    let mut context_random = SplitMix(context_id);
    let context = IntelContext {
        actors: vec![context_random.pick(ACTORS).to_string()],
        malware: vec![context_random.pick(MALWARE).to_string()],
        attack_ids: vec![
            context_random.pick(TECHNIQUES).to_string(),
            context_random.pick(TECHNIQUES).to_string(),
        ],
        reports: vec![format!("Report {context_id}")],
    };
    let source = format!("stix:feed-{:02}.json", context_id % 40);
    let valid_from = now - Duration::days(1 + random.below(365) as i64);
    let valid_until =
        (random.below(4) == 0).then(|| now + Duration::days(1 + random.below(90) as i64));
    Indicator {
        id: format!("indicator--{}-{n:08x}", random.hex(24)),
        source,
        all_of,
        name: None,
        description: None,
        confidence: Some(20 + random.below(81) as u8),
        labels: vec!["malicious-activity".to_string()],
        valid_from: Some(valid_from),
        valid_until,
        first_seen: Some(valid_from),
        last_seen: None,
        detect: true,
        context,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_as_documented_and_every_value_is_usable() {
        let now = Utc::now();
        let generated: Vec<Indicator> = indicators(10_000, 7, now).collect();
        let count = |kinds: &[ObservableKind]| {
            generated
                .iter()
                .filter(|i| kinds.contains(&i.all_of[0].kind))
                .count()
        };
        use ObservableKind as K;
        let hashes = count(&[K::Md5, K::Sha1, K::Sha256]);
        assert!((4_500..5_500).contains(&hashes), "{hashes}");
        assert!((1_700..2_300).contains(&count(&[K::Ip])));
        assert!((1_700..2_300).contains(&count(&[K::Domain])));
        let matcher = crate::matcher::Matcher::new(&generated, &[], now);
        assert_eq!(matcher.stats().loaded, 10_000);
        assert_eq!(
            indicators(3, 7, now).collect::<Vec<_>>(),
            generated[..3].to_vec()
        );
    }
}
