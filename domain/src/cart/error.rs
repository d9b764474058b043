use crate::{ProblemCode, Refusal, RuleViolation};

/// Why a cart command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    #[error("the product is discontinued and cannot be added")]
    ProductDiscontinued,
    #[error("a cart line can hold at most {max} units")]
    LineLimitExceeded { max: u32 },
    #[error("all items in a cart must be priced in the same currency")]
    CurrencyMismatch,
    #[error("the cart has no line for this product")]
    LineNotFound,
    #[error("the cart is empty")]
    EmptyCart,
    #[error("the cart total would be too large")]
    TotalTooLarge,
}

impl RuleViolation for CartError {
    fn code(&self) -> ProblemCode {
        match self {
            CartError::ProductDiscontinued => ProblemCode::ProductDiscontinued,
            CartError::LineLimitExceeded { .. } => ProblemCode::LineLimitExceeded,
            CartError::CurrencyMismatch => ProblemCode::CurrencyMismatch,
            CartError::LineNotFound => ProblemCode::LineNotFound,
            CartError::EmptyCart => ProblemCode::EmptyCart,
            CartError::TotalTooLarge => ProblemCode::TotalTooLarge,
        }
    }

    fn refusal(&self) -> Refusal {
        match self {
            CartError::LineNotFound => Refusal::NotFound,
            _ => Refusal::Rule,
        }
    }
}
