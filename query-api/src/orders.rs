//! `GET /orders` and `GET /orders/{id}`: a customer sees their own, an administrator everyone's.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use platform::Problem;
use platform::auth::AuthUser;
use projectors::store::query::OrderQuery;
use projectors::views::orders::OrderView;
use serde_json::{Value, json};

use crate::consistency::{Wait, min_position, unavailable};
use crate::params::{Params, invalid, page_json, paging};
use crate::state::QueryState;

const STATUSES: [&str; 5] = ["pending", "confirmed", "shipped", "delivered", "cancelled"];

pub fn router() -> Router<QueryState> {
    Router::new()
        .route("/orders", get(list))
        .route("/orders/{id}", get(show))
}

pub fn order_json(o: &OrderView) -> Value {
    json!({
        "id": o.id, "user_id": o.user_id, "status": o.status, "items": o.items, "total": o.total,
        "shipping_address": o.shipping_address, "payment": o.payment,
        "cancellation_reason": o.cancellation_reason, "tracking_number": o.tracking_number,
        "timeline": o.timeline, "created_at": o.created_at, "updated_at": o.updated_at,
    })
}

async fn list(
    State(state): State<QueryState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, Problem> {
    let (page, limit) = paging(&params)?;
    let status = params.get("status").filter(|s| !s.is_empty()).cloned();
    if let Some(status) = &status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(invalid(
            "status",
            "one of pending, confirmed, shipped, delivered, cancelled",
        ));
    }
    // A customer's `user_id` filter is always themselves.
    let user_id = if user.is_admin() {
        params.get("user_id").filter(|s| !s.is_empty()).cloned()
    } else {
        Some(user.user_id.clone())
    };
    let mut wait = Wait::new(min_position(&headers, &params)?);
    wait.for_view::<OrderView>(&state.models).await;
    let found = state
        .models
        .orders(&OrderQuery {
            user_id,
            status,
            page,
            limit,
        })
        .await
        .map_err(unavailable)?;
    let items = found
        .items
        .iter()
        .map(|o| json!({"id": o.id, "status": o.status, "total": o.total, "item_count": o.item_count, "created_at": o.created_at}))
        .collect();
    Ok(wait.finish(Json(page_json(&found, items))))
}

async fn show(
    State(state): State<QueryState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(params): Query<Params>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let mut wait = Wait::new(min_position(&headers, &params)?);
    wait.for_view::<OrderView>(&state.models).await;
    let order = state.models.order(&id).await.map_err(unavailable)?;
    // Someone else's order is answered exactly like a missing one.
    let Some(order) = order
        .filter(|o| !o.view.id.is_empty() && (user.is_admin() || o.view.user_id == user.user_id))
    else {
        return Err(Problem::not_found());
    };
    let mut response = wait.finish(Json(order_json(&order.view)));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", order.version("order"))) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}
