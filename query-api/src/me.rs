//! `GET /me`.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use platform::Problem;
use platform::auth::AuthUser;
use projectors::views::users::UserProfile;
use serde_json::json;

use crate::consistency::{Wait, min_position, unavailable};
use crate::params::Params;
use crate::state::QueryState;

pub fn router() -> Router<QueryState> {
    Router::new().route("/me", get(show))
}

async fn show(
    State(state): State<QueryState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, Problem> {
    let mut wait = Wait::new(min_position(&headers, &params)?);
    wait.for_view::<UserProfile>(&state.models).await;
    let Some(profile) = state
        .models
        .user(&user.user_id)
        .await
        .map_err(unavailable)?
    else {
        return Err(Problem::not_found());
    };
    let p = profile.view;
    Ok(wait.finish(Json(json!({
        "id": p.id, "email": p.email, "name": p.name, "role": p.role, "created_at": p.created_at,
    }))))
}
