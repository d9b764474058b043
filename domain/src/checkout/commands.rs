use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::order::CancellationReason;
use crate::{Money, OrderId, PaymentMethod, ProductId, PromotionId};

/// A line the checkout reserves stock for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedLine {
    pub product_id: ProductId,
    pub quantity: u32,
}

/// What the saga records about a checkout. Repeating a step already recorded changes nothing, because the
/// saga repeats steps whenever a message is delivered again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CheckoutCommand {
    Start {
        order_id: OrderId,
        lines: Vec<ReservedLine>,
        amount: Money,
        method: PaymentMethod,
        /// When an unanswered payment counts as declined.
        payment_deadline: DateTime<Utc>,
        /// The promotion whose redemption the order holds, counted on confirmation and given back on failure.
        promotion: Option<PromotionId>,
        at: DateTime<Utc>,
    },
    RecordStockReserved {
        at: DateTime<Utc>,
    },
    RecordPaymentCaptured {
        gateway_reference: String,
        at: DateTime<Utc>,
    },
    /// The order's total is zero (a discount took all of it): it is paid without asking any provider, which
    /// would refuse an amount under its minimum.
    RecordNothingToPay {
        at: DateTime<Utc>,
    },
    Complete {
        at: DateTime<Utc>,
    },
    Fail {
        reason: CancellationReason,
        at: DateTime<Utc>,
    },
    /// Stock released and money returned after a failure or a cancellation.
    RecordCompensated {
        refunded: bool,
        at: DateTime<Utc>,
    },
}
