//! The read side over HTTP. Reads come from the read models in MongoDB and Redis, never from the event
//! store — except the audit endpoints, which show the log itself.
//!
//! # Layout
//!
//! - [`state`]: what the handlers share.
//! - [`params`]: query-string parsing (unknown parameters ignored, wrong types 400).
//! - [`consistency`]: `X-Min-Position` / `min_position`: waiting for the read models to catch up.
//! - [`catalog`], [`me`], [`cart`], [`orders`], [`notifications`]: one router per resource.
//! - [`audit`]: `GET /admin/events`, `GET /admin/streams/{type}/{id}`, `GET /admin/audit/verify`.

pub mod audit;
pub mod cart;
pub mod catalog;
pub mod consistency;
pub mod me;
pub mod notifications;
pub mod orders;
pub mod params;
pub mod state;

use axum::Router;

pub use state::QueryState;

/// The read routes, relative to `/api/v1`.
pub fn router(state: QueryState) -> Router {
    Router::new()
        .merge(audit::router())
        .merge(catalog::router())
        .merge(me::router())
        .merge(cart::router())
        .merge(orders::router())
        .merge(notifications::router())
        .with_state(state)
}
