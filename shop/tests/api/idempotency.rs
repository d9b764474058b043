use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_answer_and_append_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Pen", 200, 50).await;
    let (_, token) = app.customer().await;
    let send = || {
        app.request(Method::POST, "/cart/items", Some(&token))
            .header("idempotency-key", "add-pen-1")
            .json(&json!({"product_id": product, "quantity": 2}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let first_body = first.text().await.unwrap();
    // Only the cart's: the welcome e-mail's events may land at any time.
    let cart_events = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events WHERE aggregate_type = 'cart'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let events = cart_events().await;

    let second = send().await.unwrap();
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.text().await.unwrap(), first_body);
    assert_eq!(cart_events().await, events, "a replay appends nothing");
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Pen", 200, 50).await;
    let (_, token) = app.customer().await;
    let send = |quantity: i64| {
        app.request(Method::POST, "/cart/items", Some(&token))
            .header("idempotency-key", "add-pen-2")
            .json(&json!({"product_id": product, "quantity": quantity}))
            .send()
    };
    assert_eq!(send(1).await.unwrap().status(), StatusCode::ACCEPTED);
    problem(send(5).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Pen", 200, 50).await;
    let (first_user, first) = app.customer().await;
    let (second_user, second) = app.customer().await;
    for token in [&first, &second] {
        let response = app
            .request(Method::POST, "/cart/items", Some(token))
            .header("idempotency-key", "shared-key")
            .json(&json!({"product_id": product, "quantity": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert!(!response.headers().contains_key("idempotent-replayed"));
    }
    assert_eq!(app.event_types("cart", &first_user).await, ["ItemAdded"]);
    assert_eq!(app.event_types("cart", &second_user).await, ["ItemAdded"]);
}

/// The idempotency record as a crash leaves it: the request's events committed with its answer, but the
/// process died before it stored the whole response.
async fn crash_after_commit(app: &crate::helpers::TestApp, key: &str) {
    let updated = sqlx::query(
        "UPDATE idempotency_keys SET status = NULL, headers = NULL, body = NULL \
         WHERE key = $1 AND committed IS NOT NULL",
    )
    .bind(key)
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        updated.rows_affected(),
        1,
        "the answer committed with the events"
    );
}

#[tokio::test]
async fn a_checkout_retried_after_a_crash_that_followed_its_commit_gets_its_order_never_an_empty_cart()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Lamp", 4200, 5).await;
    let (_, token) = app.customer().await;
    let added = app
        .post(
            "/cart/items",
            Some(&token),
            json!({"product_id": product, "quantity": 1}),
        )
        .await;
    assert_eq!(added.status(), StatusCode::ACCEPTED);
    let send = || {
        app.request(Method::POST, "/cart/checkout", Some(&token))
            .header("idempotency-key", "checkout-after-crash")
            .json(&json!({"shipping_address": {"name": "A", "line1": "B", "city": "C", "postal_code": "1",
                    "country": "DE"}, "payment_method": "pm_card_visa"}))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let etag = first.headers()["etag"].clone();
    let first: serde_json::Value = first.json().await.unwrap();

    crash_after_commit(&app, "checkout-after-crash").await;
    let retried = send().await.unwrap();
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    assert_eq!(retried.headers()["idempotent-replayed"], "true");
    assert_eq!(retried.headers()["etag"], etag);
    let retried: serde_json::Value = retried.json().await.unwrap();
    assert_eq!(retried, first, "the same order, version and position");
    let placed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OrderPlaced'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(placed, 1);
}

#[tokio::test]
async fn a_key_whose_request_died_before_committing_is_in_flight_until_its_lease_lapses_then_runs_afresh()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Pen", 200, 50).await;
    let (user, token) = app.customer().await;
    let send = || {
        app.request(Method::POST, "/cart/items", Some(&token))
            .header("idempotency-key", "add-before-crash")
            .json(&json!({"product_id": product, "quantity": 1}))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), StatusCode::ACCEPTED);
    // The record as a request leaves it that claimed the key and died before its commit.
    let forget = |lease: &'static str| {
        sqlx::query(
            "UPDATE idempotency_keys SET status = NULL, headers = NULL, body = NULL, committed = NULL, \
             lease_until = now() + $2::interval WHERE key = $1",
        )
        .bind("add-before-crash")
        .bind(lease)
        .execute(&app.pool)
    };
    forget("3 seconds").await.unwrap();

    let in_flight = send().await.unwrap();
    let retry_after: u64 = in_flight.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry_after), "{retry_after}");
    let body = problem(in_flight, StatusCode::CONFLICT).await;
    assert_eq!(body["type"], "/problems/idempotency_key_in_flight");

    forget("-1 second").await.unwrap();
    let afresh = send().await.unwrap();
    assert_eq!(afresh.status(), StatusCode::ACCEPTED);
    assert!(!afresh.headers().contains_key("idempotent-replayed"));
    assert_eq!(
        app.event_types("cart", &user).await.len(),
        2,
        "the retry ran as a new request"
    );
}

#[tokio::test]
async fn a_key_used_with_a_lowercase_bearer_is_the_users_and_never_replays_to_a_request_without_a_token()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Pen", 200, 50).await;
    let (_, token) = app.customer().await;
    let add = |authorization: Option<String>| {
        let mut request = app
            .request(Method::POST, "/cart/items", None)
            .header("idempotency-key", "lowercase-bearer")
            .json(&json!({"product_id": product, "quantity": 1}));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        request.send()
    };
    let first = add(Some(format!("bearer {token}"))).await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let again = add(Some(format!("BEARER {token}"))).await.unwrap();
    assert_eq!(
        again.headers()["idempotent-replayed"],
        "true",
        "the same user's key"
    );

    let stranger = add(None).await.unwrap();
    assert!(!stranger.headers().contains_key("idempotent-replayed"));
    problem(stranger, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_logged_out_token_gets_no_replay_of_its_users_answers() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Pen", 200, 50).await;
    let (_, token) = app.customer().await;
    let add = || {
        app.request(Method::POST, "/cart/items", Some(&token))
            .header("idempotency-key", "before-logout")
            .json(&json!({"product_id": product, "quantity": 1}))
            .send()
    };
    assert_eq!(add().await.unwrap().status(), StatusCode::ACCEPTED);
    let logout = app
        .request(Method::POST, "/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    let replayed = add().await.unwrap();
    assert!(!replayed.headers().contains_key("idempotent-replayed"));
    problem(replayed, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_login_answer_is_never_stored_under_its_key() {
    let app = spawn_app().await;
    app.register("keyed@example.com", "correct horse battery")
        .await;
    let login = || {
        app.request(Method::POST, "/auth/login", None)
            .header("idempotency-key", "login-once")
            .json(&json!({"email": "keyed@example.com", "password": "correct horse battery"}))
            .send()
    };
    for _ in 0..2 {
        let answer = login().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert!(!answer.headers().contains_key("idempotent-replayed"));
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE key = $1")
        .bind("login-once")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "no token is kept in the database");
}

#[tokio::test]
async fn a_60_kb_correlation_id_or_a_strange_request_id_is_replaced_by_a_fresh_one() {
    let app = spawn_app().await;
    let (_, token) = app.customer().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Pen", 200, 50).await;
    let huge = "c".repeat(60 * 1024);
    let answer = app
        .request(Method::POST, "/cart/items", Some(&token))
        .header("x-correlation-id", &huge)
        .header("x-request-id", "not allowed; spaces")
        .json(&json!({"product_id": product, "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    let request_id = answer.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");

    let (correlation, request): (String, String) = sqlx::query_as(
        "SELECT metadata->>'correlation_id', metadata->>'request_id' FROM events \
         WHERE aggregate_type = 'cart' ORDER BY position DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(request, request_id);
    assert_eq!(correlation, request_id, "the fresh request id stands in");
}
