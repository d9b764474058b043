use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::{Money, OrderId, PaymentId, PaymentMethod};

/// What happened to a payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentEvent {
    PaymentStarted {
        payment_id: PaymentId,
        order_id: OrderId,
        amount: Money,
        method: PaymentMethod,
        started_at: DateTime<Utc>,
    },
    PaymentAuthorized {
        gateway_reference: String,
        authorized_at: DateTime<Utc>,
    },
    PaymentCaptured {
        amount: Money,
        captured_at: DateTime<Utc>,
    },
    PaymentDeclined {
        reason: String,
        declined_at: DateTime<Utc>,
    },
    PaymentRefunded {
        amount: Money,
        refunded_at: DateTime<Utc>,
    },
    PaymentVoided {
        voided_at: DateTime<Utc>,
    },
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> String {
        let name = match self {
            PaymentEvent::PaymentStarted { .. } => "PaymentStarted",
            PaymentEvent::PaymentAuthorized { .. } => "PaymentAuthorized",
            PaymentEvent::PaymentCaptured { .. } => "PaymentCaptured",
            PaymentEvent::PaymentDeclined { .. } => "PaymentDeclined",
            PaymentEvent::PaymentRefunded { .. } => "PaymentRefunded",
            PaymentEvent::PaymentVoided { .. } => "PaymentVoided",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
