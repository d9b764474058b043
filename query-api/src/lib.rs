//! The read side over HTTP. Reads come from read models, except the audit endpoints, which read the event
//! store itself because the log is what they show.
//!
//! # Layout
//!
//! - [`audit`]: `GET /admin/events`, `GET /admin/streams/{type}/{id}`, `GET /admin/audit/verify`.
//! - [`state`]: what the handlers share.

pub mod audit;
pub mod state;

use axum::Router;

pub use state::QueryState;

/// The read routes, relative to `/api/v1`.
pub fn router(state: QueryState) -> Router {
    Router::new().merge(audit::router()).with_state(state)
}
