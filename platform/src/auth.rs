//! The `AuthUser` extractor: a verified, not revoked bearer token.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::problem::Problem;
use crate::tokens::{Claims, DenyList, TokenError, TokenService};

/// Everything needed to authenticate a request; part of each HTTP crate's state. Cloned for every request
/// that authenticates, hence the `Arc`s.
#[derive(Clone)]
pub struct Authenticator {
    pub tokens: Arc<TokenService>,
    pub deny_list: Arc<DenyList>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Customer,
    Admin,
}

/// The caller, proven by a bearer token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub role: Role,
    pub claims: Claims,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Refuses anyone but an administrator with 403.
    pub fn require_admin(&self) -> Result<(), Problem> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Only an administrator may do this.",
            ))
        }
    }
}

/// The token of an `Authorization: Bearer <token>` value; the scheme is case-insensitive (RFC 9110).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn unauthorized(detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
}

impl Authenticator {
    /// Checks a raw `Authorization` header value.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<AuthUser, Problem> {
        let token = header
            .and_then(bearer_token)
            .ok_or_else(|| unauthorized("Send a bearer token: Authorization: Bearer <token>."))?;
        let claims = self
            .tokens
            .verify(token)
            .map_err(|_| unauthorized("The token is invalid or has expired; log in again."))?;
        match self.deny_list.is_denied(&claims.jti).await {
            Ok(false) => {}
            Ok(true) => return Err(unauthorized("The token was logged out; log in again.")),
            Err(TokenError::Unavailable(e)) => {
                tracing::error!(error = %e, "token deny-list unreachable");
                return Err(Problem::unavailable("session store"));
            }
            Err(_) => return Err(unauthorized("The token is invalid.")),
        }
        let role = match claims.role.as_str() {
            "admin" => Role::Admin,
            "customer" => Role::Customer,
            _ => return Err(unauthorized("The token names an unknown role.")),
        };
        Ok(AuthUser {
            user_id: claims.sub.clone(),
            role,
            claims,
        })
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let user = Authenticator::from_ref(state).authenticate(header).await?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_read_the_bearer_scheme_in_any_case() {
        for header in ["Bearer abc", "bearer abc", "BEARER abc", "  bEaReR   abc "] {
            assert_eq!(bearer_token(header), Some("abc"), "{header:?}");
        }
        for header in ["Basic abc", "Bearer", "Bearer   ", "Bearerabc", ""] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }
}
