//! Who is calling: bearer tokens checked against the store, and what each role may do.
//!
//! A request carries `Authorization: Bearer <secret>` (log shippers that only speak
//! HTTP basic authentication may send the secret as the password, any user name). The
//! store keeps only the secret's hash; a verified token is cached for
//! [`crate::Limits::token_cache`] (keyed by the secret's SHA-256, never the secret)
//! and only while the store's token generation (how many tokens were ever revoked) is
//! the one it was verified at. That generation is read on every request, on a store
//! connection of its own (one small read, never queued behind a listing), so a token
//! revoked by any process (`rampart token revoke`) fails its very next request. No
//! token or an unknown one is 401; a role without the right is 403.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use rampart_store::Store;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use rampart_store::{Role, TokenInfo};

/// What a request wants to do; each role allows some of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Permission {
    /// Send events (`/api/v1/events`, `_bulk`).
    Ingest,
    /// Read alerts, incidents, rules, coverage, knowledge, metrics.
    Read,
    /// Change triage state, comment, suppress.
    Triage,
    /// Reload rules, manage the service.
    Admin,
}

impl Permission {
    /// What it is, for a 403's message.
    pub fn action(self) -> &'static str {
        match self {
            Permission::Ingest => "send events",
            Permission::Read => "read",
            Permission::Triage => "triage",
            Permission::Admin => "administer the service",
        }
    }
}

/// Whether `role` may do what `permission` names. Admins may do everything; analysts
/// read and triage; viewers read; ingest-only tokens only send events.
pub fn allows(role: Role, permission: Permission) -> bool {
    match role {
        Role::Admin => true,
        Role::Analyst => matches!(permission, Permission::Read | Permission::Triage),
        Role::Viewer => permission == Permission::Read,
        Role::IngestOnly => permission == Permission::Ingest,
    }
}

/// The verified caller of a request (an extractor: a handler that takes a `Caller`
/// answers 401 without a valid token).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token, as the store describes it.
    pub token: TokenInfo,
}

impl Caller {
    /// The caller's role.
    pub fn role(&self) -> Role {
        self.token.role
    }

    /// Who did it, for audit records: the token's name and id.
    pub fn actor(&self) -> String {
        format!("{} (token {})", self.token.name, self.token.id)
    }

    /// `Ok` when the caller's role allows `permission`, else 403.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if allows(self.token.role, permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                role: self.token.role.as_str(),
                action: permission.action(),
            })
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = secret(parts).ok_or(ApiError::Unauthorized)?;
        let token = state.tokens.verify(&state.auth_store, secret).await?;
        Ok(Caller { token })
    }
}

/// The secret a request carries: a bearer token, or the password of basic auth.
fn secret(parts: &Parts) -> Option<String> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, value) = header.split_once(' ')?;
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!value.is_empty()).then(|| value.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_, password) = text.split_once(':')?;
        return (!password.is_empty()).then(|| password.to_string());
    }
    None
}

/// Tokens verified recently, by the SHA-256 of their secret, each with when and at
/// which token generation.
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], Verified>>,
}

#[derive(Clone)]
struct Verified {
    token: TokenInfo,
    at: Instant,
    generation: u64,
}

/// Entries kept at most; past it the cache starts again empty (a flood of bad
/// tokens is never cached, good ones are few).
const CACHE_ENTRIES: usize = 4096;

impl TokenCache {
    /// An empty cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The token `secret` belongs to, from the cache or the store; 401 when none. The
    /// store's token generation is read every time (on `store`, the connection kept
    /// for this): a cached token counts only if no token was revoked since.
    pub async fn verify(
        &self,
        store: &Arc<Mutex<Box<dyn Store>>>,
        secret: String,
    ) -> Result<TokenInfo, ApiError> {
        let key: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let cached = self.cached(&key);
        let store = store.clone();
        let (generation, token) = tokio::task::spawn_blocking(move || {
            let store = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let generation = store.token_generation()?;
            match cached {
                Some(hit) if hit.generation == generation => Ok((generation, Some(hit.token))),
                _ => Ok((generation, store.verify_token(&secret)?)),
            }
        })
        .await
        .map_err(|error| ApiError::Internal(format!("token check failed: {error}")))?
        .map_err(|error: rampart_store::StoreError| ApiError::internal(&error))?;
        let token = token.ok_or(ApiError::Unauthorized)?;
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= CACHE_ENTRIES {
            entries.clear();
        }
        let fresh = entries
            .get(&key)
            .is_some_and(|entry| entry.generation == generation);
        if !fresh {
            entries.insert(
                key,
                Verified {
                    token: token.clone(),
                    at: Instant::now(),
                    generation,
                },
            );
        }
        Ok(token)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Verified> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match entries.get(key) {
            Some(entry) if entry.at.elapsed() < self.ttl => Some(entry.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }
}
