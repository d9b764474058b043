//! What every service needs and no business rule: typed settings, telemetry, JWT tokens and their
//! deny-list, the problem+json error body, rate-limit counters, and metrics plumbing.
//!
//! # Layout
//!
//! - [`settings`]: one typed `Settings`, read from the environment, with secrets ([`secret`]) kept out of
//!   `Debug`.
//! - [`telemetry`]: tracing subscriber (human-readable or JSON lines).
//! - [`auth`]: the `AuthUser` extractor, from a bearer token or the storefront's session cookie.
//! - [`client`]: the client's address, behind trusted proxies too.
//! - [`tokens`]: issuing and verifying access tokens; the Redis deny-list that makes logout stick.
//! - [`problem`]: RFC 9457 `application/problem+json` responses.
//! - [`near_cache`]: hot Redis values in process memory, kept exact by the writers' announcements.
//! - [`rate_limit`]: counters in Redis, shared by every instance, each over a minute opened by its first
//!   attempt.
//! - [`request_ids`]: a caller's request and correlation ids, kept only when short and plain.
//! - [`media`]: the media store (product images' files) in a directory or an S3-compatible bucket.
//! - [`metrics`]: the Prometheus recorder and HTTP metrics middleware.

pub mod auth;
pub mod client;
pub mod media;
pub mod metrics;
pub mod near_cache;
pub mod problem;
pub mod rate_limit;
pub mod request_ids;
pub mod secret;
pub mod settings;
pub mod telemetry;
pub mod tokens;

pub use problem::{Problem, ProblemCode};
pub use settings::Settings;
