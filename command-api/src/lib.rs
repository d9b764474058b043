//! The write side over HTTP: every `POST`/`PUT`/`PATCH`/`DELETE` of the API, turned into commands on the
//! `CommandBus`, plus login and token issue.
//!
//! # Layout
//!
//! - [`state`]: what the handlers share.
//! - [`error`]: `ApiError`, mapping refusals and failures to problem+json.
//! - [`extract`]: `AppJson`, `IfMatch`, and the metadata each command carries.
//! - [`idempotency`]: the `Idempotency-Key` middleware.
//! - [`passwords`]: argon2id hashing off the async threads.
//! - [`auth`], [`products`], [`cart`], [`orders`]: one router per resource.

pub mod auth;
pub mod cart;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod orders;
pub mod passwords;
pub mod products;
pub mod state;

use axum::Router;
use axum::middleware::from_fn_with_state;

pub use state::CommandState;

/// The write routes, relative to `/api/v1`.
pub fn router(state: CommandState) -> Router {
    Router::new()
        .merge(auth::router())
        .merge(products::router())
        .merge(cart::router())
        .merge(orders::router())
        .route_layer(from_fn_with_state(
            state.clone(),
            idempotency::replay_or_record,
        ))
        .with_state(state)
}
