//! The operations endpoints, outside `/api/v1`: liveness, readiness (the dependencies and the projectors'
//! lag) and the Prometheus metrics, with their routes and their part of the OpenAPI document.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};
use eventstore::db::PgPool;
use projectors::runner::LagBoard;
use projectors::search::CatalogIndex;
use projectors::store::ReadStores;
use redis::aio::ConnectionManager;
use saga::Broker;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The dependencies `/health/ready` checks, and the projectors' lag it reports.
#[derive(Clone)]
pub struct Readiness {
    pool: PgPool,
    redis: ConnectionManager,
    read: ReadStores,
    /// RabbitMQ: readiness opens (and closes) an AMQP connection, which proves more than an open port
    /// (credentials, vhost, a broker that answers the protocol).
    broker: Broker,
    lag: LagBoard,
    /// The catalog index of a query process: not ready until it is built from the feed.
    catalog: Option<CatalogIndex>,
}

impl Readiness {
    pub fn new(
        pool: PgPool,
        redis: ConnectionManager,
        read: ReadStores,
        broker: Broker,
        lag: LagBoard,
        catalog: Option<CatalogIndex>,
    ) -> Self {
        Self {
            pool,
            redis,
            read,
            broker,
            lag,
            catalog,
        }
    }
}

/// `/health/live`, `/health/ready` and `/metrics`.
pub fn operations_router(readiness: Readiness) -> Router {
    let (router, _) = operations().split_for_parts();
    router.with_state(readiness)
}

/// The operations routes with their OpenAPI docs (merged into the document by `startup::reference`).
pub(crate) fn operations() -> OpenApiRouter<Readiness> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/health/live",
    operation_id = "check_liveness",
    tag = "operations",
    responses((status = 200, description = "`{\"status\": \"live\"}`", body = Object))
)]
async fn live() -> impl IntoResponse {
    Json(json!({ "status": "live" }))
}

/// Whether PostgreSQL, MongoDB, Redis and RabbitMQ can be reached, and how far behind each projector is.
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "check_readiness",
    tag = "operations",
    responses(
        (status = 200, description = "`{status: \"ready\", checks: {postgresql: \"up\", ...}, projectors}`", body = Object),
        (status = 503, description = "`checks` names the dependencies that are `down`", body = Object),
    )
)]
async fn ready(State(readiness): State<Readiness>) -> impl IntoResponse {
    let postgres = async {
        tokio::time::timeout(CHECK_TIMEOUT, sqlx_ping(&readiness.pool))
            .await
            .map_err(|_| "timed out".to_owned())
            .and_then(|r| r)
    };
    let redis = async {
        let mut redis = readiness.redis.clone();
        tokio::time::timeout(
            CHECK_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut redis),
        )
        .await
        .map_err(|_| "timed out".to_owned())
        .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()))
    };
    let mongodb = async {
        tokio::time::timeout(CHECK_TIMEOUT, readiness.read.ping_mongo())
            .await
            .map_err(|_| "timed out".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string()))
    };
    let rabbitmq = async {
        tokio::time::timeout(CHECK_TIMEOUT, readiness.broker.ping())
            .await
            .map_err(|_| "timed out".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string()))
    };
    let (postgres, redis, mongodb, rabbitmq) = tokio::join!(postgres, redis, mongodb, rabbitmq);
    let catalog = match &readiness.catalog {
        Some(index) if !index.is_built() => Err("building from the event feed".to_owned()),
        _ => Ok(()),
    };
    let checks = [
        ("postgresql", postgres),
        ("redis", redis),
        ("mongodb", mongodb),
        ("rabbitmq", rabbitmq),
        ("catalog_index", catalog),
    ];
    let ready = checks.iter().all(|(_, r)| r.is_ok());
    let mut body = serde_json::Map::new();
    for (name, result) in &checks {
        if let Err(e) = result {
            tracing::warn!(dependency = name, error = %e, "not ready");
        }
        body.insert(
            (*name).to_owned(),
            json!(if result.is_ok() { "up" } else { "down" }),
        );
    }
    let projectors: serde_json::Map<String, serde_json::Value> = readiness
        .lag
        .lock()
        .map(|board| {
            board
                .iter()
                .map(|(name, lag)| {
                    (
                        (*name).to_owned(),
                        json!({"lag_events": lag.events, "lag_seconds": lag.seconds}),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for (name, result) in &checks {
        metrics::gauge!("shop_ready", "dependency" => *name).set(if result.is_ok() {
            1.0
        } else {
            0.0
        });
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "not_ready" },
            "checks": body,
            "projectors": projectors,
        })),
    )
}

/// Counters, gauges and histograms in the Prometheus text format (docs/metrics.md).
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "get_metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain; version=0.0.4"))
)]
async fn metrics() -> impl IntoResponse {
    platform::metrics::render().await
}

async fn sqlx_ping(pool: &PgPool) -> Result<(), String> {
    eventstore::db::ping(pool).await.map_err(|e| e.to_string())
}
