//! `ApiError`: every way a write can fail, each with its status, rendered as problem+json.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{Refusal, RuleViolation};
use eventstore::BusError;
use platform::{Problem, ProblemCode};

#[derive(Debug)]
pub enum ApiError {
    /// Already a finished answer (401, 403, 429 ...).
    Problem(Problem),
    /// Fields that failed validation (422).
    Validation(BTreeMap<String, String>),
    /// A business rule or a missing aggregate refused the command (422, 404 or 409).
    Refused {
        status: StatusCode,
        code: ProblemCode,
        detail: String,
    },
    /// A dependency is down (503). The cause is logged, not sent.
    Unavailable { what: &'static str, cause: String },
    /// A bug or an unexpected failure (500). The cause is logged, not sent.
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(field.to_owned(), message.into())]))
    }

    pub fn refused(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::Refused {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::refused(StatusCode::NOT_FOUND, ProblemCode::NotFound, detail)
    }

    /// A refusal from the domain, classified by the domain itself.
    pub fn rule(error: &impl RuleViolation) -> Self {
        let status = match error.refusal() {
            Refusal::NotFound => StatusCode::NOT_FOUND,
            Refusal::Conflict => StatusCode::CONFLICT,
            Refusal::Rule => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::refused(status, error.code(), error.to_string())
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self::Problem(problem)
    }
}

impl<E: RuleViolation> From<BusError<E>> for ApiError {
    fn from(error: BusError<E>) -> Self {
        match error {
            BusError::Rejected(e) => Self::rule(&e),
            BusError::VersionMismatch { expected, actual } => Self::refused(
                StatusCode::PRECONDITION_FAILED,
                ProblemCode::VersionMismatch,
                format!("If-Match named version {expected}, but the current version is {actual}."),
            ),
            BusError::Conflict => Self::refused(
                StatusCode::CONFLICT,
                ProblemCode::ConcurrentChange,
                "Someone else changed this at the same moment; try again.",
            ),
            BusError::LeaseLost => Self::refused(
                StatusCode::CONFLICT,
                ProblemCode::IdempotencyKeyTakenOver,
                "This request outlasted its Idempotency-Key's lease and a retry took the key over; \
                 nothing was changed by this one.",
            ),
            BusError::Unavailable(cause) => Self::Unavailable {
                what: "event store",
                cause: error_chain(&*cause),
            },
            BusError::Internal(cause) => Self::Internal(error_chain(&*cause)),
        }
    }
}

impl From<eventstore::db::DbError> for ApiError {
    fn from(error: eventstore::db::DbError) -> Self {
        Self::Unavailable {
            what: "database",
            cause: error.to_string(),
        }
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Problem(problem) => problem,
            Self::Validation(errors) => Problem::validation(errors),
            Self::Refused {
                status,
                code,
                detail,
            } => Problem::new(status, code, detail),
            Self::Unavailable { what, cause } => {
                tracing::error!(%cause, "{what} unavailable");
                Problem::unavailable(what)
            }
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Problem::internal()
            }
        };
        problem.into_response()
    }
}
