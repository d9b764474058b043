use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::CartLine;
use crate::{Money, OrderId, ProductId, PromotionId, Sku};

/// What happened to a cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CartEvent {
    /// `quantity` is how many were added, `line_quantity` how many the line holds afterwards.
    ItemAdded {
        product_id: ProductId,
        sku: Sku,
        name: String,
        unit_price: Money,
        quantity: u32,
        line_quantity: u32,
        added_at: DateTime<Utc>,
    },
    ItemQuantityChanged {
        product_id: ProductId,
        quantity: u32,
        changed_at: DateTime<Utc>,
    },
    ItemRemoved {
        product_id: ProductId,
        removed_at: DateTime<Utc>,
    },
    /// Carries the lines as they were, so the order and any projection need no lookup.
    CartCheckedOut {
        order_id: OrderId,
        lines: Vec<CartLine>,
        checked_out_at: DateTime<Utc>,
    },
    CartCleared {
        cleared_at: DateTime<Utc>,
    },
    DiscountApplied {
        promotion_id: PromotionId,
        code: String,
        applied_at: DateTime<Utc>,
    },
    DiscountRemoved {
        removed_at: DateTime<Utc>,
    },
}

impl DomainEvent for CartEvent {
    fn event_type(&self) -> String {
        let name = match self {
            CartEvent::ItemAdded { .. } => "ItemAdded",
            CartEvent::ItemQuantityChanged { .. } => "ItemQuantityChanged",
            CartEvent::ItemRemoved { .. } => "ItemRemoved",
            CartEvent::CartCheckedOut { .. } => "CartCheckedOut",
            CartEvent::CartCleared { .. } => "CartCleared",
            CartEvent::DiscountApplied { .. } => "DiscountApplied",
            CartEvent::DiscountRemoved { .. } => "DiscountRemoved",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
