//! The write model's storage: the PostgreSQL event store behind postgres-es, the [`CommandBus`] that runs
//! commands against it, the ordered [`Feed`] every consumer of events reads, and the audit chain.
//!
//! # Layout
//!
//! - [`bus`]: the `CommandBus` — load, decide, append, with metadata, `If-Match`, retries on conflict; and
//!   `Unit`, commands on several aggregates committed in one transaction.
//! - [`position`]: the `Position` token that names a point of the feed.
//! - [`feed`]: events in `(transaction id, position)` order, never skipping one; subscribers' checkpoints.
//! - [`claims`]: values unique across aggregates (emails, SKUs).
//! - [`idempotency`]: `Idempotency-Key` records, kept 24 hours, held by leases that commit with the events.
//! - [`audit`]: verifying the per-stream hash chain, which the bus computes at append (since migration 0005;
//!   a trigger hashes only rows inserted without one), and sealing the feed in the background.
//! - [`wake`]: waking subscribers when events are appended.
//! - [`tail`]: the feed's recent past, read once per process and shared by its subscribers.
//! - [`business`]: business counters (orders, payments), counted where events are appended.
//! - [`db`]: connecting and migrating.
//! - `repository` (private): loading an aggregate in one query and appending a stream's events, with their
//!   audit hashes, in one statement, on postgres-es's tables; what the bus runs.
//! - `testing` (feature `testing`): a fresh, migrated database per test.

pub mod audit;
pub mod bus;
pub mod business;
pub mod claims;
pub mod db;
pub mod feed;
pub mod idempotency;
pub mod position;
mod repository;
pub mod tail;
#[cfg(feature = "testing")]
pub mod testing;
pub mod wake;

pub use audit::{AuditReport, BrokenLink};
pub use bus::{BusError, CommandBus, CommandMetadata, Executed, Stored, Taken, Unit};
pub use claims::{ClaimError, ClaimKind, UniqueClaims};
pub use db::{connect, migrate};
pub use feed::{Checkpoints, EventFilter, Feed, StoredEvent};
pub use idempotency::{CommittedAnswer, IdempotencyClaim, IdempotencyStore, Lease, StoredResponse};
pub use position::Position;
