//! A discount code on the caller's cart. Applying one checks it at once, against its promotion and the
//! cart's lines at current prices, so the customer hears straight away, in words they can act on, why a code
//! does not work. Checkout checks it again and holds a redemption (see [`super::checkout`]): a code valid
//! now may be used up, paused or expired by then.

use chrono::Utc;
use domain::cart::{AppliedCode, Cart, CartCommand, CartError};
use domain::promotion::discount::DiscountError;
use domain::promotion::{Promotion, PromotionError, normalize_code};
use domain::{PromotionId, UserId};
use eventstore::claims::ClaimKind;
use eventstore::{BusError, CommandBus, CommandMetadata, Executed, UniqueClaims};

use super::checkout::{CheckoutError, order_line};

/// Why a code was not applied. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the cart is empty")]
    EmptyCart,
    /// Unknown, paused, ended, not valid now, or used up (for everyone or for this customer).
    #[error(transparent)]
    Code(PromotionError),
    /// The code takes nothing off these lines: none is in its categories, or they come to less than its
    /// minimum.
    #[error(transparent)]
    Lines(DiscountError),
    /// A line's product is gone or discontinued, as checkout would say.
    #[error(transparent)]
    Line(CheckoutError),
    #[error(transparent)]
    Cart(#[from] BusError<CartError>),
    #[error(transparent)]
    Promotion(#[from] BusError<PromotionError>),
    #[error("the discount codes cannot be read: {0}")]
    Claims(#[from] eventstore::db::DbError),
}

/// The promotion that owns `code` (as typed), if any.
pub async fn find(claims: &UniqueClaims, code: &str) -> Result<PromotionId, ApplyError> {
    let code = normalize_code(code).map_err(ApplyError::Code)?;
    let owner = claims.owner(ClaimKind::DiscountCode, &code).await?;
    owner
        .and_then(|owner| owner.parse().ok())
        .ok_or(ApplyError::Code(PromotionError::NotFound))
}

/// Applies `code` to `user_id`'s cart (at `expected_version`, if given), replacing any code applied before.
pub async fn apply(
    bus: &CommandBus,
    claims: &UniqueClaims,
    user_id: UserId,
    code: &str,
    metadata: &CommandMetadata,
    expected_version: Option<u64>,
) -> Result<Executed, ApplyError> {
    let cart_id = user_id.to_string();
    let (cart, version) = bus.load::<Cart>(&cart_id).await?;
    // A stale `If-Match` is answered as such (412) before anything is said about the code.
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(BusError::<CartError>::VersionMismatch {
            expected,
            actual: version,
        }
        .into());
    }
    let promotion_id = find(claims, code).await?;
    let (promotion, _) = bus.load::<Promotion>(&promotion_id.to_string()).await?;
    let at = Utc::now();
    let terms = promotion.check(user_id, at).map_err(ApplyError::Code)?;
    if cart.is_empty() {
        return Err(ApplyError::EmptyCart);
    }
    let mut lines = Vec::with_capacity(cart.lines().len());
    for line in cart.lines() {
        let line = order_line(bus, line).await.map_err(ApplyError::Line)?;
        lines.push(line.priced());
    }
    terms.offer.apply(&lines).map_err(ApplyError::Lines)?;
    let apply = CartCommand::ApplyDiscount {
        code: AppliedCode {
            promotion_id,
            code: terms.code.clone(),
        },
        at,
    };
    Ok(bus
        .execute::<Cart>(&cart_id, apply, metadata, expected_version)
        .await?)
}
