use super::OrderStatus;
use crate::{Refusal, RuleViolation};

/// Why an order command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("no such order")]
    NotFound,
    #[error("an order with this id was already placed")]
    AlreadyPlaced,
    #[error("an order needs at least one line")]
    NoLines,
    #[error("all lines of an order must be priced in the same currency")]
    CurrencyMismatch,
    #[error("the order total would be too large")]
    TotalTooLarge,
    #[error("only a pending order can be confirmed, this one is {status}")]
    NotPending { status: OrderStatus },
    #[error("only a pending or confirmed order can be cancelled, this one is {status}")]
    NotCancellable { status: OrderStatus },
    #[error("only a confirmed order can be shipped, this one is {status}")]
    NotConfirmed { status: OrderStatus },
    #[error("a tracking number can be at most {max} characters")]
    TrackingNumberTooLong { max: usize },
    #[error("only a shipped order can be delivered, this one is {status}")]
    NotShipped { status: OrderStatus },
}

impl RuleViolation for OrderError {
    fn code(&self) -> &'static str {
        match self {
            OrderError::NotFound => "order_not_found",
            OrderError::AlreadyPlaced => "already_placed",
            OrderError::NoLines => "no_lines",
            OrderError::CurrencyMismatch => "currency_mismatch",
            OrderError::TotalTooLarge => "total_too_large",
            OrderError::NotPending { .. } => "not_pending",
            OrderError::NotCancellable { .. } => "not_cancellable",
            OrderError::NotConfirmed { .. } => "not_confirmed",
            OrderError::TrackingNumberTooLong { .. } => "tracking_number_too_long",
            OrderError::NotShipped { .. } => "not_shipped",
        }
    }

    fn refusal(&self) -> Refusal {
        match self {
            OrderError::NotFound => Refusal::NotFound,
            OrderError::AlreadyPlaced => Refusal::Conflict,
            _ => Refusal::Rule,
        }
    }
}
