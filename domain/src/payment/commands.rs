use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Money, OrderId, PaymentId, PaymentMethod};

/// What can be asked of a payment; each command records what the gateway answered.
///
/// Retries are expected (the saga re-sends after crashes), so repeating the command that led
/// to the current state succeeds without a new event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentCommand {
    /// `payment_id` should be `PaymentId::for_order(order_id)`.
    Start {
        payment_id: PaymentId,
        order_id: OrderId,
        amount: Money,
        method: PaymentMethod,
        at: DateTime<Utc>,
    },
    Authorize {
        /// The gateway's id for the authorization, needed to capture or void it later.
        gateway_reference: String,
        at: DateTime<Utc>,
    },
    Capture {
        at: DateTime<Utc>,
    },
    /// The gateway refused to authorize or to capture.
    Decline {
        reason: String,
        at: DateTime<Utc>,
    },
    Refund {
        at: DateTime<Utc>,
    },
    /// Releases an authorization that will never be captured, e.g. the order was cancelled.
    Void {
        at: DateTime<Utc>,
    },
}
