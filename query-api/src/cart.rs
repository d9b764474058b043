//! `GET /cart`: the caller's lines at current prices, with what its discount code takes off now.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use domain::promotion::discount::PricedLine;
use domain::promotion::{PromotionError, PromotionStatus};
use domain::{Money, Quantity, ValueError};
use platform::auth::AuthUser;
use projectors::views::carts::CartView;
use projectors::views::product_cache::ProductDetails;
use projectors::views::promotions::PromotionView;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::consistency::{MinPosition, Wait};
use crate::error::ReadError;
use crate::openapi::{BadRequest, MoneyBody, Unauthorized, Unavailable};
use crate::state::QueryState;

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new().routes(routes!(show))
}

/// The caller's cart at current prices.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cart {
    items: Vec<CartItem>,
    /// The lines' totals before the discount; `null` while the cart is empty.
    subtotal: Option<MoneyBody>,
    /// The discount code applied, if any.
    discount: Option<CartDiscount>,
    /// After the discount; `null` while the cart is empty.
    total: Option<MoneyBody>,
    /// Units in all lines.
    item_count: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartItem {
    #[schema(format = Uuid)]
    product_id: String,
    sku: String,
    name: String,
    unit_price: MoneyBody,
    quantity: u32,
    line_total: MoneyBody,
    /// `false` once the product is discontinued: checkout refuses it until the line is removed.
    available: bool,
    /// What the discount code takes off this line, if it applies to it.
    discount: Option<MoneyBody>,
}

/// A discount code on the cart and what it takes off now. Checkout checks it again (and the customer's own
/// use of it), so it may still be refused there.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartDiscount {
    #[schema(example = "SPRING10")]
    code: String,
    /// Zero when the code takes nothing off now; `reason` then says why.
    amount: MoneyBody,
    /// Why the code takes nothing off now (paused, expired, used up, below its minimum...), in words the
    /// customer can act on.
    reason: Option<String>,
}

/// The caller's cart, each line at the product's current price.
#[utoipa::path(
    get,
    path = "/cart",
    operation_id = "get_cart",
    tag = "cart",
    security(("bearer" = [])),
    params(MinPosition),
    responses(
        (status = 200, description = "The cart", body = Cart,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unauthorized, Unavailable,
    )
)]
async fn show(
    State(state): State<QueryState>,
    user: AuthUser,
    MinPosition(after): MinPosition,
) -> Result<Response, ReadError> {
    let mut wait = Wait::new(after);
    wait.for_view::<CartView>(&state.models).await;
    wait.for_view::<ProductDetails>(&state.models).await;
    let (cart, products) = state.models.cart(&user.user_id, after).await?;
    let mut items = Vec::with_capacity(cart.lines.len());
    let mut priced = Vec::with_capacity(cart.lines.len());
    let mut total: Option<Money> = None;
    let mut item_count: u32 = 0;
    for line in &cart.lines {
        // A product the read model does not know yet is left out rather than shown without a price.
        let Some(product) = products.get(&line.product_id) else {
            continue;
        };
        let Some(price) = product.price else { continue };
        // Checked as the domain sums money: a price set absurdly high, or a product repriced into another
        // currency than the other lines', is reported rather than shown as a wrong total.
        let (line_total, sum) = add_line(total, price, line.quantity).map_err(|error| {
            ReadError::internal(format_args!(
                "cannot total the cart of {} at product {}: {error}",
                user.user_id, line.product_id
            ))
        })?;
        total = Some(sum);
        priced.push(PricedLine {
            category: Some(product.category.clone()),
            total: line_total,
        });
        item_count = item_count.saturating_add(line.quantity);
        items.push(CartItem {
            product_id: line.product_id.clone(),
            sku: product.sku.clone(),
            name: product.name.clone(),
            unit_price: MoneyBody::from(price),
            quantity: line.quantity,
            line_total: MoneyBody::from(line_total),
            available: !product.discontinued,
            discount: None,
        });
    }
    let (discount, after_discount) = match (&cart.discount, total) {
        (Some(code), Some(subtotal)) => {
            wait.for_view::<PromotionView>(&state.models).await;
            let promotion = state.models.promotion(&code.promotion_id).await?;
            let now = takes_off(promotion.as_ref().map(|p| &p.view), &priced, subtotal);
            for (item, off) in items.iter_mut().zip(&now.per_line) {
                item.discount = (!off.is_zero()).then(|| MoneyBody::from(*off));
            }
            let after = subtotal.checked_sub(now.amount).map_err(|error| {
                ReadError::internal(format_args!("a discount over the subtotal: {error}"))
            })?;
            let discount = CartDiscount {
                code: code.code.clone(),
                amount: MoneyBody::from(now.amount),
                reason: now.reason,
            };
            (Some(discount), Some(after))
        }
        (_, total) => (None, total),
    };
    Ok(wait.finish(Json(Cart {
        items,
        subtotal: total.map(MoneyBody::from),
        discount,
        total: after_discount.map(MoneyBody::from),
        item_count,
    })))
}

/// What a code takes off a cart's lines now.
struct TakesOff {
    amount: Money,
    /// In the lines' order; empty when it takes nothing off.
    per_line: Vec<Money>,
    /// Why it takes nothing off, when it does not.
    reason: Option<String>,
}

/// What the cart's code (its promotion as the view has it) takes off its lines now, or nothing and why.
fn takes_off(promotion: Option<&PromotionView>, lines: &[PricedLine], subtotal: Money) -> TakesOff {
    let nothing = |reason: String| TakesOff {
        amount: Money::zero(subtotal.currency()),
        per_line: Vec::new(),
        reason: Some(reason),
    };
    let Some((promotion, offer)) = promotion.and_then(|p| Some((p, p.offer.as_ref()?))) else {
        return nothing(PromotionError::NotFound.to_string());
    };
    if let Err(refusal) = usable(promotion, Utc::now()) {
        return nothing(refusal.to_string());
    }
    match offer.apply(lines) {
        Ok(discount) => TakesOff {
            amount: discount.amount,
            per_line: discount.per_line,
            reason: None,
        },
        Err(refusal) => nothing(refusal.to_string()),
    }
}

/// Whether the code can be used at `at`, as far as the read model tells: its status, its validity and its
/// redemptions in all (a customer's own use of it is checked at checkout).
fn usable(promotion: &PromotionView, at: DateTime<Utc>) -> Result<(), PromotionError> {
    match promotion.status {
        PromotionStatus::Active => {}
        PromotionStatus::Paused => return Err(PromotionError::Paused),
        PromotionStatus::Ended => return Err(PromotionError::Ended),
    }
    if promotion.valid_from.is_some_and(|from| at < from) {
        return Err(PromotionError::NotYetValid);
    }
    if promotion.valid_until.is_some_and(|until| at >= until) {
        return Err(PromotionError::Expired);
    }
    let taken = promotion.held.saturating_add(promotion.redeemed);
    if promotion
        .max_redemptions
        .is_some_and(|max| taken >= i64::from(max))
    {
        return Err(PromotionError::UsedUp);
    }
    Ok(())
}

/// A line's total at `price`, and the cart's total with it.
fn add_line(
    total: Option<Money>,
    price: Money,
    quantity: u32,
) -> Result<(Money, Money), ValueError> {
    let line = Quantity::new(i64::from(quantity)).and_then(|quantity| price.times(quantity))?;
    let sum = match total {
        None => line,
        Some(total) => total.checked_add(line)?,
    };
    Ok((line, sum))
}

#[cfg(test)]
mod tests {
    use domain::Currency;

    use super::*;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR).unwrap()
    }

    #[test]
    fn it_should_total_lines_and_refuse_overflow_and_mixed_currencies() {
        let (line, sum) = add_line(Some(eur(500)), eur(250), 3).unwrap();
        assert_eq!((line, sum), (eur(750), eur(1250)));
        assert_eq!(
            add_line(None, eur(i64::MAX / 2), 3),
            Err(ValueError::Overflow)
        );
        assert_eq!(
            add_line(Some(eur(i64::MAX - 10)), eur(6), 2),
            Err(ValueError::Overflow)
        );
        let usd = Money::new(100, Currency::parse("USD").unwrap()).unwrap();
        assert!(matches!(
            add_line(Some(eur(100)), usd, 1),
            Err(ValueError::CurrencyMismatch { .. })
        ));
    }
}
