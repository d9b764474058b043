//! Read-your-writes: `X-Min-Position` (or `min_position`) makes a read wait, up to 5 s, until every read
//! model behind the endpoint has processed that position; if time runs out the answer says
//! `X-Read-Model-Stale: true`.

use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Query};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use eventstore::Position;
use projectors::View;
use projectors::search::CatalogIndex;
use projectors::store::query::ReadModels;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::error::ReadError;

const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);
const POLL_WHILE_ANNOUNCED: Duration = Duration::from_millis(100);
const HEADER: &str = "x-min-position";

/// The position a client asked to read after, from `X-Min-Position` or else `min_position`.
pub struct MinPosition(pub Option<Position>);

#[derive(Deserialize)]
struct MinPositionQuery {
    min_position: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for MinPosition {
    type Rejection = ReadError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts
            .headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                Query::<MinPositionQuery>::try_from_uri(&parts.uri)
                    .ok()
                    .and_then(|Query(q)| q.min_position)
            });
        match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(Self(None)),
            Some(raw) => raw
                .parse()
                .map(|position| Self(Some(position)))
                .map_err(|_| {
                    ReadError::parameter("min_position", "a position token from a write's answer")
                }),
        }
    }
}

impl IntoParams for MinPosition {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let description = "The `position` of a write: the read waits, up to 5 s, until every read \
                           model behind it has processed that position. If the wait runs out it \
                           answers with what it has and `X-Read-Model-Stale: true`.";
        let parameter = |name: &str, place| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(place)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        vec![
            parameter("X-Min-Position", ParameterIn::Header),
            parameter("min_position", ParameterIn::Query),
        ]
    }
}

/// A deadline shared by every view one request waits for.
pub struct Wait {
    target: Option<Position>,
    deadline: Instant,
    stale: bool,
}

impl Wait {
    pub fn new(target: Option<Position>) -> Self {
        Self {
            target,
            deadline: Instant::now() + WAIT,
            stale: false,
        }
    }

    /// Waits until view `V` has reached the target (or the deadline passed).
    pub async fn for_view<V: View>(&mut self, models: &ReadModels) {
        let Some(target) = self.target else { return };
        loop {
            // Armed before looking, so that an announcement in between wakes this wait.
            let announced = models.cache().announced();
            tokio::pin!(announced);
            announced.as_mut().enable();
            if models.heard_at_least::<V>(target).await {
                return;
            }
            match models.checkpoint::<V>().await {
                Ok(Some(checkpoint)) if checkpoint >= target => return,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(view = V::NAME, %error, "cannot read a read model's checkpoint")
                }
            }
            if Instant::now() >= self.deadline {
                self.stale = true;
                return;
            }
            // While announcements come, they end the wait; the store is asked now and then all the same.
            let poll = if models.cache().is_live() {
                POLL_WHILE_ANNOUNCED
            } else {
                POLL
            };
            tokio::select! {
                () = &mut announced => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Waits until this process's catalog index shows the target (or the deadline passed): the reader that
    /// answers, not only the writer, holds the position.
    pub async fn for_catalog(&mut self, catalog: &CatalogIndex) {
        let Some(target) = self.target else { return };
        if !catalog.wait_for(target, self.deadline).await {
            self.stale = true;
        }
    }

    /// Marks the response stale if the wait ran out.
    pub fn finish(&self, response: impl IntoResponse) -> Response {
        let mut response = response.into_response();
        if self.stale {
            response
                .headers_mut()
                .insert("x-read-model-stale", HeaderValue::from_static("true"));
        }
        response
    }
}
