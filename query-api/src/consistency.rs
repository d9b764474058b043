//! Read-your-writes: `X-Min-Position` (or `min_position`) makes a read wait, up to 5 s, until every read
//! model behind the endpoint has processed that position; if time runs out the answer says
//! `X-Read-Model-Stale: true`.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use eventstore::Position;
use platform::Problem;
use projectors::View;
use projectors::store::query::ReadModels;

use crate::params::{Params, invalid};

const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);

/// The position a client asked to read after, from the header or the query string.
pub fn min_position(headers: &HeaderMap, params: &Params) -> Result<Option<Position>, Problem> {
    let raw = headers
        .get("x-min-position")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| params.get("min_position").cloned());
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| invalid("min_position", "a position token from a write's answer")),
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
            tokio::time::sleep(POLL).await;
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

/// A read model that cannot be reached answers 503; the cause is logged.
pub fn unavailable(error: projectors::store::StoreError) -> Problem {
    tracing::error!(%error, "read model unavailable");
    Problem::unavailable("read model store")
}
