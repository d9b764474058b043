//! Access tokens: HS256 JWTs with `sub`, `role`, `exp`, `iat`, `jti`, `iss = "shop"`, and a deny-list in
//! Redis so that a token logged out on one instance is refused by all of them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::near_cache::{Lookup, NearCache, NearCacheError, Scope, Stamp};

const ISSUER: &str = "shop";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub iss: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is invalid or expired")]
    Invalid,
    #[error("the token has been revoked")]
    Revoked,
    #[error("the token deny-list cannot be reached")]
    Unavailable(#[source] redis::RedisError),
}

/// Signs and checks tokens with one shared secret.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Clock skew forgiven when a token's `exp` is checked. A deny-list entry outlives its token's `exp` by as
/// much, so that a revoked token is never accepted again within the leeway.
pub const LEEWAY_SECONDS: u64 = 5;

impl TokenService {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        validation.leeway = LEEWAY_SECONDS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(
        &self,
        user_id: &str,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Claims), TokenError> {
        let claims = Claims {
            sub: user_id.to_owned(),
            role: role.to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp() + self.ttl.as_secs() as i64,
            jti: Uuid::now_v7().to_string(),
            iss: ISSUER.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenError::Invalid)?;
        Ok((token, claims))
    }

    /// Checks signature, issuer and expiry (not the deny-list).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }
}

/// Revokes a token in one step: marks it, moves the deny-list's stamp and announces the change to every
/// instance's near cache (the announcement's format is `near_cache::announcement`'s).
const DENY_SCRIPT: &str = r"
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
local stamp = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], ARGV[3] .. '\n' .. stamp .. '\n' .. KEYS[1])
return stamp
";

/// How long a revoked token stays on the deny-list, in seconds: until it would fail the expiry check
/// anyway, leeway included.
fn deny_for(claims: &Claims, now: DateTime<Utc>) -> u64 {
    let left = claims.exp.saturating_sub(now.timestamp()).max(0) as u64;
    left.saturating_add(LEEWAY_SECONDS).max(1)
}

/// Revoked token ids, each kept until its token would have expired anyway. Every request asks it, so the
/// answers are kept in the near cache, which a logout on any instance reaches within one pub/sub hop.
#[derive(Clone)]
pub struct DenyList {
    redis: ConnectionManager,
    cache: NearCache,
    scope: Scope,
    deny: redis::Script,
}

impl DenyList {
    pub fn new(redis: ConnectionManager, cache: NearCache, prefix: &str) -> Self {
        Self {
            redis,
            cache,
            scope: Scope::new(format!("{prefix}denied"), format!("{prefix}denied:_stamp")),
            deny: redis::Script::new(DENY_SCRIPT),
        }
    }

    fn key(&self, jti: &str) -> String {
        format!("{}:{jti}", self.scope.name())
    }

    pub async fn deny(&self, claims: &Claims, now: DateTime<Utc>) -> Result<(), TokenError> {
        let ttl = deny_for(claims, now);
        let mut redis = self.redis.clone();
        let key = self.key(&claims.jti);
        let stamp: u64 = self
            .deny
            .key(&key)
            .key(self.scope.stamp_key())
            .arg(ttl)
            .arg(self.cache.channel())
            .arg(self.scope.name())
            .invoke_async(&mut redis)
            .await
            .map_err(TokenError::Unavailable)?;
        // This instance refuses the token from now on, whenever the announcement reaches it.
        self.cache
            .learn(self.scope.name(), Stamp::new(stamp, 0), [key.as_str()]);
        Ok(())
    }

    pub async fn is_denied(&self, jti: &str) -> Result<bool, TokenError> {
        let mut redis = self.redis.clone();
        let key = self.key(jti);
        let found = self
            .cache
            .get(
                &mut redis,
                &[Lookup {
                    scope: &self.scope,
                    key: &key,
                    // Only whether the key exists matters.
                    decode: |_| Ok(Arc::new(())),
                }],
                None,
            )
            .await
            .map_err(|error| match error {
                NearCacheError::Redis(error) => TokenError::Unavailable(error),
                NearCacheError::Undecodable { .. } => TokenError::Invalid,
            })?;
        Ok(found.first().is_some_and(Option::is_some))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(
            b"test-secret-test-secret-test-secret!",
            Duration::from_secs(60),
        )
    }

    #[test]
    fn it_should_verify_a_token_it_issued() {
        let (token, claims) = service().issue("u1", "admin", Utc::now()).unwrap();
        assert_eq!(service().verify(&token).unwrap(), claims);
        assert_eq!(claims.iss, "shop");
    }

    #[test]
    fn it_should_refuse_a_token_signed_with_another_secret() {
        let other = TokenService::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        let (token, _) = other.issue("u1", "admin", Utc::now()).unwrap();
        assert!(service().verify(&token).is_err());
    }

    #[test]
    fn it_should_refuse_an_expired_token() {
        let (token, _) = service()
            .issue("u1", "customer", Utc::now() - chrono::Duration::hours(2))
            .unwrap();
        assert!(service().verify(&token).is_err());
    }

    #[test]
    fn it_should_keep_a_revoked_token_denied_while_the_leeway_still_accepts_it() {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(service().ttl()).unwrap();
        for expires_in in [-3, 0, 2, 3600] {
            let issued = now - ttl + chrono::Duration::seconds(expires_in);
            let (_, claims) = service().issue("u1", "customer", issued).unwrap();
            let accepted_until = claims.exp + LEEWAY_SECONDS as i64;
            let denied_until = now.timestamp() + deny_for(&claims, now) as i64;
            assert!(
                denied_until >= accepted_until,
                "expiring in {expires_in} s: denied until {denied_until}, accepted until {accepted_until}"
            );
        }
    }
}
