//! RFC 9457 problem details, the body of every error response.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use domain::ProblemCode;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The machine-readable code; serialized as the problem type `/problems/<code>`.
    #[serde(rename = "type", serialize_with = "problem_type")]
    pub code: ProblemCode,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Field → message, for validation failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
    /// Seconds to wait, sent as `Retry-After` for 429 and 503.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// `code` becomes the problem type, `/problems/<code>`, so clients can branch on it.
    pub fn new(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            errors: None,
            retry_after: None,
        }
    }

    pub fn validation(errors: BTreeMap<String, String>) -> Self {
        let detail = if errors.len() == 1 {
            "A field is not valid.".to_owned()
        } else {
            format!("{} fields are not valid.", errors.len())
        };
        Self {
            errors: Some(errors),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::Validation,
                detail,
            )
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ProblemCode::NotFound,
            "There is nothing here.",
        )
    }

    /// A 500 that says nothing about its cause; the caller logs the cause with the request id.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ProblemCode::Internal,
            "Something went wrong on our side. It has been logged.",
        )
    }

    pub fn unavailable(what: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::Unavailable,
            format!("The {what} is unavailable right now; try again shortly."),
        )
        .with_retry_after(2)
    }
}

fn problem_type<S: serde::Serializer>(
    code: &ProblemCode,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("/problems/{code}"))
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Turns axum's own plain-text errors (unknown route, wrong method, body too large...) into problem+json.
pub async fn problem_for_plain_errors(response: Response) -> Response {
    let status = response.status();
    // Only axum's own answers are plain text (or bodiless); a handler's JSON answer stays as it is.
    let is_plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !is_plain {
        return response;
    }
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => (ProblemCode::NotFound, "There is nothing here."),
        StatusCode::METHOD_NOT_ALLOWED => (
            ProblemCode::MethodNotAllowed,
            "This method is not allowed here.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ProblemCode::PayloadTooLarge,
            "The request body is larger than 64 KiB.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ProblemCode::UnsupportedMediaType,
            "Send JSON with Content-Type: application/json.",
        ),
        s if s.is_server_error() => (
            ProblemCode::Internal,
            "Something went wrong on our side. It has been logged.",
        ),
        _ => (
            ProblemCode::BadRequest,
            "The request could not be understood.",
        ),
    };
    let mut problem = Problem::new(status, code, detail).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}

/// The OpenAPI schema of [`Problem`] as it is serialized (`application/problem+json`), shared by the
/// documents of the write and read sides.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody {
    /// `/problems/<code>`, e.g. `/problems/validation`; clients branch on it. One of the listed values.
    #[serde(rename = "type")]
    #[schema(schema_with = problem_types)]
    pub problem_type: String,
    /// The status's reason phrase.
    #[schema(example = "Unprocessable Entity")]
    pub title: String,
    /// The HTTP status, repeated.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// Field → message, for validation failures only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
}

/// The schema of a problem's `type`: a string, one of `/problems/<code>` for every [`ProblemCode`].
fn problem_types() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "`/problems/<code>`, e.g. `/problems/validation`; clients branch on it.",
        ))
        .enum_values(Some(
            ProblemCode::ALL
                .iter()
                .map(|code| format!("/problems/{code}")),
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;

    #[test]
    fn a_code_travels_as_its_problem_type_and_the_document_lists_every_code() {
        let body = serde_json::to_value(Problem::new(
            StatusCode::CONFLICT,
            ProblemCode::OutOfStock,
            "Only 2 left.",
        ))
        .unwrap();
        assert_eq!(body["type"], "/problems/out_of_stock");
        assert_eq!(body["status"], 409);

        let schema = serde_json::to_value(ProblemBody::schema()).unwrap();
        let listed: Vec<&str> = schema["properties"]["type"]["enum"]
            .as_array()
            .expect("the type's values are listed")
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        let every: Vec<String> = ProblemCode::ALL
            .iter()
            .map(|code| format!("/problems/{code}"))
            .collect();
        assert_eq!(listed, every);
    }
}
