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
