//! Which event fields each kind of observable is looked for in (Sigma field names, and
//! the ECS and web-log names JSON telemetry uses), case-insensitively.

/// What a field may hold, as a set of bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Roles(pub(crate) u16);

impl Roles {
    /// `ALGO=hex,ALGO=hex` (Sysmon `Hashes`) or one bare digest, kind by its length.
    pub(crate) const HASHES: Roles = Roles(1);
    /// An MD5 digest.
    pub(crate) const MD5: Roles = Roles(1 << 1);
    /// A SHA-1 digest.
    pub(crate) const SHA1: Roles = Roles(1 << 2);
    /// A SHA-256 digest.
    pub(crate) const SHA256: Roles = Roles(1 << 3);
    /// A SHA-512 digest.
    pub(crate) const SHA512: Roles = Roles(1 << 4);
    /// An import hash.
    pub(crate) const IMPHASH: Roles = Roles(1 << 5);
    /// An IP address (with a port, perhaps).
    pub(crate) const IP: Roles = Roles(1 << 6);
    /// A host name.
    pub(crate) const DOMAIN: Roles = Roles(1 << 7);
    /// A URL, or the path of one whose host is in `cs-host`.
    pub(crate) const URL: Roles = Roles(1 << 8);
    /// Free text with URLs and host names inside (command lines, scripts).
    pub(crate) const TEXT: Roles = Roles(1 << 9);
    /// A file path or name.
    pub(crate) const FILE: Roles = Roles(1 << 10);
    /// A registry key or value path.
    pub(crate) const REGISTRY: Roles = Roles(1 << 11);
    /// A whole process command line.
    pub(crate) const COMMAND: Roles = Roles(1 << 12);
    /// E-mail addresses.
    pub(crate) const EMAIL: Roles = Roles(1 << 13);

    pub(crate) const NONE: Roles = Roles(0);

    pub(crate) fn has(self, role: Roles) -> bool {
        self.0 & role.0 != 0
    }

    pub(crate) fn union(self, other: Roles) -> Roles {
        Roles(self.0 | other.0)
    }
}

/// The longest field name that has a role; longer names are passed over unread.
const LONGEST: usize = 40;

/// The roles of field `name`.
pub(crate) fn roles(name: &str) -> Roles {
    if name.len() > LONGEST || name.is_empty() {
        return Roles::NONE;
    }
    let mut buffer = [0u8; LONGEST];
    let lower = &mut buffer[..name.len()];
    lower.copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();
    let Ok(lower) = std::str::from_utf8(lower) else {
        return Roles::NONE;
    };
    let named = match lower {
        "hashes" | "hash" | "file.hash" | "process.hash" => Roles::HASHES,
        "md5" | "hash.md5" | "file.hash.md5" | "process.hash.md5" => Roles::MD5,
        "sha1" | "hash.sha1" | "file.hash.sha1" | "process.hash.sha1" => Roles::SHA1,
        "sha256" | "hash.sha256" | "file.hash.sha256" | "process.hash.sha256" => Roles::SHA256,
        "sha512" | "hash.sha512" | "file.hash.sha512" | "process.hash.sha512" => Roles::SHA512,
        "imphash" | "pe.imphash" | "file.pe.imphash" | "process.pe.imphash" => Roles::IMPHASH,
        "queryname"
        | "destinationhostname"
        | "sourcehostname"
        | "cs-host"
        | "s-computername"
        | "r-dns"
        | "url.domain"
        | "dns.question.name"
        | "destination.domain"
        | "source.domain"
        | "server.domain"
        | "query"
        | "dns_query" => Roles::DOMAIN,
        "url" | "url.original" | "url.full" | "cs(referer)" | "cs-referer" => {
            Roles::URL.union(Roles::TEXT)
        }
        "c-uri" | "cs-uri" | "cs-uri-stem" => Roles::URL,
        "commandline" | "process.command_line" => Roles::COMMAND.union(Roles::TEXT),
        "parentcommandline"
        | "process.parent.command_line"
        | "scriptblocktext"
        | "payload"
        | "contextinfo" => Roles::TEXT,
        "image"
        | "targetfilename"
        | "imageloaded"
        | "originalfilename"
        | "parentimage"
        | "sourceimage"
        | "targetimage"
        | "newprocessname"
        | "parentprocessname"
        | "file.name"
        | "file.path"
        | "process.executable"
        | "process.name"
        | "process.parent.executable"
        | "process.parent.name"
        | "dll.path"
        | "dll.name" => Roles::FILE,
        "targetobject" | "objectname" | "registry.path" | "registry.key" => Roles::REGISTRY,
        "sender"
        | "recipient"
        | "recipients"
        | "from"
        | "to"
        | "cc"
        | "mailfrom"
        | "rcptto"
        | "senderaddress"
        | "recipientaddress"
        | "sender_address"
        | "recipient_address"
        | "email.from.address"
        | "email.to.address"
        | "email.sender.address" => Roles::EMAIL,
        _ => Roles::NONE,
    };
    // Addresses: `DestinationIp`, `SourceIp`, `src_ip`, `c-ip`, `IpAddress`,
    // `ClientAddress`, Security 5156's `DestAddress`, ECS `source.ip`.
    let address = (lower.ends_with("ip") && !lower.ends_with("ship"))
        || lower.ends_with("address")
        || lower.ends_with("addr");
    if address {
        named.union(Roles::IP)
    } else {
        named
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_and_ecs_names() {
        assert!(roles("Hashes").has(Roles::HASHES));
        assert!(roles("file.hash.sha256").has(Roles::SHA256));
        for name in [
            "DestinationIp",
            "SourceIp",
            "IpAddress",
            "ClientAddress",
            "src_ip",
            "destination.ip",
            "c-ip",
            "DestAddress",
        ] {
            assert!(roles(name).has(Roles::IP), "{name}");
        }
        assert!(roles("QueryName").has(Roles::DOMAIN));
        assert!(roles("CommandLine").has(Roles::COMMAND));
        assert!(roles("CommandLine").has(Roles::TEXT));
        assert!(roles("TargetObject").has(Roles::REGISTRY));
        assert!(roles("Image").has(Roles::FILE));
        assert_eq!(roles("EventID"), Roles::NONE);
        assert_eq!(roles("Relationship"), Roles::NONE);
    }
}
