use super::OrderStatus;
use crate::promotion::discount::DiscountError;
use crate::{ProblemCode, Refusal, RuleViolation};

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
    /// The order's discount code takes nothing off its lines.
    #[error(transparent)]
    Discount(#[from] DiscountError),
}

impl RuleViolation for OrderError {
    fn code(&self) -> ProblemCode {
        match self {
            OrderError::NotFound => ProblemCode::OrderNotFound,
            OrderError::AlreadyPlaced => ProblemCode::AlreadyPlaced,
            OrderError::NoLines => ProblemCode::NoLines,
            OrderError::CurrencyMismatch => ProblemCode::CurrencyMismatch,
            OrderError::TotalTooLarge => ProblemCode::TotalTooLarge,
            OrderError::NotPending { .. } => ProblemCode::NotPending,
            OrderError::NotCancellable { .. } => ProblemCode::NotCancellable,
            OrderError::NotConfirmed { .. } => ProblemCode::NotConfirmed,
            OrderError::TrackingNumberTooLong { .. } => ProblemCode::TrackingNumberTooLong,
            OrderError::NotShipped { .. } => ProblemCode::NotShipped,
            OrderError::Discount(refusal) => refusal.code(),
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
