//! What the write handlers share.

use std::sync::Arc;

use axum::extract::FromRef;
use eventstore::{CommandBus, IdempotencyStore, UniqueClaims};
use platform::auth::Authenticator;
use platform::rate_limit::RateLimiter;

#[derive(Clone)]
pub struct CommandState {
    pub bus: Arc<CommandBus>,
    pub claims: UniqueClaims,
    pub idempotency: IdempotencyStore,
    pub auth: Authenticator,
    pub rate_limiter: RateLimiter,
    pub limits: Limits,
}

/// Rate limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub login_failures_per_minute: u64,
    pub registrations_per_minute: u64,
}

impl FromRef<CommandState> for Authenticator {
    fn from_ref(state: &CommandState) -> Self {
        state.auth.clone()
    }
}
