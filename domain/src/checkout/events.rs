use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::ReservedLine;
use crate::order::CancellationReason;
use crate::{Money, OrderId, PaymentMethod, PromotionId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CheckoutEvent {
    CheckoutStarted {
        order_id: OrderId,
        lines: Vec<ReservedLine>,
        amount: Money,
        method: PaymentMethod,
        payment_deadline: DateTime<Utc>,
        /// The promotion whose redemption the order holds (absent in checkouts started before codes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        promotion: Option<PromotionId>,
        started_at: DateTime<Utc>,
    },
    CheckoutStockReserved {
        reserved_at: DateTime<Utc>,
    },
    CheckoutPaymentCaptured {
        gateway_reference: String,
        captured_at: DateTime<Utc>,
    },
    /// Paid without a payment: the order's total is zero.
    CheckoutNothingToPay {
        paid_at: DateTime<Utc>,
    },
    CheckoutCompleted {
        completed_at: DateTime<Utc>,
    },
    CheckoutFailed {
        reason: CancellationReason,
        failed_at: DateTime<Utc>,
    },
    CheckoutCompensated {
        refunded: bool,
        compensated_at: DateTime<Utc>,
    },
}

impl DomainEvent for CheckoutEvent {
    fn event_type(&self) -> String {
        match self {
            Self::CheckoutStarted { .. } => "CheckoutStarted",
            Self::CheckoutStockReserved { .. } => "CheckoutStockReserved",
            Self::CheckoutPaymentCaptured { .. } => "CheckoutPaymentCaptured",
            Self::CheckoutNothingToPay { .. } => "CheckoutNothingToPay",
            Self::CheckoutCompleted { .. } => "CheckoutCompleted",
            Self::CheckoutFailed { .. } => "CheckoutFailed",
            Self::CheckoutCompensated { .. } => "CheckoutCompensated",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
