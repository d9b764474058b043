//! The read side's writers: views built from the event feed into MongoDB and Redis, the runner that keeps
//! them up to date, replay, and the catalog's in-process search index.
//!
//! # Layout
//!
//! - [`view`]: the `View` trait — a pure `update` per event — and the version map that makes it idempotent.
//! - [`views`]: users, orders and notifications (MongoDB); product details, stock and carts (Redis); the
//!   catalog's documents, which only the search index holds.
//! - [`store`]: where view documents live, by generation, and the reads the query API makes.
//! - [`runner`]: a feed subscriber per view with a durable checkpoint, batching, wake-ups, lag metrics.
//! - [`replay`]: rebuild a view into a fresh generation and swap it in; verify against a shadow copy.
//! - [`search`]: the catalog as an in-process search index (tantivy) held by every query process.

pub mod replay;
pub mod runner;
pub mod search;
pub mod store;
pub mod view;
pub mod views;

pub use runner::Runner;
pub use view::{View, ViewError};
