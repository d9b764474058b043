//! What the read handlers share.

use std::sync::Arc;

use axum::extract::FromRef;
use eventstore::Feed;
use eventstore::db::PgPool;
use platform::auth::Authenticator;
use projectors::search::CatalogIndex;
use projectors::store::query::ReadModels;

#[derive(Clone)]
pub struct QueryState {
    /// The event store, for the audit endpoints only.
    pub feed: Feed,
    pub pool: PgPool,
    /// Behind an `Arc`: the state is cloned for every request.
    pub models: Arc<ReadModels>,
    /// The catalog's search index, held by this process (listing, search, categories).
    pub catalog: CatalogIndex,
    pub auth: Authenticator,
}

impl FromRef<QueryState> for Authenticator {
    fn from_ref(state: &QueryState) -> Self {
        state.auth.clone()
    }
}
