//! The composition root: builds every role from [`platform::Settings`] and serves them, and the `shop` CLI's
//! commands.
//!
//! # Layout
//!
//! - [`startup`]: `Application::build(settings) → .port() → .run_until_stopped()`, split by job: `roles`
//!   (which parts a process plays), `stores` (what it opens), `http` (routes and layers), `workers` (its
//!   background work) and `reference` (the OpenAPI document and Swagger UI).
//! - [`health`]: the operations endpoints outside `/api/v1` — `/health/live`, `/health/ready` and `/metrics` —
//!   with their routes and OpenAPI docs.
//! - [`media`]: `/media/<key>`, product images' files from the media store, and the sweep of files no image
//!   names.
//! - [`cli`]: `migrate`, `user create`, `events show|tail`, `audit verify`, `dlq list|requeue`, `media sweep`.
//! - [`replay`]: `replay --all | --projector NAME [--verify]`; with `--instance URL`, a running instance's
//!   catalog index checked against one built from the feed.
//! - [`seed`]: `seed --products N --customers M --orders K [--if-empty] [--no-images]`.

pub mod cli;
pub mod health;
pub mod media;
pub mod replay;
pub mod seed;
pub mod startup;

pub use startup::{Application, Role, Roles};
