use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ProductImage;
use crate::{ImageId, Money, OrderId, ProductId, Quantity, Sku};

/// What can be asked of a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProductCommand {
    Create {
        product_id: ProductId,
        sku: Sku,
        name: String,
        description: String,
        category: String,
        price: Money,
        stock: u32,
        at: DateTime<Utc>,
    },
    /// Changes only the fields that are `Some`.
    UpdateDetails {
        name: Option<String>,
        description: Option<String>,
        category: Option<String>,
        price: Option<Money>,
        at: DateTime<Utc>,
    },
    /// A stock count correction or a delivery (positive) or a write-off (negative).
    AdjustStock {
        delta: i64,
        at: DateTime<Utc>,
    },
    Discontinue {
        at: DateTime<Utc>,
    },
    /// Holds units for an order until it is confirmed, cancelled, or `expires_at` passes.
    Reserve {
        order_id: OrderId,
        quantity: Quantity,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The order is confirmed: the held units leave the stock for good.
    CommitReservation {
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    /// Gives the units back; a compensation, so releasing twice or releasing nothing is fine.
    ReleaseReservation {
        order_id: OrderId,
        reason: ReleaseReason,
        at: DateTime<Utc>,
    },
    /// Sent by a sweeper; `now` is when it looked, and decides whether the hold has lapsed.
    ExpireReservation {
        order_id: OrderId,
        now: DateTime<Utc>,
    },
    /// Shows an image whose files are already stored, after the others.
    AddImage {
        image: ProductImage,
        at: DateTime<Utc>,
    },
    /// Every image of the product, each once, in the order to show them.
    ReorderImages {
        order: Vec<ImageId>,
        at: DateTime<Utc>,
    },
    RemoveImage {
        image_id: ImageId,
        at: DateTime<Utc>,
    },
}

/// Why reserved units went back to stock, for the stock history and for support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    OrderCancelled,
    Expired,
    /// Another line of the same order could not be reserved.
    OutOfStock,
    PaymentDeclined,
    PaymentTimeout,
}

impl ReleaseReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReleaseReason::OrderCancelled => "order_cancelled",
            ReleaseReason::Expired => "expired",
            ReleaseReason::OutOfStock => "out_of_stock",
            ReleaseReason::PaymentDeclined => "payment_declined",
            ReleaseReason::PaymentTimeout => "payment_timeout",
        }
    }
}
