//! The audit log, for administrators: the feed, one stream, and verification of the hash chain.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use eventstore::{EventFilter, Position, StoredEvent};
use platform::Problem;
use platform::auth::AuthUser;
use serde_json::{Value, json};

use crate::state::QueryState;

pub fn router() -> Router<QueryState> {
    Router::new()
        .route("/admin/events", get(events))
        .route(
            "/admin/streams/{aggregate_type}/{aggregate_id}",
            get(stream),
        )
        .route("/admin/audit/verify", get(verify))
}

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// An event as the API shows it (API.md, "Audit").
pub fn event_json(event: &StoredEvent) -> Value {
    json!({
        "position": event.position.to_string(),
        "event_id": event.event_id,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "sequence": event.sequence,
        "event_type": event.event_type,
        "event_version": event.event_version,
        "payload": event.public_payload(),
        "metadata": event.metadata,
        "recorded_at": event.recorded_at,
        "hash": event.hash,
    })
}

fn bad_parameter(name: &str, expected: &str) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        format!("The query parameter {name} must be {expected}."),
    )
}

fn unavailable(error: eventstore::db::DbError) -> Problem {
    tracing::error!(%error, "event store unavailable");
    Problem::unavailable("event store")
}

/// The feed after `after`, filtered; unknown parameters are ignored.
async fn events(
    State(state): State<QueryState>,
    user: AuthUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Problem> {
    user.require_admin()?;
    let after = match params.get("after").filter(|s| !s.is_empty()) {
        Some(raw) => raw
            .parse::<Position>()
            .map_err(|_| bad_parameter("after", "a position token from an earlier answer"))?,
        None => Position::START,
    };
    let limit = match params.get("limit") {
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| bad_parameter("limit", "a whole number from 1 to 1000"))?,
        None => DEFAULT_LIMIT,
    };
    let filter = EventFilter {
        aggregate_type: params.get("aggregate_type").cloned(),
        event_type: params.get("event_type").cloned(),
        user_id: params.get("user_id").cloned(),
    };
    let items = state
        .feed
        .read_filtered(after, limit, &filter)
        .await
        .map_err(unavailable)?;
    let next = items.last().map_or(after, |e| e.position);
    Ok(Json(json!({
        "items": items.iter().map(event_json).collect::<Vec<_>>(),
        "next": next.to_string(),
    })))
}

async fn stream(
    State(state): State<QueryState>,
    user: AuthUser,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    user.require_admin()?;
    let items = state
        .feed
        .stream(&aggregate_type, &aggregate_id)
        .await
        .map_err(unavailable)?;
    if items.is_empty() {
        return Err(Problem::not_found());
    }
    Ok(Json(
        json!({ "items": items.iter().map(event_json).collect::<Vec<_>>() }),
    ))
}

async fn verify(State(state): State<QueryState>, user: AuthUser) -> Result<Json<Value>, Problem> {
    user.require_admin()?;
    let report = eventstore::audit::verify(&state.pool)
        .await
        .map_err(unavailable)?;
    Ok(Json(json!({
        "ok": report.ok,
        "checked": report.checked,
        "broken": report.broken,
    })))
}
