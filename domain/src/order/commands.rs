use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cart::CartLine;
use crate::promotion::discount::{Offer, PricedLine};
use crate::{
    Address, Money, OrderId, PaymentMethod, ProductId, PromotionId, Quantity, Sku, UserId,
    ValueError,
};

/// One product in an order, priced when the order was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub unit_price: Money,
    pub quantity: Quantity,
    /// `unit_price × quantity`; stored so readers need not redo (or get wrong) the arithmetic.
    pub line_total: Money,
    /// The product's category at checkout, which decides whether a discount code applies to the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// What the order's discount code takes off this line; set by the order when it is placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
}

impl OrderLine {
    pub fn new(
        product_id: ProductId,
        sku: Sku,
        name: String,
        unit_price: Money,
        quantity: Quantity,
    ) -> Result<OrderLine, ValueError> {
        let line_total = unit_price.times(quantity)?;
        Ok(OrderLine {
            product_id,
            sku,
            name,
            unit_price,
            quantity,
            line_total,
            category: None,
            discount: None,
        })
    }

    /// The line with its product's category.
    pub fn in_category(mut self, category: impl Into<String>) -> OrderLine {
        self.category = Some(category.into());
        self
    }

    /// The line as a discount sees it.
    pub fn priced(&self) -> PricedLine {
        PricedLine {
            category: self.category.clone(),
            total: self.line_total,
        }
    }

    /// The order line for a checked-out cart line.
    pub fn from_cart_line(line: &CartLine) -> Result<OrderLine, ValueError> {
        OrderLine::new(
            line.product_id,
            line.sku.clone(),
            line.name.clone(),
            line.unit_price,
            Quantity::new(i64::from(line.quantity))?,
        )
    }
}

/// Why an order was cancelled; the first three come from the checkout saga, the rest from people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancellationReason {
    OutOfStock,
    PaymentDeclined,
    PaymentTimeout,
    CancelledByCustomer,
    CancelledByAdmin,
}

impl CancellationReason {
    /// Every reason, for whoever must know them all in advance (metrics registered at zero, tests).
    pub const ALL: [CancellationReason; 5] = [
        CancellationReason::OutOfStock,
        CancellationReason::PaymentDeclined,
        CancellationReason::PaymentTimeout,
        CancellationReason::CancelledByCustomer,
        CancellationReason::CancelledByAdmin,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            CancellationReason::OutOfStock => "out_of_stock",
            CancellationReason::PaymentDeclined => "payment_declined",
            CancellationReason::PaymentTimeout => "payment_timeout",
            CancellationReason::CancelledByCustomer => "cancelled_by_customer",
            CancellationReason::CancelledByAdmin => "cancelled_by_admin",
        }
    }
}

/// What can be asked of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[expect(
    clippy::large_enum_variant,
    reason = "fields stay unboxed so callers can build and match commands plainly; commands are short-lived"
)]
pub enum OrderCommand {
    /// Records the order as Pending; stock and payment are then handled by the checkout saga.
    Place {
        order_id: OrderId,
        user_id: UserId,
        lines: Vec<OrderLine>,
        shipping_address: Address,
        payment_method: PaymentMethod,
        /// The cart's discount code, checked and held by the caller; the order works out what it takes off.
        discount: Option<CodeAtCheckout>,
        at: DateTime<Utc>,
    },
    /// Stock is reserved and payment authorized.
    Confirm {
        at: DateTime<Utc>,
    },
    Cancel {
        reason: CancellationReason,
        at: DateTime<Utc>,
    },
    Ship {
        tracking_number: Option<String>,
        at: DateTime<Utc>,
    },
    Deliver {
        at: DateTime<Utc>,
    },
}

/// A discount code as a cart is checked out with it: the promotion and its offer at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeAtCheckout {
    pub promotion_id: PromotionId,
    pub code: String,
    pub offer: Offer,
    /// Whether the checkout held one of the promotion's redemptions (codes with a limit).
    pub held: bool,
}

/// What an order's discount code took off, in all; each line carries its own part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDiscount {
    pub promotion_id: PromotionId,
    pub code: String,
    pub amount: Money,
    /// Whether the order holds one of the promotion's redemptions, which the checkout saga counts on
    /// confirmation and gives back on cancellation (codes with a limit).
    #[serde(default)]
    pub redemption_held: bool,
}
