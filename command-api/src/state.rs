//! What the write handlers share.

use std::sync::Arc;

use axum::extract::FromRef;
use domain::RuleViolation;
use eventstore::{CommandBus, CommandMetadata, IdempotencyStore, Stored, UniqueClaims};
use platform::auth::Authenticator;
use platform::rate_limit::RateLimiter;

use crate::error::ApiError;
use crate::extract::Written;
use crate::passwords::Hashing;
use crate::usecases::images::Images;

#[derive(Clone)]
pub struct CommandState {
    pub bus: Arc<CommandBus>,
    pub claims: UniqueClaims,
    pub idempotency: IdempotencyStore,
    pub auth: Authenticator,
    pub rate_limiter: RateLimiter,
    pub limits: Limits,
    /// The password hashes this process runs at once.
    pub hashing: Hashing,
    /// Image decoding, a capped number at once, and the media store.
    pub images: Images,
}

/// Rate limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failed logins per (email, client address) pair in a minute.
    pub login_failures_per_minute: u64,
    /// Failed logins per client address in a minute.
    pub login_failures_per_client_per_minute: u64,
    /// Failed logins of one email in a minute past which clients that failed on it are held back.
    pub login_email_brake_per_minute: u64,
    pub registrations_per_minute: u64,
}

impl CommandState {
    /// Runs a command on an existing aggregate and answers 202 with its id, position and version: what
    /// most write endpoints do once they have built their command.
    pub async fn accept<A>(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        expected_version: Option<u64>,
    ) -> Result<Written, ApiError>
    where
        A: Stored,
        A::Error: RuleViolation,
    {
        let executed = self
            .bus
            .execute::<A>(id, command, metadata, expected_version)
            .await?;
        Ok(Written::accepted(id, executed))
    }
}

impl FromRef<CommandState> for Authenticator {
    fn from_ref(state: &CommandState) -> Self {
        state.auth.clone()
    }
}
