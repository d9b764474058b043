use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{body, problem, spawn_app};

#[tokio::test]
async fn a_customer_registers_logs_in_and_gets_a_token_with_the_contracts_claims() {
    let app = spawn_app().await;
    let registered = app
        .register("Ada@Example.com", "correct horse battery")
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered = body(registered).await;
    let id = registered["id"].as_str().unwrap();
    assert!(registered["position"].is_string());

    // Email is stored lower-case, so any casing logs in.
    let login = app.login("ada@example.COM", "correct horse battery").await;
    assert_eq!(login.status(), StatusCode::OK);
    let login = body(login).await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["user_id"], id);
    assert_eq!(login["role"], "customer");
    assert_eq!(login["expires_in"], 3600);

    let claims = platform::tokens::TokenService::new(
        app.settings.jwt_secret.expose().as_bytes(),
        app.settings.token_ttl,
    )
    .verify(login["access_token"].as_str().unwrap())
    .unwrap();
    assert_eq!(claims.sub, id);
    assert_eq!(claims.iss, "shop");
    assert!(!claims.jti.is_empty());
    assert_eq!(app.event_types("user", id).await, ["UserRegistered"]);
}

#[tokio::test]
async fn the_password_hash_is_argon2id() {
    let app = spawn_app().await;
    let id = body(
        app.register("hash@example.com", "correct horse battery")
            .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let payload: String =
        sqlx::query_scalar("SELECT payload::text FROM events WHERE aggregate_id = $1")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(payload.contains("$argon2id$"), "{payload}");
    assert!(!payload.contains("correct horse"));
}

#[tokio::test]
async fn registering_an_email_twice_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.register("twice@example.com", "password123")
            .await
            .status(),
        StatusCode::CREATED
    );
    let again = app.register("TWICE@example.com", "password456").await;
    let problem = problem(again, StatusCode::CONFLICT).await;
    assert_eq!(problem["type"], "/problems/email_taken");
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_email_give_one_account_and_nineteen_conflicts() {
    let app = spawn_app().await;
    let passwords: Vec<String> = (0..20).map(|i| format!("password-{i:02}")).collect();
    let attempts = passwords
        .iter()
        .map(|p| app.register("race@example.com", p));
    let statuses: Vec<StatusCode> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");
    let users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'UserRegistered'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn invalid_registrations_are_refused_with_every_field_named() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "name": "  "}),
        )
        .await;
    let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    for field in ["email", "password", "name"] {
        assert!(problem["errors"][field].is_string(), "{field}: {problem}");
    }
    let too_long = app
        .post(
            "/auth/register",
            None,
            json!({"email": "a@example.com", "password": "x".repeat(129), "name": "A"}),
        )
        .await;
    assert!(problem_has_field(too_long, "password").await);
    assert_eq!(app.event_count().await, 0);
}

async fn problem_has_field(response: reqwest::Response, field: &str) -> bool {
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][field].is_string()
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("known@example.com", "correct horse battery")
        .await;
    let wrong = problem(
        app.login("known@example.com", "wrong password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = problem(
        app.login("nobody@example.com", "wrong password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn more_than_ten_failed_logins_a_minute_are_rate_limited() {
    let app = spawn_app().await;
    app.register("target@example.com", "correct horse battery")
        .await;
    for _ in 0..10 {
        assert_eq!(
            app.login("target@example.com", "wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app
        .login("target@example.com", "correct horse battery")
        .await;
    assert!(limited.headers().contains_key("retry-after"));
    problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn a_logged_out_token_is_refused_from_then_on() {
    let app = spawn_app().await;
    let (_, token) = app.customer().await;
    let rename = |token: String| {
        let app = &app;
        async move {
            app.request(Method::PATCH, "/me", Some(&token))
                .json(&json!({"name": "New Name"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(rename(token.clone()).await.status(), StatusCode::ACCEPTED);
    let logout = app
        .request(Method::POST, "/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    problem(rename(token).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthorized() {
    let app = spawn_app().await;
    let none = app
        .request(Method::PATCH, "/me", None)
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    problem(none, StatusCode::UNAUTHORIZED).await;
    let forged = app
        .request(
            Method::PATCH,
            "/me",
            Some("eyJhbGciOiJIUzI1NiJ9.e30.invalid"),
        )
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    problem(forged, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn renaming_with_a_stale_if_match_is_refused() {
    let app = spawn_app().await;
    let (_, token) = app.customer().await;
    let stale = app
        .request(Method::PATCH, "/me", Some(&token))
        .header("if-match", "\"7\"")
        .json(&json!({"name": "New"}))
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let current = app
        .request(Method::PATCH, "/me", Some(&token))
        .header("if-match", "\"1\"")
        .json(&json!({"name": "New"}))
        .send()
        .await
        .unwrap();
    assert_eq!(current.status(), StatusCode::ACCEPTED);
    assert_eq!(current.headers()["etag"], "\"2\"");
}
