//! The audit log, for administrators: the feed, one stream, and verification of the hash chain.

use crate::error::ReadError;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use eventstore::audit::{AuditReport, BrokenLink};
use eventstore::{EventFilter, Position, StoredEvent};
use platform::auth::AuthUser;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::{BadRequest, Forbidden, NotFound, Unauthorized, Unavailable};
use crate::state::QueryState;

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(stream))
        .routes(routes!(verify))
}

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// An event as the log stored it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    /// Where the event stands in the store's order; opaque.
    position: String,
    #[schema(format = Uuid)]
    event_id: String,
    aggregate_type: String,
    aggregate_id: String,
    /// The event's number in its stream, from 1.
    sequence: i64,
    event_type: String,
    event_version: String,
    /// What happened; secrets such as password hashes are left out.
    #[schema(value_type = Object)]
    payload: Value,
    /// `user_id`, `correlation_id`, `causation_id`, `request_id` and more.
    #[schema(value_type = Object)]
    metadata: Value,
    recorded_at: DateTime<Utc>,
    /// The audit hash chaining it to the stream's previous event, hex encoded.
    hash: String,
}

impl From<&StoredEvent> for Event {
    fn from(event: &StoredEvent) -> Self {
        Self {
            position: event.position.to_string(),
            event_id: event.event_id.to_string(),
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            event_type: event.event_type.clone(),
            event_version: event.event_version.clone(),
            payload: event.public_payload(),
            metadata: event.metadata.clone(),
            recorded_at: event.recorded_at,
            hash: event.hash.clone(),
        }
    }
}

/// Which events of the feed to show.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedFilter {
    /// A `position` (e.g. the previous answer's `next`): only events after it.
    after: Option<String>,
    /// 1 to 1000; 100 when left out.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    aggregate_type: Option<String>,
    event_type: Option<String>,
    /// Only events caused by this user.
    user_id: Option<String>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Feed {
    items: Vec<Event>,
    /// Send as `after` for the next page; the same `after` when there were no more events.
    next: String,
}

/// The events of every stream in store order, filtered (administrators).
#[utoipa::path(
    get,
    path = "/admin/events",
    operation_id = "list_events",
    tag = "audit",
    security(("bearer" = [])),
    params(FeedFilter),
    responses(
        (status = 200, description = "A page of the feed", body = Feed),
        BadRequest, Unauthorized, Forbidden, Unavailable,
    )
)]
async fn events(
    State(state): State<QueryState>,
    user: AuthUser,
    Query(params): Query<FeedFilter>,
) -> Result<Json<Feed>, ReadError> {
    user.require_admin()?;
    let after = match params.after.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => raw.parse::<Position>().map_err(|_| {
            ReadError::parameter("after", "a position token from an earlier answer")
        })?,
        None => Position::START,
    };
    let limit = match params.limit.as_deref() {
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| ReadError::parameter("limit", "a whole number from 1 to 1000"))?,
        None => DEFAULT_LIMIT,
    };
    let filter = EventFilter {
        aggregate_type: params.aggregate_type,
        event_type: params.event_type,
        user_id: params.user_id,
    };
    let items = state.feed.read_filtered(after, limit, &filter).await?;
    let next = items.last().map_or(after, |e| e.position);
    Ok(Json(Feed {
        items: items.iter().map(Event::from).collect(),
        next: next.to_string(),
    }))
}

/// One stream's events.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stream {
    items: Vec<Event>,
}

/// One aggregate's events by sequence (administrators).
#[utoipa::path(
    get,
    path = "/admin/streams/{aggregate_type}/{aggregate_id}",
    operation_id = "get_stream",
    tag = "audit",
    security(("bearer" = [])),
    params(
        ("aggregate_type" = String, Path, description = "e.g. `order`, `product`, `cart`, `user`"),
        ("aggregate_id" = String, Path, description = "The aggregate's id"),
    ),
    responses(
        (status = 200, description = "The stream", body = Stream),
        Unauthorized, Forbidden, NotFound, Unavailable,
    )
)]
async fn stream(
    State(state): State<QueryState>,
    user: AuthUser,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
) -> Result<Json<Stream>, ReadError> {
    user.require_admin()?;
    let items = state.feed.stream(&aggregate_type, &aggregate_id).await?;
    if items.is_empty() {
        return Err(ReadError::NotFound);
    }
    Ok(Json(Stream {
        items: items.iter().map(Event::from).collect(),
    }))
}

/// What a check of the audit chain found.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// `true` when no event or seal is broken.
    ok: bool,
    /// How many events were checked.
    checked: u64,
    broken: Vec<Broken>,
}

/// One place where the chain does not hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct Broken {
    /// The feed position of the first event found wrong, or `null` when the event it concerns is gone.
    position: Option<i64>,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    reason: String,
}

impl From<AuditReport> for Verification {
    fn from(report: AuditReport) -> Self {
        Self {
            ok: report.ok,
            checked: report.checked,
            broken: report.broken.into_iter().map(Broken::from).collect(),
        }
    }
}

impl From<BrokenLink> for Broken {
    fn from(link: BrokenLink) -> Self {
        Self {
            position: link.position,
            aggregate_type: link.aggregate_type,
            aggregate_id: link.aggregate_id,
            sequence: link.sequence,
            reason: link.reason,
        }
    }
}

/// Recomputes every event's hash and every seal (administrators).
#[utoipa::path(
    get,
    path = "/admin/audit/verify",
    operation_id = "verify_audit_log",
    tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the check found", body = Verification),
        Unauthorized, Forbidden, Unavailable,
    )
)]
async fn verify(
    State(state): State<QueryState>,
    user: AuthUser,
) -> Result<Json<Verification>, ReadError> {
    user.require_admin()?;
    let report = eventstore::audit::verify(&state.pool).await?;
    Ok(Json(report.into()))
}
