//! The write side over HTTP: every `POST`/`PUT`/`PATCH`/`DELETE` of the API, turned into commands on the
//! `CommandBus`, plus login and token issue.
//!
//! # Layout
//!
//! - [`state`]: what the handlers share.
//! - [`error`]: `ApiError`, mapping refusals and failures to problem+json.
//! - [`extract`]: `AppJson`, `IfMatch`, and the metadata each command carries.
//! - [`idempotency`]: the `Idempotency-Key` middleware.
//! - [`passwords`]: argon2id hashing off the async threads, a capped number at once, in pooled memory.
//! - [`auth`], [`products`], [`images`], [`promotions`], [`cart`], [`orders`]: one router per resource, each route documented by its
//!   handler's `#[utoipa::path]` and registered with `routes!`, so it cannot be served undocumented.
//! - [`usecases`]: the multi-step writes (checkout, registration) with typed errors, apart from HTTP: the handlers, `shop
//!   seed` and the benchmarks call them.
//! - [`openapi`]: the problem responses the handlers name, and what the middleware adds to the document.

pub mod auth;
pub mod cart;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod images;
pub mod openapi;
pub mod orders;
pub mod passwords;
pub mod products;
pub mod promotions;
pub mod state;
pub mod usecases;

use axum::Router;
use axum::middleware::from_fn_with_state;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

pub use state::CommandState;

/// Every write route whose answers `Idempotency-Key` keeps, with its documentation: what [`router`] serves
/// and [`document`] describes.
fn routes() -> OpenApiRouter<CommandState> {
    OpenApiRouter::with_openapi(openapi::Components::openapi())
        .merge(auth::router())
        .merge(products::router())
        .merge(images::router())
        .merge(cart::router())
        .merge(orders::router())
        .merge(promotions::router())
}

/// The write routes, relative to `/api/v1`.
pub fn router(state: CommandState) -> Router {
    let (kept, _) = routes().split_for_parts();
    let (login, _) = auth::login_router().split_for_parts();
    kept.route_layer(from_fn_with_state(
        state.clone(),
        idempotency::replay_or_record,
    ))
    .merge(login)
    .with_state(state)
}

/// The OpenAPI document of the write routes, relative to `/api/v1`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = routes().into_openapi();
    openapi::document_idempotency(&mut doc);
    doc.merge(auth::login_router().into_openapi());
    doc
}
