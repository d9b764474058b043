//! Checkout: the caller's cart becomes a `pending` order at current prices, and the cart is emptied.
//!
//! The cart is checked out at the version its lines were read from, so a concurrent change is
//! [`CheckoutError::CartChanged`] instead of an order of something else. The cart's `CartCheckedOut` and the
//! order's `OrderPlaced` commit in one unit: a crash leaves both or neither, never a checked-out cart without
//! its order (docs/adr/0012). The order then becomes `confirmed` or `cancelled` through the checkout saga.
//!
//! A cart with a discount code also holds one of its promotion's redemptions in that unit (docs/adr/0019):
//! the order records the code and what it takes off each line, and the saga counts the redemption when the
//! order is confirmed, or gives it back when it is cancelled.

use chrono::Utc;
use domain::cart::{AppliedCode, Cart, CartCommand, CartError, CartLine};
use domain::order::{CodeAtCheckout, Order, OrderCommand, OrderError, OrderLine};
use domain::promotion::{Promotion, PromotionCommand, PromotionError};
use domain::{Address, OrderId, PaymentMethod, ProductId, Quantity, UserId, ValueError};
use eventstore::{BusError, CommandBus, CommandMetadata, Executed, Taken, Unit};

use super::catalog::{self, LookupError};

/// What a checkout asks for.
#[derive(Debug, Clone)]
pub struct CheckOut {
    pub user_id: UserId,
    /// The order to place: made by the caller, so that its metadata can name it in advance.
    pub order_id: OrderId,
    pub shipping_address: Address,
    pub payment_method: PaymentMethod,
}

/// Why a cart was not checked out. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("the cart is empty")]
    EmptyCart,
    #[error("there is no product {0}")]
    UnknownProduct(ProductId),
    #[error("{name} is no longer sold")]
    Discontinued { name: String },
    /// A line's quantity or total is out of bounds.
    #[error(transparent)]
    Line(#[from] ValueError),
    /// Another request changed the cart after it was read.
    #[error("the cart changed during checkout")]
    CartChanged,
    #[error(transparent)]
    Cart(#[from] BusError<CartError>),
    #[error(transparent)]
    Order(#[from] BusError<OrderError>),
    #[error(transparent)]
    Product(BusError<domain::product::ProductError>),
    #[error(transparent)]
    Promotion(#[from] BusError<PromotionError>),
    #[error(transparent)]
    Commit(BusError<Taken>),
}

impl From<LookupError> for CheckoutError {
    fn from(error: LookupError) -> Self {
        match error {
            LookupError::Unknown(id) => Self::UnknownProduct(id),
            LookupError::Store(error) => Self::Product(error),
        }
    }
}

/// Checks out `user_id`'s cart; what the order's placing did (its version and position).
///
/// A cart with a discount code holds one of the promotion's redemptions in the same unit. Customers racing
/// for a code's last redemptions conflict on the promotion: the loser decides again on the promotion as it
/// now stands (and is told the code is used up, if it is), as long as its cart is as it was.
pub async fn check_out(
    bus: &CommandBus,
    checkout: CheckOut,
    metadata: &CommandMetadata,
) -> Result<Executed, CheckoutError> {
    let cart_id = checkout.user_id.to_string();
    let mut attempt = 0;
    let mut cart_version = None;
    loop {
        attempt += 1;
        match try_check_out(bus, &checkout, cart_version, metadata).await {
            Err(Attempt::Conflict { cart_at }) if attempt < CONFLICT_ATTEMPTS => {
                // Another request changed the cart itself: order nothing the customer did not see.
                let (_, now) = bus.load::<Cart>(&cart_id).await?;
                if now != cart_at {
                    return Err(CheckoutError::CartChanged);
                }
                cart_version = Some(cart_at);
                tokio::time::sleep(bus.backoff(attempt.min(4))).await;
            }
            // The cart is as it was; the promotion kept being written first: busy, not changed.
            Err(Attempt::Conflict { .. }) => {
                return Err(CheckoutError::Promotion(BusError::Conflict));
            }
            Err(Attempt::Failed(error)) => return Err(error),
            Ok(executed) => return Ok(executed),
        }
    }
}

/// How often a checkout is decided again when its unit conflicts on the promotion it holds a redemption of.
/// Every conflict there is another write to the promotion that went first (a redemption held, counted or
/// given back, or its status changed), so a code with a limit answers "used up" within a few rounds once it
/// is reached; the waits between tries stay under 80 ms each.
const CONFLICT_ATTEMPTS: u32 = 20;

/// One try's outcome other than success.
enum Attempt {
    /// The unit's commit met a concurrent append; the cart was read at `cart_at`.
    Conflict {
        cart_at: u64,
    },
    Failed(CheckoutError),
}

impl<E: Into<CheckoutError>> From<E> for Attempt {
    fn from(error: E) -> Self {
        Self::Failed(error.into())
    }
}

/// One try: the cart (at `cart_version`, when a retry must find it as the first try did), its lines at
/// current prices, the code's hold, the cart's checkout and the order, in one unit.
async fn try_check_out(
    bus: &CommandBus,
    checkout: &CheckOut,
    cart_version: Option<u64>,
    metadata: &CommandMetadata,
) -> Result<Executed, Attempt> {
    let cart_id = checkout.user_id.to_string();
    let mut unit = bus.unit(metadata);
    let (cart, version) = unit.load::<Cart>(&cart_id).await?;
    if cart_version.is_some_and(|expected| expected != version) {
        return Err(Attempt::Failed(CheckoutError::CartChanged));
    }
    if cart.lines().is_empty() {
        return Err(Attempt::Failed(CheckoutError::EmptyCart));
    }
    let mut lines = Vec::with_capacity(cart.lines().len());
    for line in cart.lines() {
        lines.push(order_line(bus, line).await?);
    }
    let at = Utc::now();
    let discount = match cart.discount() {
        None => None,
        Some(applied) => Some(hold(&mut unit, applied, checkout, at).await?),
    };
    let check_out = CartCommand::CheckOut {
        order_id: checkout.order_id,
        at,
    };
    unit.decide::<Cart>(&cart_id, check_out, Some(version))
        .await?;
    let place = OrderCommand::Place {
        order_id: checkout.order_id,
        user_id: checkout.user_id,
        lines,
        shipping_address: checkout.shipping_address.clone(),
        payment_method: checkout.payment_method.clone(),
        discount,
        at,
    };
    // The order's id was made up for this request: no store read to find it has no events.
    unit.decide_new::<Order>(&checkout.order_id.to_string(), place)
        .await?;
    match unit.commit().await {
        // The order's placing, the unit's last command.
        Ok(mut executed) => executed.pop().ok_or_else(|| {
            Attempt::Failed(CheckoutError::Commit(BusError::Internal(
                "the checkout's unit committed nothing".into(),
            )))
        }),
        Err(BusError::Conflict) => Err(Attempt::Conflict { cart_at: version }),
        Err(other) => Err(Attempt::Failed(CheckoutError::Commit(other))),
    }
}

/// Checks the cart's code and, when it has a limit, holds one of the promotion's redemptions for the order in
/// the unit; the code as the order records it. A code without a limit is only read: checkouts with a popular
/// code do not queue on its stream.
async fn hold(
    unit: &mut Unit<'_>,
    applied: &AppliedCode,
    checkout: &CheckOut,
    at: chrono::DateTime<Utc>,
) -> Result<CodeAtCheckout, CheckoutError> {
    let id = applied.promotion_id.to_string();
    let (promotion, version) = unit.load::<Promotion>(&id).await?;
    let terms = promotion
        .check(checkout.user_id, at)
        .map_err(|refusal| CheckoutError::Promotion(BusError::Rejected(refusal)))?;
    let (offer, held) = (terms.offer.clone(), terms.limited());
    if held {
        let hold = PromotionCommand::Hold {
            order_id: checkout.order_id,
            customer: checkout.user_id,
            at,
        };
        unit.decide::<Promotion>(&id, hold, Some(version)).await?;
    }
    Ok(CodeAtCheckout {
        promotion_id: applied.promotion_id,
        code: applied.code.clone(),
        offer,
        held,
    })
}

/// A cart line at the product's current price, in its category; a product gone or discontinued since it
/// was added is refused.
pub(crate) async fn order_line(
    bus: &CommandBus,
    line: &CartLine,
) -> Result<OrderLine, CheckoutError> {
    let catalog::Entry { product, category } = catalog::entry(bus, line.product_id).await?;
    if product.discontinued {
        return Err(CheckoutError::Discontinued { name: product.name });
    }
    let quantity = Quantity::new(i64::from(line.quantity))?;
    Ok(OrderLine::new(
        product.product_id,
        product.sku,
        product.name,
        product.unit_price,
        quantity,
    )?
    .in_category(category))
}
