//! `GET /notifications`: the messages sent to the caller (or, for administrators, to everyone).

use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::auth::AuthUser;
use projectors::views::notifications::NotificationView;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::consistency::{MinPosition, Wait};
use crate::error::ReadError;
use crate::openapi::{BadRequest, Unauthorized, Unavailable, Unprocessable};
use crate::params::{Page, Paging};
use crate::state::QueryState;

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// A message sent; each kind is sent once per order.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    id: String,
    /// `order_confirmed`, `order_cancelled`, `order_shipped`, `order_delivered` or `welcome`.
    kind: String,
    /// How it was sent, e.g. `email`.
    channel: String,
    /// Where it was sent.
    to: String,
    subject: String,
    order_id: Option<String>,
    sent_at: Option<DateTime<Utc>>,
}

impl From<&NotificationView> for Notification {
    fn from(n: &NotificationView) -> Self {
        Self {
            id: n.id.clone(),
            kind: n.kind.clone(),
            channel: n.channel.clone(),
            to: n.to.clone(),
            subject: n.subject.clone(),
            order_id: n.order_id.clone(),
            sent_at: n.sent_at,
        }
    }
}

/// The messages sent to the caller, newest first; administrators see everyone's.
#[utoipa::path(
    get,
    path = "/notifications",
    operation_id = "list_notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(Paging, MinPosition),
    responses(
        (status = 200, description = "A page of notifications", body = Page<Notification>,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unauthorized, Unprocessable, Unavailable,
    )
)]
async fn list(
    State(state): State<QueryState>,
    user: AuthUser,
    MinPosition(after): MinPosition,
    Query(paging): Query<Paging>,
) -> Result<Response, ReadError> {
    let (page, limit) = paging.parse()?;
    let mut wait = Wait::new(after);
    wait.for_view::<NotificationView>(&state.models).await;
    let user_id = (!user.is_admin()).then_some(user.user_id.as_str());
    let found = state.models.notifications(user_id, page, limit).await?;
    Ok(wait.finish(Json(Page::of(&found, Notification::from))))
}
