use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AppliedCode;
use crate::{Money, OrderId, ProductId, Quantity, Sku};

/// What the caller looked up about a product when the command was sent.
///
/// The domain does no I/O, so the caller reads the catalog and passes the facts in; the cart
/// keeps the price it was shown, which is the price the customer agreed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSnapshot {
    pub product_id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub unit_price: Money,
    pub discontinued: bool,
}

/// What can be asked of a cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CartCommand {
    /// Adds units to the product's line, creating the line if needed.
    AddItem {
        product: ProductSnapshot,
        quantity: Quantity,
        at: DateTime<Utc>,
    },
    /// Sets a line's quantity; 0 removes the line.
    ChangeQuantity {
        product_id: ProductId,
        quantity: u32,
        at: DateTime<Utc>,
    },
    RemoveItem {
        product_id: ProductId,
        at: DateTime<Utc>,
    },
    /// Hands the lines over to a new order (with the caller-chosen id) and empties the cart.
    CheckOut {
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    Clear {
        at: DateTime<Utc>,
    },
    /// Applies a discount code the caller found valid for this cart (the domain cannot look it up); it
    /// replaces any code applied before.
    ApplyDiscount {
        code: AppliedCode,
        at: DateTime<Utc>,
    },
    RemoveDiscount {
        at: DateTime<Utc>,
    },
}
