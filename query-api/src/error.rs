//! `ReadError`: every way a read can fail, each with its status, rendered as problem+json. The cause of a
//! 503 or a 500 is logged, never sent.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{Problem, ProblemCode};

#[derive(Debug)]
pub enum ReadError {
    /// Already a finished answer (401 and 403 from the authentication extractors).
    Problem(Problem),
    /// Nothing here, or nothing this caller may see (404).
    NotFound,
    /// A query parameter or header that does not parse (400): its name and what it must be.
    Parameter {
        name: &'static str,
        expected: &'static str,
    },
    /// Parameters that parse but do not fit together (422), field → message.
    Validation(BTreeMap<String, String>),
    /// A store is down (503).
    Unavailable { what: &'static str, cause: String },
    /// A bug, or data that cannot be shown (500).
    Internal(String),
}

impl ReadError {
    pub fn parameter(name: &'static str, expected: &'static str) -> Self {
        Self::Parameter { name, expected }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(field.to_owned(), message.into())]))
    }

    pub fn unavailable(what: &'static str, cause: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            what,
            cause: cause.to_string(),
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

impl From<Problem> for ReadError {
    fn from(problem: Problem) -> Self {
        Self::Problem(problem)
    }
}

impl From<projectors::store::StoreError> for ReadError {
    fn from(error: projectors::store::StoreError) -> Self {
        Self::unavailable("read model store", error)
    }
}

impl From<projectors::search::SearchError> for ReadError {
    fn from(error: projectors::search::SearchError) -> Self {
        Self::unavailable("catalog index", error)
    }
}

impl From<eventstore::db::DbError> for ReadError {
    fn from(error: eventstore::db::DbError) -> Self {
        Self::unavailable("event store", error)
    }
}

impl IntoResponse for ReadError {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Problem(problem) => problem,
            Self::NotFound => Problem::not_found(),
            Self::Parameter { name, expected } => Problem::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::InvalidParameter,
                format!("The query parameter {name} must be {expected}."),
            ),
            Self::Validation(errors) => Problem::validation(errors),
            Self::Unavailable { what, cause } => {
                tracing::error!(what, %cause, "a store of the read side is unavailable");
                Problem::unavailable(what)
            }
            Self::Internal(cause) => {
                tracing::error!(%cause, "a read failed");
                Problem::internal()
            }
        };
        problem.into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    async fn answer(error: ReadError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn it_should_answer_each_kind_with_its_status_and_code_and_never_send_a_cause() {
        let cases = [
            (ReadError::NotFound, 404, "/problems/not_found"),
            (
                ReadError::parameter("limit", "a whole number from 1 to 100"),
                400,
                "/problems/invalid_parameter",
            ),
            (
                ReadError::field("max_price", "must not be below min_price"),
                422,
                "/problems/validation",
            ),
            (
                ReadError::unavailable("read model store", "connection refused by 10.0.0.7"),
                503,
                "/problems/unavailable",
            ),
            (
                ReadError::internal("a total overflowed at 10.0.0.7"),
                500,
                "/problems/internal",
            ),
        ];
        for (error, status, problem_type) in cases {
            let (answered, body) = answer(error).await;
            assert_eq!(answered.as_u16(), status);
            assert_eq!(body["type"], problem_type);
            assert!(!body.to_string().contains("10.0.0.7"), "{body}");
        }
    }
}
