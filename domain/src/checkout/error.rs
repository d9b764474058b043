use super::CheckoutState;
use crate::{ProblemCode, Refusal, RuleViolation};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    #[error("no checkout was started for this order")]
    NotStarted,
    #[error("a checkout was already started for this order")]
    AlreadyStarted,
    #[error("a checkout that is {state} cannot {step}")]
    OutOfOrder {
        state: CheckoutState,
        step: &'static str,
    },
}

impl RuleViolation for CheckoutError {
    fn code(&self) -> ProblemCode {
        match self {
            Self::NotStarted => ProblemCode::CheckoutNotFound,
            Self::AlreadyStarted => ProblemCode::AlreadyStarted,
            Self::OutOfOrder { .. } => ProblemCode::OutOfOrder,
        }
    }

    fn refusal(&self) -> Refusal {
        match self {
            Self::NotStarted => Refusal::NotFound,
            Self::AlreadyStarted => Refusal::Conflict,
            Self::OutOfOrder { .. } => Refusal::Rule,
        }
    }
}
