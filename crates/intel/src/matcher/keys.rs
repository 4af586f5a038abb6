//! The form values are compared in, the same function for an indicator's value and an
//! event's: a feed's value that was normalised already passes through unchanged, one
//! that was not (a defanged `hxxp://evil[.]com`, an upper-case hash, `HKLM\…`) still
//! meets the event's value.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Undoes the usual defanging: `hxxp` → `http`, `[.]` `(.)` `{.}` `[dot]` → `.`,
/// `[:]` → `:`, `[@]` `[at]` → `@`, `[/]` → `/`.
pub(crate) fn refang(value: &str) -> Cow<'_, str> {
    if !value.contains(['[', '(', '{']) && !value.as_bytes().windows(4).any(is_hxxp) {
        return Cow::Borrowed(value);
    }
    let mut text = value.to_string();
    for (from, to) in [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("[DOT]", "."),
        ("[:]", ":"),
        ("[://]", "://"),
        ("[@]", "@"),
        ("[at]", "@"),
        ("[AT]", "@"),
        ("[/]", "/"),
    ] {
        if text.contains(from) {
            text = text.replace(from, to);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.as_bytes().windows(4).position(is_hxxp) {
        out.push_str(&rest[..at]);
        out.push_str(if rest.as_bytes()[at] == b'H' {
            "HTTP"
        } else {
            "http"
        });
        rest = &rest[at + 4..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn is_hxxp(window: &[u8]) -> bool {
    window.eq_ignore_ascii_case(b"hxxp")
}

/// A hash of `digits` hex digits, lower-case.
pub(crate) fn hash(value: &str, digits: usize) -> Option<String> {
    let value = value.trim();
    (value.len() == digits && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| value.to_ascii_lowercase())
}

/// A domain name: refanged, lower-case, no trailing dot.
pub(crate) fn domain(value: &str) -> Option<String> {
    let value = refang(value.trim());
    let value = value.trim_end_matches('.');
    if value.is_empty() || !value.bytes().all(is_domain_byte) {
        return None;
    }
    Some(value.to_ascii_lowercase())
}

/// Bytes a host name is made of (letters, digits, `-`, `_`, `.`, and any non-ASCII
/// byte for internationalised names).
pub(crate) fn is_domain_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') || byte >= 0x80
}

/// An IP network: an address and a prefix length, IPv4 kept apart from IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Net {
    pub(crate) v6: bool,
    /// The address, host bits cleared (IPv4 in the low 32 bits).
    pub(crate) bits: u128,
    pub(crate) prefix: u8,
}

impl Net {
    pub(crate) fn of(addr: IpAddr) -> Net {
        match addr {
            IpAddr::V4(v4) => Net {
                v6: false,
                bits: u128::from(u32::from(v4)),
                prefix: 32,
            },
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Net::of(IpAddr::V4(v4)),
                None => Net {
                    v6: true,
                    bits: u128::from(v6),
                    prefix: 128,
                },
            },
        }
    }

    /// The address width: 32 or 128.
    pub(crate) fn width(v6: bool) -> u8 {
        if v6 {
            128
        } else {
            32
        }
    }

    /// `bits` with everything past `prefix` cleared.
    pub(crate) fn masked(v6: bool, bits: u128, prefix: u8) -> u128 {
        let host = u32::from(Net::width(v6) - prefix);
        if host >= 128 {
            0
        } else {
            bits & !((1u128 << host) - 1)
        }
    }

    /// Canonical text: the address, and `/prefix` for a network.
    pub(crate) fn text(&self) -> String {
        let addr = if self.v6 {
            IpAddr::V6(Ipv6Addr::from(self.bits))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.bits as u32))
        };
        if self.prefix == Net::width(self.v6) {
            addr.to_string()
        } else {
            format!("{addr}/{}", self.prefix)
        }
    }
}

/// An indicator's address or CIDR network (refanged, host bits cleared, IPv4-mapped
/// IPv6 as IPv4).
pub(crate) fn network(value: &str) -> Option<Net> {
    let value = refang(value.trim());
    let (addr, prefix) = match value.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix.parse::<u8>().ok()?)),
        None => (&value[..], None),
    };
    let mut net = Net::of(addr.parse::<IpAddr>().ok()?);
    if let Some(prefix) = prefix {
        // `::ffff:10.0.0.0/104` is the IPv4 network 10.0.0.0/8.
        let prefix = match (addr.parse::<IpAddr>().ok()?, net.v6) {
            (IpAddr::V6(_), false) => prefix.checked_sub(96)?,
            _ => prefix,
        };
        if prefix > Net::width(net.v6) {
            return None;
        }
        net.prefix = prefix;
        net.bits = Net::masked(net.v6, net.bits, prefix);
    }
    Some(net)
}

/// An event's address: with a port (`203.0.113.7:443`, `[2001:db8::1]:443`), a zone
/// (`fe80::1%eth0`) or the IPv4-mapped form (`::ffff:203.0.113.7`) taken off.
pub(crate) fn event_address(value: &str) -> Option<Net> {
    let value = value.trim();
    if value.is_empty() || value.len() > 64 {
        return None;
    }
    if let Ok(addr) = value.parse::<IpAddr>() {
        return Some(Net::of(addr));
    }
    let bare = if let Some(rest) = value.strip_prefix('[') {
        rest.split_once(']').map(|(addr, _)| addr)?
    } else if let Some((addr, port)) = value.rsplit_once(':') {
        // One colon and a port: IPv4 with a port.
        if addr.contains(':') || !port.bytes().all(|b| b.is_ascii_digit()) {
            value
        } else {
            addr
        }
    } else {
        value
    };
    let bare = bare.split_once('%').map_or(bare, |(addr, _zone)| addr);
    bare.parse::<IpAddr>().ok().map(Net::of)
}

/// A URL as compared: without its scheme (proxies and web servers often log none),
/// user info or default port; host lower-case; path and query as written; a lone `/`
/// path dropped. `http://Evil.COM/a?b` → `evil.com/a?b`.
pub(crate) fn url(value: &str) -> Option<String> {
    let value = refang(value.trim());
    let rest = match value.find("://") {
        Some(at)
            if value[..at]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+') =>
        {
            &value[at + 3..]
        }
        _ => &value[..],
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(host_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = host
        .strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .unwrap_or(host);
    let host = host.trim_end_matches('.');
    if host.is_empty() || host.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let path = if path == "/" { "" } else { path };
    let mut key = host.to_ascii_lowercase();
    key.push_str(path);
    Some(key)
}

/// An e-mail address: refanged, without `mailto:` or a display name, lower-case.
pub(crate) fn email(value: &str) -> Option<String> {
    let value = refang(value.trim());
    let value = match (value.find('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => &value[..],
    };
    let value = value.trim();
    let value = value.strip_prefix("mailto:").unwrap_or(value);
    let (local, domain) = value.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || value.contains(char::is_whitespace) {
        return None;
    }
    Some(value.to_lowercase())
}

/// A file's base name, lower-case.
pub(crate) fn file_name(value: &str) -> Option<String> {
    let value = value.trim();
    let base = value.rsplit(['\\', '/']).next().unwrap_or(value).trim();
    (!base.is_empty()).then(|| base.to_lowercase())
}

/// Hive spellings and their full names, longest first where one is a prefix of another.
const HIVES: &[(&str, &str)] = &[
    ("\\registry\\machine\\", "hkey_local_machine\\"),
    ("\\registry\\user\\", "hkey_users\\"),
    ("hklm\\", "hkey_local_machine\\"),
    ("hkcu\\", "hkey_current_user\\"),
    ("hku\\", "hkey_users\\"),
    ("hkcr\\", "hkey_classes_root\\"),
    ("hkcc\\", "hkey_current_config\\"),
];

/// A registry key path: hive written out (`HKLM\` and `\REGISTRY\MACHINE\` alike
/// become `hkey_local_machine\`), lower-case, no trailing backslash.
pub(crate) fn registry_key(value: &str) -> Option<String> {
    let lower = value.trim().trim_end_matches('\\').to_lowercase();
    if lower.is_empty() {
        return None;
    }
    for (short, long) in HIVES {
        if let Some(rest) = lower.strip_prefix(short) {
            return Some(format!("{long}{rest}"));
        }
    }
    Some(lower)
}

/// A command line: trimmed, lower-case.
pub(crate) fn command_line(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defanged_values_refang() {
        assert_eq!(refang("hxxps://evil[.]com/a"), "https://evil.com/a");
        assert_eq!(refang("evil(.)com"), "evil.com");
        assert_eq!(refang("a[@]b[.]org"), "a@b.org");
        assert_eq!(refang("HXXP[:]//x"), "HTTP://x");
        assert!(matches!(refang("plain.com"), Cow::Borrowed(_)));
    }

    #[test]
    fn addresses_and_networks() {
        let net = network("203.0.113.77/24");
        assert_eq!(net.map(|n| n.text()), Some("203.0.113.0/24".into()));
        assert_eq!(
            network("2001:DB8::1/32").map(|n| n.text()),
            Some("2001:db8::/32".into())
        );
        assert_eq!(network("10.0.0.1/33"), None);
        assert_eq!(network("999.1.1.1"), None);
        let plain = network("198.51.100.7");
        for spelling in [
            "198.51.100.7",
            "198.51.100.7:443",
            "::ffff:198.51.100.7",
            " 198.51.100.7 ",
        ] {
            assert_eq!(event_address(spelling), plain, "{spelling}");
        }
        assert_eq!(event_address("[2001:db8::1]:8443"), network("2001:db8::1"));
        assert_eq!(event_address("fe80::1%eth0"), network("fe80::1"));
        assert_eq!(event_address("-"), None);
    }

    #[test]
    fn urls_compare_without_scheme_and_default_port() {
        for spelling in [
            "http://Evil.COM/a/B?c=1",
            "https://evil.com:443/a/B?c=1",
            "hxxp://evil[.]com/a/B?c=1",
            "evil.com/a/B?c=1",
            "http://user@evil.com./a/B?c=1",
        ] {
            assert_eq!(
                url(spelling).as_deref(),
                Some("evil.com/a/B?c=1"),
                "{spelling}"
            );
        }
        assert_eq!(url("http://evil.com/").as_deref(), Some("evil.com"));
    }

    #[test]
    fn other_kinds() {
        assert_eq!(
            hash(" ABCDEF0123456789ABCDEF0123456789 ", 32).as_deref(),
            Some("abcdef0123456789abcdef0123456789")
        );
        assert_eq!(hash("xyz", 3), None);
        assert_eq!(domain("Evil[.]COM.").as_deref(), Some("evil.com"));
        assert_eq!(domain("not a domain"), None);
        assert_eq!(email("Eve <EVE@Evil.com>").as_deref(), Some("eve@evil.com"));
        assert_eq!(
            file_name(r"C:\Windows\Temp\EVIL.dll").as_deref(),
            Some("evil.dll")
        );
        assert_eq!(
            registry_key(r"\REGISTRY\MACHINE\Software\Run\").as_deref(),
            Some(r"hkey_local_machine\software\run")
        );
        assert_eq!(
            registry_key(r"HKLM\Software\Run").as_deref(),
            Some(r"hkey_local_machine\software\run")
        );
    }
}
