//! Extractors shared by the write handlers.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, http::HeaderValue};
use eventstore::{CommandMetadata, CommittedAnswer, Executed, Lease};
use platform::auth::AuthUser;
use platform::client::TrustedProxies;
use platform::{Problem, ProblemCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

/// The longest Idempotency-Key accepted, on any method: the middleware refuses a longer one on a POST, and
/// command metadata never carries one.
pub(crate) const MAX_KEY_LEN: usize = 255;

/// `Json<T>` whose rejections are problem+json like every other error.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> Problem {
    match rejection {
        JsonRejection::JsonDataError(e) => Problem::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::InvalidBody,
            format!(
                "The JSON does not have the expected fields and types: {}",
                e.body_text()
            ),
        ),
        JsonRejection::JsonSyntaxError(_) => Problem::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::MalformedJson,
            "The body is not valid JSON.",
        ),
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::UnsupportedMediaType,
            "Send JSON with Content-Type: application/json.",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::PayloadTooLarge,
            "The request body is larger than 64 KiB.",
        ),
        other => Problem::new(other.status(), ProblemCode::InvalidBody, other.body_text()),
    }
}

/// The version named by `If-Match: "<version>"`, if the client sent one.
pub struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let version = value
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    ProblemCode::InvalidIfMatch,
                    "If-Match must be a version in quotes, as sent in ETag, e.g. \"3\".",
                )
            })?;
        Ok(Self(Some(version)))
    }
}

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("If-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The version the change is meant for, in quotes as sent in `ETag`, e.g. `\"3\"`; \
                     another current version answers 412.",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .example(Some(serde_json::json!("\"3\"")))
                .build(),
        ]
    }
}

/// The ids that tie a command to the request that caused it.
#[derive(Debug, Clone)]
pub struct RequestMeta(pub CommandMetadata);

impl RequestMeta {
    /// The metadata of a request: its ids from the headers, and the hold on its `Idempotency-Key` that the
    /// idempotency middleware took (a request extension).
    pub fn from_parts(headers: &HeaderMap, extensions: &Extensions) -> Self {
        Self(CommandMetadata {
            lease: extensions.get::<Lease>().cloned(),
            ..Self::from_headers(headers).0
        })
    }

    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = text("x-request-id");
        let correlation_id = text("x-correlation-id")
            .or_else(|| request_id.clone())
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        Self(CommandMetadata {
            user_id: None,
            causation_id: request_id.clone(),
            correlation_id,
            request_id,
            // Bounded as the idempotency middleware bounds it: any method may send one.
            idempotency_key: text("idempotency-key").filter(|key| key.len() <= MAX_KEY_LEN),
            lease: None,
        })
    }

    /// The metadata for a command made by `user`.
    pub fn by(&self, user: &AuthUser) -> CommandMetadata {
        CommandMetadata {
            user_id: Some(user.user_id.clone()),
            ..self.0.clone()
        }
    }

    pub fn anonymous(&self) -> CommandMetadata {
        self.0.clone()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(&parts.headers, &parts.extensions))
    }
}

/// The answer to an accepted write: `{id, position}` with `ETag` set to the aggregate's new version.
#[derive(Debug)]
pub struct Written {
    pub status: StatusCode,
    pub id: String,
    pub executed: Executed,
}

/// An accepted write: what it created or changed, and how to read it back.
#[derive(Serialize, ToSchema)]
#[schema(as = Written)]
pub struct WrittenBody {
    /// The id of the aggregate written (for checkout, the new order's).
    id: String,
    /// The opaque token of the last event appended; send it as `X-Min-Position` to read this write.
    position: Option<String>,
    /// The aggregate's version after the write, as in `ETag`.
    version: u64,
}

impl Written {
    pub fn created(id: impl ToString, executed: Executed) -> Self {
        Self {
            status: StatusCode::CREATED,
            id: id.to_string(),
            executed,
        }
    }

    pub fn accepted(id: impl ToString, executed: Executed) -> Self {
        Self {
            status: StatusCode::ACCEPTED,
            id: id.to_string(),
            executed,
        }
    }
}

impl IntoResponse for Written {
    fn into_response(self) -> Response {
        let body = WrittenBody {
            id: self.id,
            position: self.executed.position.map(|p| p.to_string()),
            version: self.executed.version,
        };
        written_response(self.status, body)
    }
}

/// The answer a request gave once its events committed, as recorded with them, for a retry of the request
/// whose first attempt crashed before it could record its whole response.
pub fn committed_response(answer: CommittedAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::ACCEPTED);
    let body = WrittenBody {
        id: answer.id,
        position: answer.position,
        version: answer.version,
    };
    written_response(status, body)
}

fn written_response(status: StatusCode, body: WrittenBody) -> Response {
    let version = body.version;
    let mut response = (status, Json(body)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// The client's address, for rate limits: the TCP peer, or behind a trusted proxy the address it was
/// reached from (`platform::client`).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.extensions, &parts.headers))
    }
}

impl ClientAddr {
    /// The client of a request, from its connection and, behind a trusted proxy, its headers.
    pub fn of(extensions: &axum::http::Extensions, headers: &axum::http::HeaderMap) -> Self {
        let Some(peer) = extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Self("unknown".to_owned());
        };
        let client = extensions
            .get::<TrustedProxies>()
            .map_or(peer, |trusted| trusted.client(peer, headers));
        Self(client.to_string())
    }
}

/// A JSON body that may be left out entirely (then `T::default()`), e.g. `POST /orders/{id}/ship`.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0")
            || !request.headers().contains_key(header::CONTENT_TYPE);
        if empty {
            return Ok(Self(T::default()));
        }
        AppJson::<T>::from_request(request, state)
            .await
            .map(|AppJson(v)| Self(v))
    }
}

/// Parses a path id; anything that is not a UUID names nothing, hence 404.
pub fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, crate::error::ApiError> {
    raw.parse()
        .map_err(|_| crate::error::ApiError::not_found("There is nothing with this id."))
}
