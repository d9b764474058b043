//! The HTTP side of a process: its routes and the layers every request passes through.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::middleware::{from_fn, map_response};
use eventstore::Feed;
use platform::client::TrustedProxies;
use platform::{ProblemCode, Settings};
use projectors::runner::LagBoard;
use projectors::search::CatalogIndex;
use projectors::store::query::ReadModels;
use query_api::QueryState;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::reference;
use super::roles::Roles;
use super::stores::{Stores, broker};
use crate::health::Readiness;

const BODY_LIMIT: usize = 64 * 1024;
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds every route of `role`, with the layers every request passes through.
pub(super) fn router(
    settings: &Settings,
    stores: &Stores,
    role: &Roles,
    lag: &LagBoard,
    catalog: Option<&CatalogIndex>,
) -> Router {
    // Install the recorder before the first request, so no early measurement is lost.
    platform::metrics::recorder();
    if role.serves_commands() || role.runs_saga() {
        eventstore::business::register_at_zero();
    }
    let mut api = Router::new();
    if role.serves_commands() {
        api = api.merge(command_api::router(stores.command_state(settings)));
    }
    if let Some(catalog) = catalog {
        api = api.merge(query_api::router(QueryState {
            catalog: catalog.clone(),
            feed: Feed::new(stores.pool.clone()),
            pool: stores.pool.clone(),
            models: Arc::new(ReadModels::new(
                stores.read.clone(),
                stores.near_cache.clone(),
            )),
            auth: stores.authenticator(settings),
        }));
    }
    let serves_api = role.serves_commands() || role.serves_queries();
    if serves_api {
        api = api.merge(reference::document_router());
    }
    let api = api
        .fallback(|| async { no_such_route() })
        .layer(axum::Extension(TrustedProxies(
            settings.trusted_proxies.clone(),
        )))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(platform::metrics::track));

    let readiness = Readiness::new(
        stores.pool.clone(),
        stores.redis.clone(),
        stores.read.clone(),
        broker(settings),
        lag.clone(),
        catalog.cloned(),
    );
    let mut app = Router::new()
        .nest(reference::API_BASE, api)
        .merge(crate::health::operations_router(readiness));
    if serves_api {
        app = app
            .merge(reference::ui())
            .merge(crate::media::MediaFiles::new(stores.media.clone()).router());
    }
    let index = format!("{}/index.html", settings.frontend_dir);
    if std::path::Path::new(&index).exists() {
        // Unknown paths under / are the storefront's own routes: answer with its index page.
        app = app.fallback_service(
            ServeDir::new(&settings.frontend_dir).fallback(ServeFile::new(index)),
        );
    }
    app.layer(map_response(platform::problem::problem_for_plain_errors))
        .layer(map_response(security_headers))
        .layer(cors(settings))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(from_fn(platform::request_ids::drop_unacceptable_ids))
}

/// The span around a request: every log line inside it carries the request and correlation ids (the
/// correlation id is the caller's `X-Correlation-Id`, else the request id, as the command metadata has it).
fn request_span(request: &Request<axum::body::Body>) -> tracing::Span {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let request_id = header(REQUEST_ID.as_str()).unwrap_or("-");
    let correlation_id = header("x-correlation-id").unwrap_or(request_id);
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        correlation_id,
    )
}

/// The answer under `/api/v1` for a path no route has. Its own problem type tells a client (and the test
/// that every documented route is served) that the route is missing, not the resource it names.
fn no_such_route() -> platform::Problem {
    platform::Problem::new(
        axum::http::StatusCode::NOT_FOUND,
        ProblemCode::NoSuchRoute,
        "There is no such endpoint; see /api/v1/openapi.json.",
    )
}

/// The storefront and Swagger UI load scripts, styles and fonts from this origin only, and no page of the
/// shop may be framed. Images may be `data:` URIs (Swagger UI's icons).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Headers every answer carries (compose's nginx sets the same for what it serves itself).
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

fn cors(settings: &Settings) -> CorsLayer {
    let origins: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-min-position"),
            HeaderName::from_static("x-correlation-id"),
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            REQUEST_ID,
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("x-read-model-stale"),
        ])
        .max_age(Duration::from_secs(600))
}
