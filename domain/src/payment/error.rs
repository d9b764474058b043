use super::PaymentStatus;
use crate::{Refusal, RuleViolation};

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
    fn code(&self) -> &'static str {
        match self {
            PaymentError::NotFound => "payment_not_found",
            PaymentError::AlreadyStarted => "already_started",
            PaymentError::InvalidTransition { .. } => "invalid_transition",
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
