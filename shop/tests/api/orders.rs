use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, body, problem, spawn_app};

async fn place_order(app: &TestApp, admin: &str, token: &str) -> String {
    place_order_with(app, admin, token, "pm_card_visa").await
}

/// With a declined card the saga cancels the order, so it never becomes shippable.
async fn place_order_with(app: &TestApp, admin: &str, token: &str, card: &str) -> String {
    let product = app.product(admin, "Book", 1500, 10).await;
    app.post(
        "/cart/items",
        Some(token),
        json!({"product_id": product, "quantity": 1}),
    )
    .await;
    let checkout = app
        .post(
            "/cart/checkout",
            Some(token),
            json!({"shipping_address": {"name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "DE"},
                   "payment_method": card}),
        )
        .await;
    body(checkout).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_customer_cancels_their_own_pending_order() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, token) = app.customer().await;
    let order = place_order(&app, &admin, &token).await;
    let cancel = app
        .post(&format!("/orders/{order}/cancel"), Some(&token), json!({}))
        .await;
    assert_eq!(cancel.status(), StatusCode::ACCEPTED);
    let types = app.event_types("order", &order).await;
    assert_eq!(
        (types[0].as_str(), types.last().map(String::as_str)),
        ("OrderPlaced", Some("OrderCancelled"))
    );
    let again = app
        .post(&format!("/orders/{order}/cancel"), Some(&token), json!({}))
        .await;
    problem(again, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn someone_elses_order_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, owner) = app.customer().await;
    let (_, stranger) = app.customer().await;
    let order = place_order(&app, &admin, &owner).await;
    let cancel = app
        .post(
            &format!("/orders/{order}/cancel"),
            Some(&stranger),
            json!({}),
        )
        .await;
    problem(cancel, StatusCode::NOT_FOUND).await;
    assert!(
        !app.event_types("order", &order)
            .await
            .contains(&"OrderCancelled".to_owned())
    );
}

#[tokio::test]
async fn only_an_administrator_ships_and_only_a_confirmed_order() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, token) = app.customer().await;
    let order = place_order_with(&app, &admin, &token, "pm_card_declined").await;
    let by_customer = app
        .post(&format!("/orders/{order}/ship"), Some(&token), json!({}))
        .await;
    problem(by_customer, StatusCode::FORBIDDEN).await;
    let pending = app
        .post(
            &format!("/orders/{order}/ship"),
            Some(&admin),
            json!({"tracking_number": "TRACK1"}),
        )
        .await;
    problem(pending, StatusCode::UNPROCESSABLE_ENTITY).await;
    let deliver = app
        .post(&format!("/orders/{order}/deliver"), Some(&admin), json!({}))
        .await;
    problem(deliver, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn an_absurd_page_of_orders_or_notifications_is_refused_before_any_store_is_asked() {
    let app = spawn_app().await;
    let (_, token) = app.customer().await;
    for list in ["/orders", "/notifications"] {
        for page in ["101", "184467440737095517"] {
            let refused = problem(
                app.get(&format!("{list}?page={page}&limit=100"), Some(&token))
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert!(
                refused["errors"]["page"].is_string(),
                "{list} {page}: {refused}"
            );
        }
        let last = app
            .get(&format!("{list}?page=100&limit=100"), Some(&token))
            .await;
        assert_eq!(
            last.status(),
            StatusCode::OK,
            "{list}: the deepest page is served"
        );
    }
}
