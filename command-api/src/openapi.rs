//! The write side's part of the OpenAPI document: the problem responses its handlers name, and the
//! cross-cutting parts (the `Idempotency-Key` header of every `POST`) that a middleware adds to every route.

use platform::problem::ProblemBody;
use utoipa::IntoResponses;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, Required};

/// Malformed JSON, wrong types, or a malformed `If-Match` or `Idempotency-Key` header.
#[derive(IntoResponses)]
#[response(status = 400, content_type = "application/problem+json")]
pub struct BadRequest(pub ProblemBody);

/// No token, a bad or expired one, or one that was logged out.
#[derive(IntoResponses)]
#[response(status = 401, content_type = "application/problem+json")]
pub struct Unauthorized(pub ProblemBody);

/// The token's role may not do this (administrators only).
#[derive(IntoResponses)]
#[response(status = 403, content_type = "application/problem+json")]
pub struct Forbidden(pub ProblemBody);

/// Nothing with this id, or it is not yours.
#[derive(IntoResponses)]
#[response(status = 404, content_type = "application/problem+json")]
pub struct NotFound(pub ProblemBody);

/// A duplicate (email, SKU) or a concurrent change; also a request with the same `Idempotency-Key` still
/// running (`idempotency_key_in_flight`, with `Retry-After`), or one that outlasted its key's lease and was
/// taken over by a retry (`idempotency_key_taken_over`).
#[derive(IntoResponses)]
#[response(status = 409, content_type = "application/problem+json")]
pub struct Conflict(pub ProblemBody);

/// `If-Match` named another version than the current one.
#[derive(IntoResponses)]
#[response(status = 412, content_type = "application/problem+json")]
pub struct PreconditionFailed(pub ProblemBody);

/// The body is larger than 64 KiB.
#[derive(IntoResponses)]
#[response(status = 413, content_type = "application/problem+json")]
pub struct PayloadTooLarge(pub ProblemBody);

/// The body is not sent as `Content-Type: application/json`.
#[derive(IntoResponses)]
#[response(status = 415, content_type = "application/problem+json")]
pub struct UnsupportedMediaType(pub ProblemBody);

/// A field is not valid (`errors` says which), a business rule refused the command, or the
/// `Idempotency-Key` was used before with another body.
#[derive(IntoResponses)]
#[response(status = 422, content_type = "application/problem+json")]
pub struct Unprocessable(pub ProblemBody);

/// Too many attempts; `Retry-After` says how many seconds to wait.
#[derive(IntoResponses)]
#[response(
    status = 429,
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))
)]
pub struct TooManyRequests(pub ProblemBody);

/// A dependency (database, session store ...) is down; try again after `Retry-After` seconds.
#[derive(IntoResponses)]
#[response(
    status = 503,
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))
)]
pub struct Unavailable(pub ProblemBody);

/// The schemas that the responses above refer to; the path macros only collect the schemas of bodies
/// named in place.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(ProblemBody)))]
pub struct Components;

/// Adds what `idempotency::replay_or_record` does for every `POST` to each `POST` operation of `doc`.
pub fn document_idempotency(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        if let Some(post) = item.post.as_mut() {
            post.parameters
                .get_or_insert_with(Vec::new)
                .push(idempotency_key().into());
        }
    }
}

fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Up to 255 characters. The same key with the same body from the same user within 24 h \
             answers the first response again (with `Idempotent-Replayed: true`) and appends nothing; \
             the same key with another body answers 422. While the first request still runs, a retry \
             answers 409 `idempotency_key_in_flight` with `Retry-After`; if that request's process died, \
             the retry gets its answer (when its changes were committed) or runs afresh once the key's \
             10 s lease has lapsed.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255)),
        ))
        .build()
}
