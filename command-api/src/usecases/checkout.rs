//! Checkout: the caller's cart becomes a `pending` order at current prices, and the cart is emptied.
//!
//! The cart is checked out at the version its lines were read from, so a concurrent change is
//! [`CheckoutError::CartChanged`] instead of an order of something else. The cart's `CartCheckedOut` and the
//! order's `OrderPlaced` commit in one unit: a crash leaves both or neither, never a checked-out cart without
//! its order (docs/adr/0012). The order then becomes `confirmed` or `cancelled` through the checkout saga.

use chrono::Utc;
use domain::cart::{Cart, CartCommand, CartError, CartLine};
use domain::order::{Order, OrderCommand, OrderError, OrderLine};
use domain::{Address, OrderId, PaymentMethod, ProductId, Quantity, UserId, ValueError};
use eventstore::{BusError, CommandBus, CommandMetadata, Executed, Taken};

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
pub async fn check_out(
    bus: &CommandBus,
    checkout: CheckOut,
    metadata: &CommandMetadata,
) -> Result<Executed, CheckoutError> {
    let cart_id = checkout.user_id.to_string();
    let mut unit = bus.unit(metadata);
    let (cart, version) = unit.load::<Cart>(&cart_id).await?;
    if cart.lines().is_empty() {
        return Err(CheckoutError::EmptyCart);
    }
    let mut lines = Vec::with_capacity(cart.lines().len());
    for line in cart.lines() {
        lines.push(order_line(bus, line).await?);
    }
    let check_out = CartCommand::CheckOut {
        order_id: checkout.order_id,
        at: Utc::now(),
    };
    unit.decide::<Cart>(&cart_id, check_out, Some(version))
        .await?;
    let place = OrderCommand::Place {
        order_id: checkout.order_id,
        user_id: checkout.user_id,
        lines,
        shipping_address: checkout.shipping_address,
        payment_method: checkout.payment_method,
        at: Utc::now(),
    };
    unit.decide::<Order>(&checkout.order_id.to_string(), place, None)
        .await?;
    match unit.commit().await {
        Ok(mut executed) => Ok(executed.remove(1)),
        Err(BusError::Conflict) => Err(CheckoutError::CartChanged),
        Err(other) => Err(CheckoutError::Commit(other)),
    }
}

/// A cart line at the product's current price; a product gone or discontinued since it was added is refused.
async fn order_line(bus: &CommandBus, line: &CartLine) -> Result<OrderLine, CheckoutError> {
    let entry = catalog::snapshot(bus, line.product_id).await?;
    if entry.discontinued {
        return Err(CheckoutError::Discontinued { name: entry.name });
    }
    let quantity = Quantity::new(i64::from(line.quantity))?;
    Ok(OrderLine::new(
        entry.product_id,
        entry.sku,
        entry.name,
        entry.unit_price,
        quantity,
    )?)
}
