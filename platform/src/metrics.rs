//! Prometheus metrics: the global recorder, descriptions, and the HTTP middleware.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder once per process and returns the handle that renders `/metrics`.
pub fn recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &buckets)
                .and_then(|b| b.install_recorder())
                .unwrap_or_else(|_| {
                    // Another recorder was installed first (only possible in tests); render an empty one.
                    PrometheusBuilder::new().build_recorder().handle()
                });
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "shop_http_requests_total",
        "HTTP requests by route template, method and status"
    );
    describe_histogram!(
        "shop_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by route"
    );
    describe_counter!(
        "shop_commands_total",
        "Commands by aggregate type, command and outcome"
    );
    describe_histogram!(
        "shop_command_duration_seconds",
        Unit::Seconds,
        "Command latency, retries included"
    );
    describe_counter!(
        "shop_events_appended_total",
        "Events appended to the store by aggregate type"
    );
    describe_counter!(
        "shop_aggregate_cache_total",
        "Command attempts by whether the in-memory aggregate was current (hit), stale or absent (miss)"
    );
    describe_counter!("shop_orders_placed_total", "Orders placed, by currency");
    describe_counter!("shop_orders_confirmed_total", "Orders confirmed");
    describe_counter!("shop_orders_cancelled_total", "Orders cancelled, by reason");
    describe_counter!(
        "shop_revenue_minor_units_total",
        "Captured payments in minor units, by currency"
    );
    describe_counter!("shop_payments_total", "Payment outcomes");
    describe_counter!(
        "shop_messages_published_total",
        "Events published to RabbitMQ and confirmed"
    );
    describe_counter!(
        "shop_messages_consumed_total",
        "Messages handled, by queue and outcome"
    );
    describe_counter!(
        "shop_messages_retried_total",
        "Messages sent to a retry queue"
    );
    describe_counter!(
        "shop_messages_parked_total",
        "Messages parked after their last retry"
    );
    describe_counter!(
        "shop_subscriber_events_total",
        "Events processed by a feed subscriber"
    );
    describe_gauge!(
        "shop_subscriber_checkpoint_position",
        "Position of the last event a subscriber processed"
    );
    describe_gauge!(
        "shop_subscriber_lag_events",
        "Events between a subscriber's checkpoint and the feed head"
    );
    describe_gauge!(
        "shop_subscriber_lag_seconds",
        "Age of the oldest event a subscriber has not processed"
    );
    describe_counter!(
        "shop_near_cache_reads_total",
        "Hot Redis values read from process memory (hit) or from Redis (miss)"
    );
    describe_gauge!(
        "shop_near_cache_live",
        "1 while the near cache is subscribed to the writers' announcements"
    );
    describe_gauge!(
        "shop_feed_horizon_age_seconds",
        Unit::Seconds,
        "How long the oldest writing transaction of the shop's database has been holding the feed back"
    );
    describe_gauge!(
        "shop_catalog_index_products",
        "Products listed in this query process's catalog search index"
    );
    describe_counter!(
        "shop_catalog_index_commits_total",
        "Commits of the catalog's search index (its words); publications of stock or images only do not commit"
    );
    describe_gauge!("shop_saga_instances", "Checkout saga instances by state");
    describe_gauge!("shop_messages_parked", "Messages waiting in a parked queue");
    describe_gauge!(
        "shop_ready",
        "1 when the last readiness check reached the dependency"
    );
}

/// Renders the scrape.
pub async fn render() -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        recorder().render(),
    )
}

/// Counts every request and its latency by route template (never by raw path, which would explode labels).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("shop_http_requests_total", "route" => route.clone(), "method" => method.clone(),
        "status" => status)
    .increment(1);
    metrics::histogram!("shop_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}
