//! The read side's part of the OpenAPI document: the problem responses its handlers name and the money
//! they show.

use domain::Money;
use platform::problem::ProblemBody;
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

/// A query parameter or `X-Min-Position` of the wrong type.
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

/// A search that cannot be answered as asked: `q` over 200 characters or 10 words, `page × limit` over
/// 10,000, `min_price` above `max_price`. `errors` names the parameter.
#[derive(IntoResponses)]
#[response(status = 422, content_type = "application/problem+json")]
pub struct Unprocessable(pub ProblemBody);

/// A read model or the event store is down; try again after `Retry-After` seconds.
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

/// An amount of money, never a float.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Money)]
pub struct MoneyBody {
    /// Minor units (cents).
    #[schema(example = 1999)]
    pub amount: i64,
    /// An ISO 4217 code.
    #[schema(example = "EUR")]
    pub currency: String,
}

impl From<Money> for MoneyBody {
    fn from(money: Money) -> Self {
        Self {
            amount: money.amount(),
            currency: money.currency().to_string(),
        }
    }
}
