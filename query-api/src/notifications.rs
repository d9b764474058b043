//! `GET /notifications`: the messages sent to the caller (or, for administrators, to everyone).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use platform::Problem;
use platform::auth::AuthUser;
use projectors::views::notifications::NotificationView;
use serde_json::json;

use crate::consistency::{Wait, min_position, unavailable};
use crate::params::{Params, page_json, paging};
use crate::state::QueryState;

pub fn router() -> Router<QueryState> {
    Router::new().route("/notifications", get(list))
}

async fn list(
    State(state): State<QueryState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, Problem> {
    let (page, limit) = paging(&params)?;
    let mut wait = Wait::new(min_position(&headers, &params)?);
    wait.for_view::<NotificationView>(&state.models).await;
    let user_id = (!user.is_admin()).then_some(user.user_id.as_str());
    let found = state
        .models
        .notifications(user_id, page, limit)
        .await
        .map_err(unavailable)?;
    let items = found
        .items
        .iter()
        .map(|n| {
            json!({"id": n.id, "kind": n.kind, "channel": n.channel, "to": n.to, "subject": n.subject,
                   "order_id": n.order_id, "sent_at": n.sent_at})
        })
        .collect();
    Ok(wait.finish(Json(page_json(&found, items))))
}
