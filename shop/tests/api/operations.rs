use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{body, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn liveness_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/live", None).await.status(), StatusCode::OK);
    let ready = app.get("/health/ready", None).await;
    let status = ready.status();
    let ready = body(ready).await;
    assert_eq!(ready["checks"]["postgresql"], "up");
    assert_eq!(ready["checks"]["redis"], "up");
    assert_eq!(status == StatusCode::OK, ready["status"] == "ready");

    app.register("metrics@example.com", "password123").await;
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("shop_commands_total"), "{metrics}");
    assert!(
        metrics.contains("route=\"/api/v1/auth/register\""),
        "{metrics}"
    );
}

#[tokio::test]
async fn readiness_names_the_dependency_that_is_down() {
    let app = spawn_app_with(&[(
        "MONGODB_URL",
        "mongodb://127.0.0.1:1/?directConnection=true",
    )])
    .await;
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body(ready).await["checks"]["mongodb"], "down");
}

/// An open port is not enough: the broker must accept our AMQP connection.
#[tokio::test]
async fn readiness_says_rabbitmq_is_down_when_it_refuses_the_credentials() {
    let app = spawn_app_with(&[(
        "AMQP_URL",
        "amqp://guest:not-the-password@127.0.0.1:5672/%2f",
    )])
    .await;
    let ready = app.get("/health/ready", None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let checks = body(ready).await["checks"].clone();
    assert_eq!(checks["rabbitmq"], "down");
    assert_eq!(checks["postgresql"], "up");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_clients() {
    let app = spawn_app().await;
    let generated = app.get("/health/live", None).await;
    assert!(generated.headers().contains_key("x-request-id"));
    let echoed = app
        .request(Method::GET, "/health/live", None)
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "req-42");
}

#[tokio::test]
async fn errors_are_problem_json_malformed_bodies_are_400_and_large_ones_413() {
    let app = spawn_app().await;
    problem(app.get("/no/such/route", None).await, StatusCode::NOT_FOUND).await;
    let malformed = app
        .request(Method::POST, "/auth/register", None)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    problem(malformed, StatusCode::BAD_REQUEST).await;
    let huge = app
        .post(
            "/auth/register",
            None,
            json!({"email": "a@b.co", "password": "x".repeat(70_000), "name": "A"}),
        )
        .await;
    problem(huge, StatusCode::PAYLOAD_TOO_LARGE).await;
    let wrong_method = app
        .request(Method::DELETE, "/auth/register", None)
        .send()
        .await
        .unwrap();
    problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = spawn_app_with(&[("SHOP_CORS_ORIGINS", "https://shop.example")]).await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/auth/login", None)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://shop.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for path in [
        "/health/live",
        "/api/v1/products",
        "/api/v1/no-such-route",
        "/api/v1/docs/",
        "/api/v1/openapi.json",
    ] {
        let answer = client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let headers = answer.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe"), "{path}: {policy}");
    }
}
