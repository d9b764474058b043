//! `GET /orders` and `GET /orders/{id}`: a customer sees their own, an administrator everyone's.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::auth::AuthUser;
use projectors::store::query::OrderQuery;
use projectors::views::orders::{OrderItem, OrderView, TimelineEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::consistency::{MinPosition, Wait};
use crate::error::ReadError;
use crate::openapi::{BadRequest, MoneyBody, NotFound, Unauthorized, Unavailable, Unprocessable};
use crate::params::{Page, Paging, path_id};
use crate::state::QueryState;

const STATUSES: [&str; 5] = ["pending", "confirmed", "shipped", "delivered", "cancelled"];

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
}

/// An order in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummary {
    #[schema(format = Uuid)]
    id: String,
    /// `pending`, `confirmed`, `shipped`, `delivered` or `cancelled`.
    status: String,
    total: Option<MoneyBody>,
    /// Units in all lines.
    item_count: i64,
    created_at: Option<DateTime<Utc>>,
}

impl From<&OrderView> for OrderSummary {
    fn from(o: &OrderView) -> Self {
        Self {
            id: o.id.clone(),
            status: o.status.clone(),
            total: o.total.map(MoneyBody::from),
            item_count: o.item_count,
            created_at: o.created_at,
        }
    }
}

/// An order; its prices are those at checkout and never change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Order {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    user_id: String,
    /// `pending`, `confirmed`, `shipped`, `delivered` or `cancelled`.
    status: String,
    items: Vec<OrderLine>,
    /// The lines' totals, before the discount.
    subtotal: Option<MoneyBody>,
    /// The discount code the order was placed with, and what it took off in all.
    discount: Option<OrderDiscount>,
    /// After the discount: what the customer pays.
    total: Option<MoneyBody>,
    #[schema(value_type = Option<ShippingAddress>)]
    shipping_address: Option<serde_json::Value>,
    payment: Payment,
    /// Set once `cancelled`: `out_of_stock`, `payment_declined`, `payment_timeout`,
    /// `cancelled_by_customer` or `cancelled_by_admin`.
    cancellation_reason: Option<String>,
    /// Set once `shipped`, when the administrator gave one.
    tracking_number: Option<String>,
    /// Every status the order went through, oldest first.
    timeline: Vec<Step>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLine {
    #[schema(format = Uuid)]
    product_id: String,
    sku: String,
    name: String,
    unit_price: MoneyBody,
    quantity: u32,
    line_total: MoneyBody,
    /// What the order's discount code took off this line.
    discount: Option<MoneyBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDiscount {
    code: String,
    amount: MoneyBody,
}

// The order view keeps the address as checkout gave it, as JSON; this documents it, with the same schema as
// checkout's `shipping_address` (shop's tests hold the two equal).
/// Where an order goes.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ShippingAddress {
    #[schema(example = "Ada Lovelace")]
    name: String,
    #[schema(example = "12 St James's Square")]
    line1: String,
    line2: Option<String>,
    #[schema(example = "London")]
    city: String,
    #[schema(example = "SW1Y 4JH")]
    postal_code: String,
    /// An ISO 3166-1 alpha-2 code.
    #[schema(example = "GB")]
    country: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    /// `pending`, `authorized`, `captured`, `declined`, `refunded`, or `nothing_to_pay` (a discount took the
    /// whole total: no payment is asked for).
    status: String,
    /// The payment-method token given at checkout.
    method: String,
    amount: Option<MoneyBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Step {
    status: String,
    at: DateTime<Utc>,
    detail: String,
}

impl From<&OrderItem> for OrderLine {
    fn from(i: &OrderItem) -> Self {
        Self {
            product_id: i.product_id.clone(),
            sku: i.sku.clone(),
            name: i.name.clone(),
            unit_price: i.unit_price.into(),
            quantity: i.quantity,
            line_total: i.line_total.into(),
            discount: i.discount.map(MoneyBody::from),
        }
    }
}

impl From<&TimelineEntry> for Step {
    fn from(t: &TimelineEntry) -> Self {
        Self {
            status: t.status.clone(),
            at: t.at,
            detail: t.detail.clone(),
        }
    }
}

impl From<OrderView> for Order {
    fn from(o: OrderView) -> Self {
        Self {
            items: o.items.iter().map(OrderLine::from).collect(),
            // Orders placed before discount codes have no subtotal of their own: it is their total.
            subtotal: o.subtotal.or(o.total).map(MoneyBody::from),
            discount: o.discount.map(|d| OrderDiscount {
                code: d.code,
                amount: d.amount.into(),
            }),
            total: o.total.map(MoneyBody::from),
            payment: Payment {
                status: o.payment.status,
                method: o.payment.method,
                amount: o.payment.amount.map(MoneyBody::from),
            },
            timeline: o.timeline.iter().map(Step::from).collect(),
            id: o.id,
            user_id: o.user_id,
            status: o.status,
            shipping_address: o.shipping_address,
            cancellation_reason: o.cancellation_reason,
            tracking_number: o.tracking_number,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// Which orders to list; customers always see only their own.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    /// Administrators only: one user's orders.
    #[param(format = Uuid)]
    user_id: Option<String>,
    /// `pending`, `confirmed`, `shipped`, `delivered` or `cancelled`.
    status: Option<String>,
}

/// The caller's orders, newest first; administrators see everyone's.
#[utoipa::path(
    get,
    path = "/orders",
    operation_id = "list_orders",
    tag = "orders",
    security(("bearer" = [])),
    params(OrderFilter, Paging, MinPosition),
    responses(
        (status = 200, description = "A page of orders", body = Page<OrderSummary>,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unauthorized, Unprocessable, Unavailable,
    )
)]
async fn list(
    State(state): State<QueryState>,
    user: AuthUser,
    MinPosition(after): MinPosition,
    Query(filter): Query<OrderFilter>,
    Query(paging): Query<Paging>,
) -> Result<Response, ReadError> {
    let (page, limit) = paging.parse()?;
    let status = filter.status.filter(|s| !s.is_empty());
    if let Some(status) = &status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ReadError::parameter(
            "status",
            "one of pending, confirmed, shipped, delivered, cancelled",
        ));
    }
    // A customer's `user_id` filter is always themselves.
    let user_id = if user.is_admin() {
        filter.user_id.filter(|s| !s.is_empty())
    } else {
        Some(user.user_id.clone())
    };
    let mut wait = Wait::new(after);
    wait.for_view::<OrderView>(&state.models).await;
    let found = state
        .models
        .orders(&OrderQuery {
            user_id,
            status,
            page,
            limit,
        })
        .await?;
    Ok(wait.finish(Json(Page::of(&found, OrderSummary::from))))
}

/// One order, with its version as `ETag`; someone else's order is not found.
#[utoipa::path(
    get,
    path = "/orders/{id}",
    operation_id = "get_order",
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The order"), MinPosition),
    responses(
        (status = 200, description = "The order", body = Order,
            headers(
                ("ETag" = String, description = "The order's version, for `If-Match`"),
                ("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"),
            )),
        BadRequest, Unauthorized, NotFound, Unavailable,
    )
)]
async fn show(
    State(state): State<QueryState>,
    user: AuthUser,
    MinPosition(after): MinPosition,
    Path(id): Path<String>,
) -> Result<Response, ReadError> {
    let id = path_id::<domain::OrderId>(&id)?;
    let mut wait = Wait::new(after);
    wait.for_view::<OrderView>(&state.models).await;
    let order = state.models.order(&id).await?;
    // Someone else's order is answered exactly like a missing one.
    let Some(order) = order
        .filter(|o| !o.view.id.is_empty() && (user.is_admin() || o.view.user_id == user.user_id))
    else {
        return Err(ReadError::NotFound);
    };
    let version = order.version("order");
    let mut response = wait.finish(Json(Order::from(order.view)));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}
