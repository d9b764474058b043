//! Discount codes, for administrators: create, pause, resume and end (docs/adr/0019).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use domain::PromotionId;
use domain::promotion::discount::{Off, Offer};
use domain::promotion::{Promotion, PromotionCommand, PromotionError, Terms, normalize_code};
use eventstore::BusError;
use eventstore::claims::ClaimKind;
use platform::auth::AuthUser;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{AppJson, IfMatch, RequestMeta, Written, WrittenBody, path_id};
use crate::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::products::MoneyInput;
use crate::state::CommandState;

pub fn router() -> OpenApiRouter<CommandState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(end))
}

/// A new discount code: exactly one of `percent_off` and `amount_off`.
#[derive(Debug, Deserialize, ToSchema)]
struct NewPromotion {
    /// 3 to 32 of A-Z, 0-9, `-` and `_`; case does not matter (kept upper case); unique.
    #[schema(example = "SPRING10")]
    code: String,
    #[schema(minimum = 1, maximum = 100, example = 10)]
    percent_off: Option<i64>,
    amount_off: Option<MoneyInput>,
    /// The least subtotal of the products the code applies to.
    min_subtotal: Option<MoneyInput>,
    valid_from: Option<DateTime<Utc>>,
    /// The first moment the code no longer works.
    valid_until: Option<DateTime<Utc>>,
    /// Redemptions in all (orders pending or confirmed with the code).
    #[schema(minimum = 1)]
    max_redemptions: Option<i64>,
    #[schema(minimum = 1)]
    max_per_customer: Option<i64>,
    /// Product categories the code applies to; none means every product.
    #[serde(default)]
    categories: Vec<String>,
}

/// At most this many categories per code, each as long as a product's category may be.
const MAX_CATEGORIES: usize = 50;
const MAX_CATEGORY_CHARS: usize = 100;

impl NewPromotion {
    /// The terms, or every field's problem at once.
    fn terms(self) -> Result<Terms, ApiError> {
        let mut errors = BTreeMap::new();
        let code = normalize_code(&self.code)
            .map_err(|_| {
                errors.insert(
                    "code".to_owned(),
                    "must be 3 to 32 of A-Z, 0-9, '-' and '_'".to_owned(),
                )
            })
            .ok();
        let off = match (self.percent_off, &self.amount_off) {
            (Some(percent), None) => u8::try_from(percent)
                .ok()
                .filter(|p| (1..=100).contains(p))
                .map(Off::Percent)
                .or_else(|| {
                    errors.insert("percent_off".to_owned(), "must be 1 to 100".to_owned());
                    None
                }),
            (None, Some(amount)) => match amount.parse() {
                Ok(money) if !money.is_zero() => Some(Off::Amount(money)),
                Ok(_) => {
                    errors.insert("amount_off".to_owned(), "must be more than zero".to_owned());
                    None
                }
                Err(message) => {
                    errors.insert("amount_off".to_owned(), message);
                    None
                }
            },
            _ => {
                errors.insert(
                    "percent_off".to_owned(),
                    "give exactly one of percent_off and amount_off".to_owned(),
                );
                None
            }
        };
        let min_subtotal = self
            .min_subtotal
            .as_ref()
            .map(MoneyInput::parse)
            .transpose()
            .map_err(|message| errors.insert("min_subtotal".to_owned(), message))
            .ok()
            .flatten();
        let mut limit = |field: &str, value: Option<i64>| {
            value.and_then(|n| {
                let limit = u32::try_from(n).ok().filter(|n| *n >= 1);
                if limit.is_none() {
                    errors.insert(field.to_owned(), "must be at least 1".to_owned());
                }
                limit
            })
        };
        let max_redemptions = limit("max_redemptions", self.max_redemptions);
        let max_per_customer = limit("max_per_customer", self.max_per_customer);
        // A code's money fixes its currency: a minimum in another currency than the amount off could never
        // be met.
        if let (Some(Off::Amount(off)), Some(min)) = (&off, &min_subtotal)
            && off.currency() != min.currency()
        {
            errors.insert(
                "min_subtotal".to_owned(),
                "must be in the currency of amount_off".to_owned(),
            );
        }
        let categories: Vec<String> = self
            .categories
            .iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        if categories.len() > MAX_CATEGORIES
            || categories
                .iter()
                .any(|c| c.chars().count() > MAX_CATEGORY_CHARS)
        {
            errors.insert(
                "categories".to_owned(),
                format!(
                    "at most {MAX_CATEGORIES} categories of at most {MAX_CATEGORY_CHARS} characters"
                ),
            );
        }
        match (code, off) {
            (Some(code), Some(off)) if errors.is_empty() => Ok(Terms {
                code,
                offer: Offer {
                    off,
                    min_subtotal,
                    categories,
                },
                valid_from: self.valid_from,
                valid_until: self.valid_until,
                max_redemptions,
                max_per_customer,
            }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// Creates a discount code (administrators). A code another promotion has is refused (409).
#[utoipa::path(
    post,
    path = "/promotions",
    operation_id = "create_promotion",
    tag = "promotions",
    security(("bearer" = [])),
    request_body = NewPromotion,
    responses(
        (status = 201, description = "The code exists", body = WrittenBody,
            headers(("ETag" = String, description = "The promotion's version"))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable,
    )
)]
async fn create(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    AppJson(body): AppJson<NewPromotion>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let terms = body.terms()?;
    let promotion_id = PromotionId::new(Uuid::now_v7());
    let id = promotion_id.to_string();
    let code = terms.code.clone();
    let command = PromotionCommand::Create {
        terms,
        at: Utc::now(),
    };
    // The code's claim commits with `PromotionCreated`, or neither does.
    let metadata = meta.by(&user).answering(201, &id);
    let mut unit = state.bus.unit(&metadata);
    unit.claim(ClaimKind::DiscountCode, &code, &id);
    unit.decide::<Promotion>(&id, command, None).await?;
    let mut executed = unit.commit().await?;
    Ok(Written::created(promotion_id, executed.remove(0)))
}

/// Pauses a code (administrators): it is refused until resumed. Orders already placed with it keep it.
#[utoipa::path(
    post,
    path = "/promotions/{id}/pause",
    operation_id = "pause_promotion",
    tag = "promotions",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The promotion"), IfMatch),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The promotion's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, Unprocessable, Unavailable,
    )
)]
async fn pause(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
) -> Result<Written, ApiError> {
    let command = PromotionCommand::Pause { at: Utc::now() };
    change(&state, &user, &meta, &id, command, version).await
}

/// Resumes a paused code (administrators). An ended code cannot be resumed (422).
#[utoipa::path(
    post,
    path = "/promotions/{id}/resume",
    operation_id = "resume_promotion",
    tag = "promotions",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The promotion"), IfMatch),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The promotion's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, Unprocessable, Unavailable,
    )
)]
async fn resume(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
) -> Result<Written, ApiError> {
    let command = PromotionCommand::Resume { at: Utc::now() };
    change(&state, &user, &meta, &id, command, version).await
}

/// Ends a code for good (administrators). Orders already placed with it keep it.
#[utoipa::path(
    post,
    path = "/promotions/{id}/end",
    operation_id = "end_promotion",
    tag = "promotions",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The promotion"), IfMatch),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The promotion's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, Unprocessable, Unavailable,
    )
)]
async fn end(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
) -> Result<Written, ApiError> {
    let command = PromotionCommand::End { at: Utc::now() };
    change(&state, &user, &meta, &id, command, version).await
}

/// An administrator's change of status; a promotion that does not exist is 404 here (at a cart, an
/// unknown code is the customer's typo, 422).
async fn change(
    state: &CommandState,
    user: &AuthUser,
    meta: &RequestMeta,
    id: &str,
    command: PromotionCommand,
    version: Option<u64>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let promotion_id: PromotionId = path_id(id)?;
    let id = promotion_id.to_string();
    let executed = state
        .bus
        .execute::<Promotion>(&id, command, &meta.by(user), version)
        .await
        .map_err(|error| match error {
            BusError::Rejected(PromotionError::NotFound) => {
                ApiError::not_found(format!("There is no promotion {id}."))
            }
            other => other.into(),
        })?;
    Ok(Written::accepted(&id, executed))
}
