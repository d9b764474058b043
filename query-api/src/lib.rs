//! The read side over HTTP. Reads come from the read models in MongoDB and Redis and from the catalog's
//! in-process search index, never from the event store — except the audit endpoints, which show the log
//! itself.
//!
//! # Layout
//!
//! - [`state`]: what the handlers share.
//! - [`error`]: `ReadError`, every way a read fails, answered as problem+json.
//! - [`params`]: query-string parsing (unknown parameters ignored, wrong types 400) and pages.
//! - [`consistency`]: `X-Min-Position` / `min_position`: waiting for the read models to catch up.
//! - [`catalog`] (products and categories from the search index; its snapshot, which `shop replay`
//!   verifies), [`me`], [`cart`], [`orders`], [`notifications`]: one router per resource, each route
//!   documented by its handler's `#[utoipa::path]` and registered with `routes!`, so it cannot be served
//!   undocumented; the bodies are typed, so the document shows what is sent.
//! - [`audit`]: `GET /admin/events`, `GET /admin/streams/{type}/{id}`, `GET /admin/audit/verify`.
//! - [`openapi`]: the problem responses the handlers name, and money as the reads show it.

pub mod audit;
pub mod cart;
pub mod catalog;
pub mod consistency;
pub mod error;
pub mod me;
pub mod notifications;
pub mod openapi;
pub mod orders;
pub mod params;
pub mod promotions;
pub mod state;

use axum::Router;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

pub use state::QueryState;

/// Every read route with its documentation: what [`router`] serves and [`document`] describes.
fn routes() -> OpenApiRouter<QueryState> {
    OpenApiRouter::with_openapi(openapi::Components::openapi())
        .merge(audit::router())
        .merge(catalog::router())
        .merge(me::router())
        .merge(cart::router())
        .merge(orders::router())
        .merge(notifications::router())
        .merge(promotions::router())
}

/// The read routes, relative to `/api/v1`.
pub fn router(state: QueryState) -> Router {
    let (router, _) = routes().split_for_parts();
    router.with_state(state)
}

/// The OpenAPI document of the read routes, relative to `/api/v1`.
pub fn document() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}
