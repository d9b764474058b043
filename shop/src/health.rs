//! Liveness and readiness.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use eventstore::db::PgPool;
use platform::Settings;
use projectors::runner::LagBoard;
use projectors::search::CatalogIndex;
use projectors::store::ReadStores;
use redis::aio::ConnectionManager;
use saga::Broker;
use serde_json::json;

use crate::startup::Stores;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "live" }))
}

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
        stores: &Stores,
        settings: &Settings,
        lag: LagBoard,
        catalog: Option<CatalogIndex>,
    ) -> Self {
        Self {
            pool: stores.pool.clone(),
            redis: stores.redis.clone(),
            read: stores.read.clone(),
            broker: crate::startup::broker(settings),
            lag,
            catalog,
        }
    }
}

pub async fn ready(State(readiness): State<Readiness>) -> impl IntoResponse {
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

async fn sqlx_ping(pool: &PgPool) -> Result<(), String> {
    eventstore::db::ping(pool).await.map_err(|e| e.to_string())
}
