//! `GET /me`.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::auth::AuthUser;
use projectors::views::users::UserProfile;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::consistency::{MinPosition, Wait};
use crate::error::ReadError;
use crate::openapi::{BadRequest, NotFound, Unauthorized, Unavailable};
use crate::state::QueryState;

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new().routes(routes!(show))
}

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Email)]
    email: String,
    name: String,
    /// `customer` or `admin`.
    role: String,
    created_at: Option<DateTime<Utc>>,
}

/// The caller's account.
#[utoipa::path(
    get,
    path = "/me",
    operation_id = "get_me",
    tag = "auth",
    security(("bearer" = [])),
    params(MinPosition),
    responses(
        (status = 200, description = "The caller's account", body = Profile,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unauthorized, NotFound, Unavailable,
    )
)]
async fn show(
    State(state): State<QueryState>,
    user: AuthUser,
    MinPosition(after): MinPosition,
) -> Result<Response, ReadError> {
    let mut wait = Wait::new(after);
    wait.for_view::<UserProfile>(&state.models).await;
    let Some(profile) = state.models.user(&user.user_id).await? else {
        return Err(ReadError::NotFound);
    };
    let p = profile.view;
    Ok(wait.finish(Json(Profile {
        id: p.id,
        email: p.email,
        name: p.name,
        role: p.role,
        created_at: p.created_at,
    })))
}
