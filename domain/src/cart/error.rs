use crate::{Refusal, RuleViolation};

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
    #[error("an empty cart cannot be checked out")]
    EmptyCart,
    #[error("the cart total would be too large")]
    TotalTooLarge,
}

impl RuleViolation for CartError {
    fn code(&self) -> &'static str {
        match self {
            CartError::ProductDiscontinued => "product_discontinued",
            CartError::LineLimitExceeded { .. } => "line_limit_exceeded",
            CartError::CurrencyMismatch => "currency_mismatch",
            CartError::LineNotFound => "line_not_found",
            CartError::EmptyCart => "empty_cart",
            CartError::TotalTooLarge => "total_too_large",
        }
    }

    fn refusal(&self) -> Refusal {
        match self {
            CartError::LineNotFound => Refusal::NotFound,
            _ => Refusal::Rule,
        }
    }
}
