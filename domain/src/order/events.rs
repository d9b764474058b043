use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{CancellationReason, OrderDiscount, OrderLine, OrderStatus};
use crate::{Address, Money, OrderId, PaymentMethod, UserId};

/// What happened to an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[expect(
    clippy::large_enum_variant,
    reason = "fields stay unboxed so readers can build and match events plainly; events are short-lived"
)]
pub enum OrderEvent {
    OrderPlaced {
        order_id: OrderId,
        user_id: UserId,
        lines: Vec<OrderLine>,
        /// After the discount, if any: what the customer pays.
        total: Money,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        discount: Option<OrderDiscount>,
        shipping_address: Address,
        payment_method: PaymentMethod,
        placed_at: DateTime<Utc>,
    },
    OrderConfirmed {
        confirmed_at: DateTime<Utc>,
    },
    /// `previous_status` tells compensations whether stock was committed (Confirmed) or only held.
    OrderCancelled {
        reason: CancellationReason,
        previous_status: OrderStatus,
        cancelled_at: DateTime<Utc>,
    },
    OrderShipped {
        tracking_number: Option<String>,
        shipped_at: DateTime<Utc>,
    },
    OrderDelivered {
        delivered_at: DateTime<Utc>,
    },
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        let name = match self {
            OrderEvent::OrderPlaced { .. } => "OrderPlaced",
            OrderEvent::OrderConfirmed { .. } => "OrderConfirmed",
            OrderEvent::OrderCancelled { .. } => "OrderCancelled",
            OrderEvent::OrderShipped { .. } => "OrderShipped",
            OrderEvent::OrderDelivered { .. } => "OrderDelivered",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
