//! Order transitions: cancel (owner or admin), ship and deliver (admin).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use chrono::Utc;
use domain::OrderId;
use domain::order::{CancellationReason, Order, OrderCommand};
use platform::auth::AuthUser;
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{IfMatch, OptionalJson, RequestMeta, Written, path_id};
use crate::state::CommandState;

pub fn router() -> Router<CommandState> {
    Router::new()
        .route("/orders/{id}/cancel", post(cancel))
        .route("/orders/{id}/ship", post(ship))
        .route("/orders/{id}/deliver", post(deliver))
}

async fn cancel(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
) -> Result<Written, ApiError> {
    let order_id: OrderId = path_id(&id)?;
    let id = order_id.to_string();
    let (order, _) = state.bus.load::<Order>(&id).await?;
    // Someone else's order is answered exactly like a missing one.
    let owned = order
        .user_id()
        .is_some_and(|owner| owner.to_string() == user.user_id);
    if order.status().is_none() || !(owned || user.is_admin()) {
        return Err(ApiError::not_found("There is no such order."));
    }
    let reason = if user.is_admin() {
        CancellationReason::CancelledByAdmin
    } else {
        CancellationReason::CancelledByCustomer
    };
    let command = OrderCommand::Cancel {
        reason,
        at: Utc::now(),
    };
    state
        .accept::<Order>(&id, command, &meta.by(&user), version)
        .await
}

#[derive(Debug, Default, Deserialize)]
struct Shipment {
    tracking_number: Option<String>,
}

async fn ship(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<Shipment>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let id = path_id::<OrderId>(&id)?.to_string();
    let command = OrderCommand::Ship {
        tracking_number: body.tracking_number,
        at: Utc::now(),
    };
    state
        .accept::<Order>(&id, command, &meta.by(&user), version)
        .await
}

async fn deliver(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let id = path_id::<OrderId>(&id)?.to_string();
    let command = OrderCommand::Deliver { at: Utc::now() };
    state
        .accept::<Order>(&id, command, &meta.by(&user), version)
        .await
}
