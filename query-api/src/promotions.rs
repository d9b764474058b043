//! `GET /promotions`: every discount code with its terms, status and redemption counts (administrators).

use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use domain::promotion::PromotionStatus;
use platform::auth::AuthUser;
use projectors::views::orders::OrderView;
use projectors::views::promotions::PromotionView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::consistency::{MinPosition, Wait};
use crate::error::ReadError;
use crate::openapi::{BadRequest, Forbidden, MoneyBody, Unauthorized, Unavailable, Unprocessable};
use crate::params::{Page, Paging};
use crate::state::QueryState;

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// A discount code.
#[derive(Debug, Serialize, ToSchema)]
pub struct Promotion {
    #[schema(format = Uuid)]
    id: String,
    #[schema(example = "SPRING10")]
    code: String,
    /// Set when the code takes a percentage off.
    percent_off: Option<u8>,
    /// Set when the code takes a fixed amount off.
    amount_off: Option<MoneyBody>,
    min_subtotal: Option<MoneyBody>,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    max_redemptions: Option<u32>,
    max_per_customer: Option<u32>,
    /// The categories it applies to; empty for every product.
    categories: Vec<String>,
    /// Orders confirmed with the code (and not cancelled since).
    redeemed: i64,
    /// Orders placed with the code and not yet confirmed or cancelled: a code with a limit keeps a
    /// redemption for each.
    held: i64,
    status: Status,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

/// Whether a code can be applied now, as an administrator last set it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PromotionStatus)]
pub enum Status {
    Active,
    Paused,
    Ended,
}

impl From<PromotionStatus> for Status {
    fn from(status: PromotionStatus) -> Self {
        match status {
            PromotionStatus::Active => Self::Active,
            PromotionStatus::Paused => Self::Paused,
            PromotionStatus::Ended => Self::Ended,
        }
    }
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Ended => "ended",
        }
    }
}

impl From<&PromotionView> for Promotion {
    fn from(p: &PromotionView) -> Self {
        let offer = p.offer.as_ref();
        Self {
            id: p.id.clone(),
            code: p.code.clone(),
            percent_off: p.percent_off(),
            amount_off: p.amount_off().map(MoneyBody::from),
            min_subtotal: offer.and_then(|o| o.min_subtotal).map(MoneyBody::from),
            valid_from: p.valid_from,
            valid_until: p.valid_until,
            max_redemptions: p.max_redemptions,
            max_per_customer: p.max_per_customer,
            categories: offer.map(|o| o.categories.clone()).unwrap_or_default(),
            redeemed: p.redeemed,
            held: p.held,
            status: p.status.into(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PromotionFilter {
    /// Only codes with this status.
    status: Option<Status>,
}

/// Every discount code, newest first (administrators).
#[utoipa::path(
    get,
    path = "/promotions",
    operation_id = "list_promotions",
    tag = "promotions",
    security(("bearer" = [])),
    params(PromotionFilter, Paging, MinPosition),
    responses(
        (status = 200, description = "A page of discount codes", body = Page<Promotion>,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unauthorized, Forbidden, Unprocessable, Unavailable,
    )
)]
async fn list(
    State(state): State<QueryState>,
    user: AuthUser,
    MinPosition(after): MinPosition,
    Query(filter): Query<PromotionFilter>,
    Query(paging): Query<Paging>,
) -> Result<Response, ReadError> {
    user.require_admin()?;
    let (page, limit) = paging.parse()?;
    let mut wait = Wait::new(after);
    wait.for_view::<PromotionView>(&state.models).await;
    wait.for_view::<OrderView>(&state.models).await;
    let status = filter.status.map(Status::as_str);
    let found = state.models.promotions(status, page, limit).await?;
    let mut answer = Page::of(&found, Promotion::from);
    // A code without a limit is never written by checkouts: its orders tell how often it was used.
    let unlimited: Vec<String> = found
        .items
        .iter()
        .filter(|view| !view.limited)
        .map(|view| view.code.clone())
        .collect();
    let uses = state.models.orders_with_codes(&unlimited).await?;
    for (item, view) in answer.items.iter_mut().zip(&found.items) {
        if !view.limited {
            let used = uses.get(&view.code).copied().unwrap_or_default();
            item.held = i64::try_from(used.pending).unwrap_or(i64::MAX);
            item.redeemed = i64::try_from(used.redeemed).unwrap_or(i64::MAX);
        }
    }
    Ok(wait.finish(Json(answer)))
}
