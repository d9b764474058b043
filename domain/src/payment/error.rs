use super::PaymentStatus;
use crate::{ProblemCode, Refusal, RuleViolation};

/// Why a payment command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("no such payment")]
    NotFound,
    #[error("the payment for this order was already started")]
    AlreadyStarted,
    #[error("cannot {action} a payment that is {from}")]
    InvalidTransition {
        from: PaymentStatus,
        action: &'static str,
    },
}

impl RuleViolation for PaymentError {
    fn code(&self) -> ProblemCode {
        match self {
            PaymentError::NotFound => ProblemCode::PaymentNotFound,
            PaymentError::AlreadyStarted => ProblemCode::AlreadyStarted,
            PaymentError::InvalidTransition { .. } => ProblemCode::InvalidTransition,
        }
    }

    fn refusal(&self) -> Refusal {
        match self {
            PaymentError::NotFound => Refusal::NotFound,
            PaymentError::AlreadyStarted => Refusal::Conflict,
            PaymentError::InvalidTransition { .. } => Refusal::Rule,
        }
    }
}
