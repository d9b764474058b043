use super::MAX_NAME_CHARS;
use crate::{ProblemCode, Refusal, RuleViolation};

/// Why a user command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("a user with this id is already registered")]
    AlreadyRegistered,
    #[error("no user is registered with this id")]
    NotRegistered,
    #[error("a name cannot be empty")]
    EmptyName,
    #[error("a name can be at most {} characters", MAX_NAME_CHARS)]
    NameTooLong,
}

impl RuleViolation for UserError {
    fn code(&self) -> ProblemCode {
        match self {
            UserError::AlreadyRegistered => ProblemCode::AlreadyRegistered,
            UserError::NotRegistered => ProblemCode::UserNotFound,
            UserError::EmptyName => ProblemCode::EmptyName,
            UserError::NameTooLong => ProblemCode::NameTooLong,
        }
    }

    fn refusal(&self) -> Refusal {
        match self {
            UserError::AlreadyRegistered => Refusal::Conflict,
            UserError::NotRegistered => Refusal::NotFound,
            UserError::EmptyName | UserError::NameTooLong => Refusal::Rule,
        }
    }
}
