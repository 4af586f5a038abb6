//! Observable values in canonical form: defanged text refanged, and each kind written
//! the one way the matcher looks it up (see [`ObservableKind`] for each kind's form).
//!
//! Feeds write the same indicator many ways — `hxxp://evil[.]example`, `HKLM\Run`,
//! upper-case hashes, `203.0.113.0/24` with host bits set — and the matcher compares
//! whole values, so every reader passes values through [`normalize`] and reports those
//! it refuses as `InvalidValue` diagnostics.

use std::borrow::Cow;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::ObservableKind;

/// A value that is not valid for its kind. The value itself is left out of the
/// message: callers name where it was, and it may be attacker text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {} value: {reason}", kind.name())]
pub struct InvalidValue {
    /// The kind it was read as.
    pub kind: ObservableKind,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Defanged spellings and what they stand for, matched case-insensitively. Longer
/// forms first, so `[://]` wins over `[:]`.
const DEFANGS: [(&str, &str); 16] = [
    ("[://]", "://"),
    ("[dot]", "."),
    ("(dot)", "."),
    ("{dot}", "."),
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("\\.", "."),
    ("[:]", ":"),
    ("[at]", "@"),
    ("(at)", "@"),
    ("{at}", "@"),
    ("[@]", "@"),
    ("(@)", "@"),
    ("[/]", "/"),
    ("[//]", "//"),
];

/// Defanged URL schemes (`hxxp`, `hXXps`, `fxp`) and their real names, matched
/// case-insensitively at the start of the value.
const SCHEMES: [(&str, &str); 4] = [
    ("hxxps", "https"),
    ("hxxp", "http"),
    ("fxps", "ftps"),
    ("fxp", "ftp"),
];

/// `text` with defanged spellings undone and surrounding whitespace trimmed:
/// `hxxps://evil[.]example[:]8080`, `user[at]evil(.)example` become
/// `https://evil.example:8080`, `user@evil.example`. Borrowed when nothing changes
/// but the trimming.
pub fn refang(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim();
    let scheme = SCHEMES.iter().find(|(defanged, _)| {
        trimmed
            .get(..defanged.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(defanged))
    });
    let bracketed = trimmed.contains(['[', '(', '{', '\\']);
    if scheme.is_none() && !bracketed {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut rest = trimmed;
    if let Some((defanged, real)) = scheme {
        out.push_str(real);
        rest = &rest[defanged.len()..];
    }
    while !rest.is_empty() {
        let found = DEFANGS.iter().find(|(defanged, _)| {
            rest.get(..defanged.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(defanged))
        });
        match found {
            Some((defanged, real)) => {
                out.push_str(real);
                rest = &rest[defanged.len()..];
            }
            None => {
                let mut chars = rest.chars();
                if let Some(c) = chars.next() {
                    out.push(c);
                }
                rest = chars.as_str();
            }
        }
    }
    Cow::Owned(out)
}

/// `raw` in the canonical form of `kind` (see [`ObservableKind`]), or why it is not a
/// valid value of that kind. Network kinds (IP, domain, URL, e-mail) are refanged
/// first; hashes, file names, registry keys and command lines are taken as written
/// (a command line may well contain `[.]`).
pub fn normalize(kind: ObservableKind, raw: &str) -> Result<String, InvalidValue> {
    let invalid = |reason| InvalidValue { kind, reason };
    let value = match kind {
        ObservableKind::Md5 | ObservableKind::Imphash => hex_digest(raw.trim(), 32),
        ObservableKind::Sha1 => hex_digest(raw.trim(), 40),
        ObservableKind::Sha256 => hex_digest(raw.trim(), 64),
        ObservableKind::Sha512 => hex_digest(raw.trim(), 128),
        ObservableKind::Ip => ip(&refang(raw)),
        ObservableKind::Domain => domain(&refang(raw)),
        ObservableKind::Url => url(&refang(raw)),
        ObservableKind::Email => email(&refang(raw)),
        ObservableKind::FileName => file_name(raw),
        ObservableKind::RegistryKey => registry_key(raw),
        ObservableKind::CommandLine => command_line(raw),
    };
    value.map_err(invalid)
}

fn hex_digest(value: &str, digits: usize) -> Result<String, &'static str> {
    if value.len() != digits {
        return Err("wrong number of hex digits");
    }
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("not hexadecimal");
    }
    Ok(value.to_ascii_lowercase())
}

fn ip(value: &str) -> Result<String, &'static str> {
    if value.contains('/') {
        let net: IpNet = value
            .parse()
            .map_err(|_| "not an IP network in CIDR notation")?;
        let net = net.trunc();
        if net.prefix_len() == net.max_prefix_len() {
            return Ok(net.addr().to_string());
        }
        return Ok(net.to_string());
    }
    let addr: IpAddr = value.parse().map_err(|_| "not an IP address")?;
    Ok(addr.to_string())
}

/// Longest domain name in text form (RFC 1035 limits, without the trailing dot).
const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

fn domain(value: &str) -> Result<String, &'static str> {
    let value = value.strip_suffix('.').unwrap_or(value);
    // A wildcard (`*.evil.example`) means the domain and its subdomains, which is how
    // every domain matches anyway.
    let value = value.strip_prefix("*.").unwrap_or(value);
    if value.is_empty() {
        return Err("empty");
    }
    if value.parse::<IpAddr>().is_ok() {
        return Err("an IP address, not a domain name");
    }
    let lower = value.to_lowercase();
    if lower.len() > MAX_DOMAIN_LEN {
        return Err("longer than 253 characters");
    }
    let mut labels = 0;
    for label in lower.split('.') {
        labels += 1;
        if label.is_empty() {
            return Err("an empty label");
        }
        if label.len() > MAX_LABEL_LEN {
            return Err("a label longer than 63 characters");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starting or ending with a hyphen");
        }
        // Underscores appear in real names (`_dmarc`, some malware C2s); letters of
        // other scripts are internationalised names as events show them.
        if !label
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err("a character that is not a letter, digit, hyphen or underscore");
        }
    }
    if labels < 2 {
        return Err("a single label, not a domain name");
    }
    if lower
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("a numeric top-level label");
    }
    Ok(lower)
}

fn url(value: &str) -> Result<String, &'static str> {
    if value.is_empty() {
        return Err("empty");
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("whitespace or a control character inside");
    }
    // Scheme and host are case-insensitive; path and query are matched as written.
    let (scheme, rest) = match value.find("://") {
        Some(at)
            if at > 0
                && value[..at]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.') =>
        {
            (Some(&value[..at]), &value[at + 3..])
        }
        // Feeds often give URLs without a scheme (`evil.example/gate.php`, perhaps
        // with `://` further on, in a query): the host is lower-cased as for any URL,
        // the rest kept.
        _ => (None, value),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let (userinfo, host) = authority.split_at(host_start);
    if host.is_empty() {
        return Err("no host");
    }
    let mut out = String::with_capacity(value.len());
    if let Some(scheme) = scheme {
        out.push_str(&scheme.to_ascii_lowercase());
        out.push_str("://");
    }
    out.push_str(userinfo);
    out.push_str(&host.to_lowercase());
    out.push_str(tail);
    Ok(out)
}

fn email(value: &str) -> Result<String, &'static str> {
    let value = value
        .get(..7)
        .filter(|head| head.eq_ignore_ascii_case("mailto:"))
        .map_or(value, |_| &value[7..]);
    let value = value
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .unwrap_or(value);
    let (local, host) = value.rsplit_once('@').ok_or("no @")?;
    if local.is_empty() {
        return Err("nothing before the @");
    }
    if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("whitespace or a control character inside");
    }
    let host = domain(host).map_err(|_| "not a domain name after the @")?;
    Ok(format!("{}@{host}", local.to_lowercase()))
}

fn file_name(value: &str) -> Result<String, &'static str> {
    let trimmed = value.trim();
    let base = trimmed.rsplit(['\\', '/']).next().unwrap_or(trimmed).trim();
    if base.is_empty() {
        return Err("no file name (empty, or a folder path)");
    }
    if base.chars().any(char::is_control) {
        return Err("a control character inside");
    }
    Ok(base.to_lowercase())
}

/// Abbreviated and kernel-style hive names and the full names events and ATT&CK use.
const HIVES: [(&str, &str); 12] = [
    ("HKLM", "HKEY_LOCAL_MACHINE"),
    ("HKCU", "HKEY_CURRENT_USER"),
    ("HKCR", "HKEY_CLASSES_ROOT"),
    ("HKU", "HKEY_USERS"),
    ("HKCC", "HKEY_CURRENT_CONFIG"),
    ("HKPD", "HKEY_PERFORMANCE_DATA"),
    ("\\REGISTRY\\MACHINE", "HKEY_LOCAL_MACHINE"),
    ("\\REGISTRY\\USER", "HKEY_USERS"),
    ("REGISTRY\\MACHINE", "HKEY_LOCAL_MACHINE"),
    ("REGISTRY\\USER", "HKEY_USERS"),
    ("HKEY_LOCAL_MACHINE", "HKEY_LOCAL_MACHINE"),
    ("HKEY_CURRENT_USER", "HKEY_CURRENT_USER"),
];

fn registry_key(value: &str) -> Result<String, &'static str> {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        return Err("a control character inside");
    }
    // Keys copied out of .reg files or JSON sometimes keep doubled separators.
    let mut collapsed = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        if c == '\\' && collapsed.ends_with('\\') {
            continue;
        }
        collapsed.push(c);
    }
    let key = collapsed.trim_end_matches('\\');
    let mut out = String::with_capacity(key.len() + 16);
    let hive = HIVES.iter().find(|(short, _)| {
        key.get(..short.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(short))
            && matches!(key.as_bytes().get(short.len()), None | Some(b'\\'))
    });
    match hive {
        Some((short, full)) => {
            out.push_str(full);
            out.push_str(&key[short.len()..]);
        }
        None => out.push_str(key),
    }
    if out.is_empty() {
        return Err("empty");
    }
    Ok(out.to_lowercase())
}

fn command_line(value: &str) -> Result<String, &'static str> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("empty");
    }
    Ok(trimmed.to_lowercase())
}

/// The kind a bare value most likely is, for lists that do not say: hashes by their
/// length, then IP address or network, URL (with a scheme), e-mail address, domain
/// name. `None` for anything else (a file name or command line must be given).
pub fn detect_kind(raw: &str) -> Option<ObservableKind> {
    let value = refang(raw);
    let value = value.as_ref();
    if value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return match value.len() {
            32 => Some(ObservableKind::Md5),
            40 => Some(ObservableKind::Sha1),
            64 => Some(ObservableKind::Sha256),
            128 => Some(ObservableKind::Sha512),
            _ => None,
        };
    }
    if ip(value).is_ok() {
        return Some(ObservableKind::Ip);
    }
    if value.contains("://") {
        return url(value).ok().map(|_| ObservableKind::Url);
    }
    if value.contains('@') {
        return email(value).ok().map(|_| ObservableKind::Email);
    }
    if domain(value).is_ok() {
        return Some(ObservableKind::Domain);
    }
    // `evil.example/gate.php`: a host, then a path.
    if let Some((host, _)) = value.split_once('/') {
        if domain(host).is_ok() || ip(host).is_ok() {
            return Some(ObservableKind::Url);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObservableKind::*;

    fn norm(kind: ObservableKind, raw: &str) -> String {
        match normalize(kind, raw) {
            Ok(value) => value,
            Err(error) => panic!("{raw:?} as {kind:?}: {error}"),
        }
    }

    #[test]
    fn refang_undoes_the_usual_defanging() {
        assert_eq!(
            refang("hxxps://evil[.]example[:]8080/a"),
            "https://evil.example:8080/a"
        );
        assert_eq!(
            refang("  hXXp://evil(.)example{.}org  "),
            "http://evil.example.org"
        );
        assert_eq!(refang("fxp://files[dot]example"), "ftp://files.example");
        assert_eq!(refang("user[at]evil[.]example"), "user@evil.example");
        assert_eq!(refang("user[@]evil.example"), "user@evil.example");
        assert_eq!(refang("http[://]evil.example"), "http://evil.example");
        assert_eq!(refang("203[.]0[.]113[.]7"), "203.0.113.7");
        assert!(matches!(
            refang(" plain.example "),
            Cow::Borrowed("plain.example")
        ));
        // Not at the start: a word containing "hxxp" is left alone.
        assert_eq!(refang("ahxxp"), "ahxxp");
    }

    #[test]
    fn hashes_are_lower_case_hex_of_their_length() {
        assert_eq!(
            norm(Md5, " 001DD76872D80801692FF942308C64E6 "),
            "001dd76872d80801692ff942308c64e6"
        );
        assert_eq!(norm(Sha1, &"A".repeat(40)), "a".repeat(40));
        assert_eq!(norm(Sha256, &"0".repeat(64)), "0".repeat(64));
        assert_eq!(norm(Sha512, &"f".repeat(128)), "f".repeat(128));
        assert!(normalize(Md5, &"0".repeat(31)).is_err());
        assert!(normalize(Sha256, &"g".repeat(64)).is_err());
        assert!(normalize(Sha1, &"0".repeat(64)).is_err());
    }

    #[test]
    fn ips_and_networks_are_canonical() {
        assert_eq!(norm(Ip, "203.0.113.7"), "203.0.113.7");
        assert_eq!(norm(Ip, "203[.]0[.]113[.]7"), "203.0.113.7");
        assert_eq!(norm(Ip, "203.0.113.7/32"), "203.0.113.7");
        assert_eq!(norm(Ip, "223.166.1.2/15"), "223.166.0.0/15");
        assert_eq!(norm(Ip, "2001:DB8:0:0::1"), "2001:db8::1");
        assert_eq!(norm(Ip, "2001:db8::1/128"), "2001:db8::1");
        assert_eq!(norm(Ip, "2001:db8::1/32"), "2001:db8::/32");
        assert!(normalize(Ip, "999.1.1.1").is_err());
        assert!(normalize(Ip, "10.0.0.0/33").is_err());
        assert!(normalize(Ip, "evil.example").is_err());
    }

    #[test]
    fn domains_are_lower_case_valid_names() {
        assert_eq!(norm(Domain, "Evil[.]Example."), "evil.example");
        assert_eq!(norm(Domain, "*.evil.example"), "evil.example");
        assert_eq!(norm(Domain, "_dmarc.evil.example"), "_dmarc.evil.example");
        assert!(normalize(Domain, "localhost").is_err());
        assert!(normalize(Domain, "203.0.113.7").is_err());
        assert!(normalize(Domain, "evil..example").is_err());
        assert!(normalize(Domain, "-evil.example").is_err());
        assert!(normalize(Domain, "evil example.com").is_err());
        assert!(normalize(Domain, &format!("{}.example", "a".repeat(64))).is_err());
    }

    #[test]
    fn urls_have_scheme_and_host_lower_cased() {
        assert_eq!(
            norm(Url, "hxxps://User@EVIL[.]Example:8080/Gate.PHP?Q=1"),
            "https://User@evil.example:8080/Gate.PHP?Q=1"
        );
        assert_eq!(norm(Url, "Evil.Example/Path"), "evil.example/Path");
        assert!(normalize(Url, "http:///path").is_err());
        assert!(normalize(Url, "http://evil.example/a b").is_err());
    }

    #[test]
    fn emails_registry_keys_files_and_command_lines() {
        assert_eq!(
            norm(Email, "Bad.Guy[at]Evil[.]Example"),
            "bad.guy@evil.example"
        );
        assert_eq!(norm(Email, "mailto:a@b.example"), "a@b.example");
        assert!(normalize(Email, "nobody").is_err());
        assert_eq!(
            norm(
                RegistryKey,
                r"HKLM\Software\\Microsoft\Windows\CurrentVersion\Run\"
            ),
            r"hkey_local_machine\software\microsoft\windows\currentversion\run"
        );
        assert_eq!(
            norm(RegistryKey, r"\REGISTRY\MACHINE\SYSTEM\CurrentControlSet"),
            r"hkey_local_machine\system\currentcontrolset"
        );
        assert_eq!(norm(RegistryKey, r"HKCU"), "hkey_current_user");
        // A key that merely starts with the letters of a hive is not that hive.
        assert_eq!(norm(RegistryKey, r"HKUX\a"), r"hkux\a");
        assert_eq!(norm(FileName, r"C:\Windows\Temp\EVIL.dll"), "evil.dll");
        assert_eq!(norm(FileName, "/tmp/x/payload.sh"), "payload.sh");
        assert!(normalize(FileName, r"C:\Windows\").is_err());
        assert_eq!(
            norm(CommandLine, "  CMD.exe /c whoami  "),
            "cmd.exe /c whoami"
        );
        // Command lines are not refanged: `[.]` may be what the attacker typed.
        assert_eq!(norm(CommandLine, "echo a[.]b"), "echo a[.]b");
    }

    #[test]
    fn kinds_are_detected_from_values() {
        assert_eq!(detect_kind(&"a".repeat(32)), Some(Md5));
        assert_eq!(detect_kind(&"a".repeat(40)), Some(Sha1));
        assert_eq!(detect_kind(&"a".repeat(64)), Some(Sha256));
        assert_eq!(detect_kind(&"a".repeat(128)), Some(Sha512));
        assert_eq!(detect_kind("203.0.113.0/24"), Some(Ip));
        assert_eq!(detect_kind("2001:db8::1"), Some(Ip));
        assert_eq!(detect_kind("hxxp://evil[.]example/a"), Some(Url));
        assert_eq!(detect_kind("evil.example/gate.php"), Some(Url));
        assert_eq!(detect_kind("a[at]evil.example"), Some(Email));
        assert_eq!(detect_kind("evil[.]example"), Some(Domain));
        assert_eq!(detect_kind("not a value"), None);
        assert_eq!(detect_kind(&"a".repeat(33)), None);
    }
}
