//! `GET /notifications`. The notifier that fills this list arrives with the checkout saga; until then the
//! list is empty, with the same shape.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use platform::Problem;
use platform::auth::AuthUser;
use serde_json::{Value, json};

use crate::params::{Params, paging};
use crate::state::QueryState;

pub fn router() -> Router<QueryState> {
    Router::new().route("/notifications", get(list))
}

async fn list(
    State(_): State<QueryState>,
    _user: AuthUser,
    Query(params): Query<Params>,
) -> Result<Json<Value>, Problem> {
    let (page, limit) = paging(&params)?;
    Ok(Json(
        json!({"items": [], "page": page, "limit": limit, "total": 0, "pages": 0}),
    ))
}
