//! Registration, login, logout and `PATCH /me`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::user::{User, UserCommand};
use domain::{Email, Role, UserId};
use eventstore::CommandBus;
use eventstore::claims::ClaimKind;
use platform::auth::{AuthUser, session_cookie, session_cookie_cleared};
use platform::rate_limit::{Limited, RateError, RateLimiter, Slot};
use platform::{Problem, ProblemCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{AppJson, ClientAddr, IfMatch, RequestMeta, Written, WrittenBody};
use crate::openapi::{
    BadRequest, Conflict, NotFound, PayloadTooLarge, PreconditionFailed, TooManyRequests,
    Unauthorized, Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::passwords::Busy;
use crate::state::CommandState;
use crate::usecases::registration::{self, NewUser, RegistrationError};

pub fn router() -> OpenApiRouter<CommandState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(logout))
        .routes(routes!(rename))
}

/// `POST /auth/login`, apart: its answer carries a token, so `Idempotency-Key` never keeps it.
pub fn login_router() -> OpenApiRouter<CommandState> {
    OpenApiRouter::new().routes(routes!(login))
}

/// A new customer account.
#[derive(Deserialize, ToSchema)]
pub struct Registration {
    /// Stored lower-case; one account per address.
    #[serde(default)]
    #[schema(required = true, format = Email, example = "ada@example.com")]
    email: String,
    #[serde(default)]
    #[schema(required = true, min_length = 8, max_length = 128)]
    password: String,
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 1,
        max_length = 200,
        example = "Ada Lovelace"
    )]
    name: String,
}

// Passwords and tokens never reach a log line, not even through `{:?}`.
impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field("name", &self.name)
            .finish()
    }
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"[redacted]")
            .field("user_id", &self.user_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// Checks every field and reports all problems at once.
    pub fn parse(self) -> Result<NewUser, ApiError> {
        NewUser::parse(&self.email, self.password, &self.name).map_err(ApiError::Validation)
    }
}

fn rate_limited(error: RateError) -> ApiError {
    match error {
        RateError::Limited(limited) => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            "Too many attempts; wait a minute and try again.",
        )
        .with_retry_after(limited.retry_after)
        .into(),
        RateError::Unavailable(e) => ApiError::Unavailable {
            what: "rate limiter",
            cause: e.to_string(),
        },
    }
}

/// Registers a customer.
#[utoipa::path(
    post,
    path = "/auth/register",
    operation_id = "register",
    tag = "auth",
    request_body = Registration,
    responses(
        (status = 201, description = "The account exists", body = WrittenBody,
            headers(("ETag" = String, description = "The user's version"))),
        BadRequest, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, TooManyRequests,
        Unavailable,
    )
)]
async fn register(
    State(state): State<CommandState>,
    ClientAddr(client): ClientAddr,
    meta: RequestMeta,
    AppJson(body): AppJson<Registration>,
) -> Result<Written, ApiError> {
    state
        .rate_limiter
        .hit(
            &format!("register:{client}"),
            state.limits.registrations_per_minute,
        )
        .await
        .map_err(rate_limited)?;
    let user = body.parse()?;
    let user_id = UserId::new(Uuid::now_v7());
    let executed =
        registration::register(&state, user, Role::Customer, user_id, &meta.anonymous()).await?;
    Ok(Written::created(user_id, executed))
}

impl From<RegistrationError> for ApiError {
    fn from(error: RegistrationError) -> Self {
        match error {
            RegistrationError::EmailTaken(taken) => ApiError::rule(&taken),
            RegistrationError::Busy => busy(),
            RegistrationError::Hash(cause) => ApiError::internal(cause),
            RegistrationError::Claims(error) => error.into(),
            RegistrationError::User(error) => error.into(),
            RegistrationError::Commit(error) => error.into(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct Login {
    #[serde(default)]
    #[schema(required = true, format = Email)]
    email: String,
    #[serde(default)]
    #[schema(required = true)]
    password: String,
}

/// A bearer token for `Authorization: Bearer <access_token>`.
#[derive(Serialize, ToSchema)]
struct TokenAnswer {
    /// A JWT (HS256) naming the user and their role.
    access_token: String,
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: u64,
    user_id: String,
    /// `customer` or `admin`.
    #[schema(value_type = String, example = "customer")]
    role: &'static str,
}

/// Exchanges an email and password for a token. A wrong email and a wrong password get the same answer.
///
/// Limits (429 with `Retry-After`): more than 10 failures a minute for one (email, client address) pair, or
/// 30 for one client address; once an email has failed 100 times in a minute from anywhere, a client that
/// has already failed on it is held back, while a client that has not still logs in. Attempts are counted
/// before the password is checked, so a burst cannot slip past them. When every password check this
/// instance runs at once is busy, the answer is 429 `busy` with `Retry-After: 1`. The client address is the
/// TCP peer, or behind a proxy listed in `SHOP_TRUSTED_PROXIES` the right-most untrusted address of
/// `X-Forwarded-For`. `Idempotency-Key` is not kept for logins: an answer that carries a token is never
/// stored, and a retried login checks the password again.
#[utoipa::path(
    post,
    path = "/auth/login",
    operation_id = "login",
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "The token; also set as the storefront's session cookie", body = TokenAnswer,
            headers(("Set-Cookie" = String, description = "`shop_session=<token>; Path=/api/v1; HttpOnly; Secure; SameSite=Strict; Max-Age=<expires_in>`"))),
        BadRequest, Unauthorized, PayloadTooLarge, UnsupportedMediaType, TooManyRequests, Unavailable,
    )
)]
async fn login(
    State(state): State<CommandState>,
    ClientAddr(client): ClientAddr,
    AppJson(body): AppJson<Login>,
) -> Result<Response, ApiError> {
    // Spelled as registration stores it (NFC, lower-case); what is no address at all finds nobody and
    // still counts as a failure.
    let email = Email::parse(&body.email).map_or_else(
        |_| body.email.trim().to_lowercase(),
        |email| email.as_str().to_owned(),
    );
    let limits = state.limits;
    let limiter = &state.rate_limiter;
    let pair = format!("login:pair:{email}:{client}");
    let from_client = format!("login:client:{client}");
    let of_email = format!("login:email:{email}");

    // The per-email brake: once the email has failed too often from anywhere, a client that has already
    // failed on it waits; one that has not still gets in (API.md: no stranger can lock the owner out).
    if limiter.count(&of_email).await.map_err(rate_limited)? >= limits.login_email_brake_per_minute
        && limiter.count(&pair).await.map_err(rate_limited)? > 0
    {
        return Err(rate_limited(RateError::Limited(Limited {
            retry_after: 60,
        })));
    }
    // Every attempt takes its slots before the costly check, in one atomic step each, so a burst sent at
    // once cannot pass a check made before any of them was counted. A login that succeeds gives them back:
    // the limits count failures.
    let pair_slot = limiter
        .reserve(&pair, limits.login_failures_per_minute)
        .await
        .map_err(rate_limited)?;
    let client_slot = match limiter
        .reserve(&from_client, limits.login_failures_per_client_per_minute)
        .await
    {
        Ok(slot) => slot,
        Err(error) => {
            limiter.give_back(pair_slot).await.map_err(rate_limited)?;
            return Err(rate_limited(error));
        }
    };
    let slots = [pair_slot, client_slot];

    let user = find_user(&state.bus, &state.claims, &email).await?;
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash())
        .map(|h| h.as_str().to_owned());
    let valid = match state.hashing.verify(body.password, hash).await {
        Ok(valid) => valid,
        Err(Busy) => {
            give_back(limiter, slots).await?;
            return Err(busy());
        }
    };
    let Some(user) = user.filter(|_| valid) else {
        limiter.record(&of_email).await.map_err(rate_limited)?;
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            ProblemCode::InvalidCredentials,
            "The email or the password is wrong.",
        )
        .into());
    };
    give_back(limiter, slots).await?;
    let role = user.role().unwrap_or(Role::Customer);
    let user_id = user.id().map(|id| id.to_string()).unwrap_or_default();
    let (token, _) = state
        .auth
        .tokens
        .issue(&user_id, role.as_str(), Utc::now())
        .map_err(ApiError::internal)?;
    let expires_in = state.auth.tokens.ttl().as_secs();
    let cookie = session_cookie(&token, expires_in);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(TokenAnswer {
            access_token: token,
            token_type: "Bearer",
            expires_in,
            user_id,
            role: role.as_str(),
        }),
    )
        .into_response())
}

/// Gives back the slots of an attempt that does not count (it succeeded, or it was never checked).
async fn give_back(limiter: &RateLimiter, slots: [Slot; 2]) -> Result<(), ApiError> {
    for slot in slots {
        limiter.give_back(slot).await.map_err(rate_limited)?;
    }
    Ok(())
}

/// Every password check this process allows at once is running: 429, to be tried again in a second.
fn busy() -> ApiError {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        ProblemCode::Busy,
        "Too many password checks at once; try again in a second.",
    )
    .with_retry_after(1)
    .into()
}

/// The registered user with this email, if any.
async fn find_user(
    bus: &CommandBus,
    claims: &eventstore::UniqueClaims,
    email: &str,
) -> Result<Option<User>, ApiError> {
    let Some(owner) = claims.owner(ClaimKind::Email, email).await? else {
        return Ok(None);
    };
    let (user, _) = bus.load::<User>(&owner).await?;
    Ok(user.is_registered().then_some(user))
}

/// Revokes the token the request carries (bearer or session cookie), on every instance, and clears the
/// session cookie.
#[utoipa::path(
    post,
    path = "/auth/logout",
    operation_id = "logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token is refused from now on",
            headers(("Set-Cookie" = String, description = "Clears the session cookie (`Max-Age=0`)"))),
        Unauthorized, Unavailable,
    )
)]
async fn logout(State(state): State<CommandState>, user: AuthUser) -> Result<Response, ApiError> {
    state
        .auth
        .deny_list
        .deny(&user.claims, Utc::now())
        .await
        .map_err(|e| ApiError::Unavailable {
            what: "session store",
            cause: e.to_string(),
        })?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie_cleared())],
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
struct Rename {
    #[schema(example = "Ada King")]
    name: String,
}

/// Changes the caller's name.
#[utoipa::path(
    patch,
    path = "/me",
    operation_id = "update_me",
    tag = "auth",
    security(("bearer" = [])),
    params(IfMatch),
    request_body = Rename,
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The user's new version"))),
        BadRequest, Unauthorized, NotFound, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable,
    )
)]

async fn rename(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    AppJson(body): AppJson<Rename>,
) -> Result<Written, ApiError> {
    let command = UserCommand::Rename {
        name: body.name,
        at: Utc::now(),
    };
    state
        .accept::<User>(&user.user_id, command, &meta.by(&user), version)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_keep_passwords_and_tokens_out_of_debug_output() {
        let registration: Registration = serde_json::from_value(serde_json::json!(
            {"email": "ada@example.com", "password": "hunter2-hunter2", "name": "Ada"}
        ))
        .unwrap();
        let login: Login = serde_json::from_value(serde_json::json!(
            {"email": "ada@example.com", "password": "hunter2-hunter2"}
        ))
        .unwrap();
        let answer = TokenAnswer {
            access_token: "eyJ.secret.token".to_owned(),
            token_type: "Bearer",
            expires_in: 3600,
            user_id: "u1".to_owned(),
            role: "customer",
        };
        for shown in [
            format!("{registration:?}"),
            format!("{login:?}"),
            format!("{answer:?}"),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(!shown.contains("secret.token"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
    }
}
