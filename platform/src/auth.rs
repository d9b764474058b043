//! The `AuthUser` extractor: a verified, not revoked token, sent as `Authorization: Bearer` or, by the
//! storefront, in the HttpOnly session cookie (docs/adr/0015).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::problem::{Problem, ProblemCode};
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
                ProblemCode::Forbidden,
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

/// The cookie the storefront's session travels in: HttpOnly, so that no script in the page can read the
/// token, and SameSite=Strict, so that no other site's page sends it.
pub const SESSION_COOKIE: &str = "shop_session";
/// The header a write authenticated by the session cookie must carry: a cross-site form cannot send it, and
/// a cross-site script may only after a CORS preflight that names the shop's allowed origins.
pub const CSRF_HEADER: &str = "x-requested-with";

/// How a request proves who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// The session cookie.
    Cookie(&'a str),
}

impl<'a> Credential<'a> {
    /// The request's credential: its `Authorization` header when it has one (a malformed one is none: it is
    /// not silently replaced by the cookie), else the session cookie.
    pub fn of(headers: &'a HeaderMap) -> Option<Self> {
        if let Some(authorization) = headers.get(AUTHORIZATION) {
            return authorization
                .to_str()
                .ok()
                .and_then(bearer_token)
                .map(Credential::Bearer);
        }
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, token)| *name == SESSION_COOKIE && !token.is_empty())
            .map(|(_, token)| Credential::Cookie(token))
    }

    pub fn token(self) -> &'a str {
        match self {
            Self::Bearer(token) | Self::Cookie(token) => token,
        }
    }
}

/// The `Set-Cookie` value that keeps `token` as the session for `max_age_seconds`.
pub fn session_cookie(token: &str, max_age_seconds: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/api/v1; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_seconds}"
    ))
    .expect("a JWT is a valid cookie value")
}

/// The `Set-Cookie` value that ends the session in the browser.
pub fn session_cookie_cleared() -> HeaderValue {
    HeaderValue::from_static(
        "shop_session=; Path=/api/v1; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
    )
}

fn unauthorized(detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, ProblemCode::Unauthorized, detail)
}

impl Authenticator {
    /// Checks a request's credential ([`Credential::of`]). A write authenticated by the session cookie must
    /// carry [`CSRF_HEADER`] (403 otherwise).
    pub async fn authenticate(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<AuthUser, Problem> {
        let credential = Credential::of(headers).ok_or_else(|| {
            unauthorized("Send a bearer token (Authorization: Bearer <token>) or log in.")
        })?;
        if matches!(credential, Credential::Cookie(_))
            && !method.is_safe()
            && headers.get(CSRF_HEADER).is_none_or(|v| v.is_empty())
        {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                ProblemCode::CsrfHeaderMissing,
                "A write authenticated by the session cookie must carry an X-Requested-With header.",
            ));
        }
        self.verify(credential.token()).await
    }

    /// Checks a token: signature, issuer, expiry, deny-list and role.
    async fn verify(&self, token: &str) -> Result<AuthUser, Problem> {
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
        let user = Authenticator::from_ref(state)
            .authenticate(&parts.method, &parts.headers)
            .await?;
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

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn it_should_take_the_authorization_header_before_the_session_cookie() {
        let both = headers(&[
            ("authorization", "Bearer abc"),
            ("cookie", "shop_session=xyz"),
        ]);
        assert_eq!(Credential::of(&both), Some(Credential::Bearer("abc")));
        let cookie = headers(&[("cookie", "theme=dark; shop_session=xyz; lang=de")]);
        assert_eq!(Credential::of(&cookie), Some(Credential::Cookie("xyz")));
        let malformed = headers(&[
            ("authorization", "Basic abc"),
            ("cookie", "shop_session=xyz"),
        ]);
        assert_eq!(Credential::of(&malformed), None);
        for none in [
            headers(&[]),
            headers(&[("cookie", "shop_session=")]),
            headers(&[("cookie", "other_session=xyz")]),
        ] {
            assert_eq!(Credential::of(&none), None);
        }
    }
}
