//! API tokens: who may call the service, with which role.
//!
//! A token's secret is shown once, when it is created; the store keeps only its
//! SHA-256 digest, so a copy of the store file grants nothing. Secrets are 32 random
//! bytes from the operating system, base64url-encoded behind an `rmp_` prefix that
//! secret scanners and people can recognise.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Identifies a token in the store.
pub type TokenId = i64;

/// The prefix of every token secret.
pub const TOKEN_PREFIX: &str = "rmp_";

/// What a token's holder may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Read alerts, incidents, rules, coverage and knowledge.
    Viewer,
    /// A viewer who may also triage (state, verdict, assignee, tags, comments) and
    /// suppress.
    Analyst,
    /// Everything, including reloading rules.
    Admin,
    /// Send events, nothing else (for log shippers).
    IngestOnly,
}

impl Role {
    /// Every role, in the order listings show them.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Admin, Role::IngestOnly];

    /// The role's name, as the command line and the API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
            Role::IngestOnly => "ingest-only",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected viewer, analyst, admin or ingest-only)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownRole(text.chars().take(64).collect()))
    }
}

/// A token as the store keeps it: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Token id (for `token revoke`).
    pub id: TokenId,
    /// A name for people (`shipper-dc1`).
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked token verifies as nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last accepted, to the minute (`None`: never).
    pub last_used: Option<DateTime<Utc>>,
}

/// A new secret: `rmp_` + 32 random bytes in base64url without padding.
pub(crate) fn new_secret() -> std::result::Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The digest the store keeps of a secret, in lower-case hex.
pub(crate) fn secret_digest(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        use fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Whether `text` could be a secret this module made: the prefix and 43 base64url
/// characters. Anything else is refused before it is hashed or looked up.
pub(crate) fn plausible_secret(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_distinct_and_plausible() {
        let (a, b) = (
            new_secret().unwrap_or_default(),
            new_secret().unwrap_or_default(),
        );
        assert!(plausible_secret(&a), "{a}");
        assert_ne!(a, b);
        assert_eq!(secret_digest(&a).len(), 64);
        assert!(!plausible_secret("rmp_short"));
        assert!(!plausible_secret(&a.replace("rmp_", "xyz_")));
    }

    #[test]
    fn roles_parse_in_kebab_case() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("Ingest-Only".parse::<Role>(), Ok(Role::IngestOnly));
        assert!("root".parse::<Role>().is_err());
    }
}
