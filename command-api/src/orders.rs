//! Order transitions: cancel (owner or admin), ship and deliver (admin).

use axum::extract::{Path, State};
use chrono::Utc;
use domain::OrderId;
use domain::order::{CancellationReason, Order, OrderCommand};
use platform::auth::AuthUser;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::extract::{IfMatch, OptionalJson, RequestMeta, Written, WrittenBody, path_id};
use crate::openapi::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::state::CommandState;

pub fn router() -> OpenApiRouter<CommandState> {
    OpenApiRouter::new()
        .routes(routes!(cancel))
        .routes(routes!(ship))
        .routes(routes!(deliver))
}

/// Cancels an order (its owner or an administrator) while it is `pending` or `confirmed`; a captured
/// payment is refunded.
#[utoipa::path(
    post,
    path = "/orders/{id}/cancel",
    operation_id = "cancel_order",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The order"), IfMatch),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The order's new version"))),
        BadRequest, Unauthorized, NotFound, PreconditionFailed, Unprocessable, Unavailable,
    )
)]
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

/// The body of `POST /orders/{id}/ship`, which may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
struct Shipment {
    #[schema(example = "1Z999AA10123456784")]
    tracking_number: Option<String>,
}

/// Marks a `confirmed` order as shipped (administrators).
#[utoipa::path(
    post,
    path = "/orders/{id}/ship",
    operation_id = "ship_order",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The order"), IfMatch),
    request_body(content = Option<Shipment>, description = "May be left out"),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The order's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, PayloadTooLarge,
        UnsupportedMediaType, Unprocessable, Unavailable,
    )
)]
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

/// Marks a `shipped` order as delivered (administrators).
#[utoipa::path(
    post,
    path = "/orders/{id}/deliver",
    operation_id = "deliver_order",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The order"), IfMatch),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The order's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, Unprocessable, Unavailable,
    )
)]
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
