//! What the read handlers share.

use axum::extract::FromRef;
use eventstore::Feed;
use eventstore::db::PgPool;
use platform::auth::Authenticator;

#[derive(Clone)]
pub struct QueryState {
    pub feed: Feed,
    /// For the audit verification, which walks the whole store.
    pub pool: PgPool,
    pub auth: Authenticator,
}

impl FromRef<QueryState> for Authenticator {
    fn from_ref(state: &QueryState) -> Self {
        state.auth.clone()
    }
}
