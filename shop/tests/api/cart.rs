use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, address, body, problem, spawn_app};

async fn add(app: &TestApp, token: &str, product_id: &str, quantity: i64) -> reqwest::Response {
    app.post(
        "/cart/items",
        Some(token),
        json!({"product_id": product_id, "quantity": quantity}),
    )
    .await
}

#[tokio::test]
async fn items_are_added_changed_and_removed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let shirt = app.product(&admin, "Shirt", 1999, 10).await;
    let (user_id, token) = app.customer().await;
    assert_eq!(
        add(&app, &token, &shirt, 2).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        add(&app, &token, &shirt, 3).await.status(),
        StatusCode::ACCEPTED
    );
    let change = app
        .request(Method::PUT, &format!("/cart/items/{shirt}"), Some(&token))
        .json(&json!({"quantity": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), StatusCode::ACCEPTED);
    let remove = app
        .request(
            Method::DELETE,
            &format!("/cart/items/{shirt}"),
            Some(&token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(remove.status(), StatusCode::ACCEPTED);
    assert_eq!(
        app.event_types("cart", &user_id).await,
        [
            "ItemAdded",
            "ItemAdded",
            "ItemQuantityChanged",
            "ItemRemoved"
        ]
    );
    let again = app
        .request(
            Method::DELETE,
            &format!("/cart/items/{shirt}"),
            Some(&token),
        )
        .send()
        .await
        .unwrap();
    problem(again, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_line_holds_at_most_99_and_quantities_are_checked() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let shirt = app.product(&admin, "Shirt", 1999, 500).await;
    let (_, token) = app.customer().await;
    problem(
        add(&app, &token, &shirt, 0).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        add(&app, &token, &shirt, 100).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        add(&app, &token, &shirt, 98).await.status(),
        StatusCode::ACCEPTED
    );
    problem(
        add(&app, &token, &shirt, 2).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn unknown_and_discontinued_products_cannot_be_added() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, token) = app.customer().await;
    let unknown = add(&app, &token, "0193a4a0-0000-7000-8000-000000000000", 1).await;
    problem(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;
    let old = app.product(&admin, "Old", 100, 5).await;
    app.post(
        &format!("/products/{old}/discontinue"),
        Some(&admin),
        json!({}),
    )
    .await;
    problem(
        add(&app, &token, &old, 1).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn checkout_places_a_pending_order_at_current_prices_and_empties_the_cart() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let shirt = app.product(&admin, "Shirt", 1999, 10).await;
    let mug = app.product(&admin, "Mug", 500, 10).await;
    let (user_id, token) = app.customer().await;
    add(&app, &token, &shirt, 2).await;
    add(&app, &token, &mug, 1).await;
    // The price changes after the shirt went into the cart: checkout uses the current price.
    app.request(Method::PATCH, &format!("/products/{shirt}"), Some(&admin))
        .json(&json!({"price": {"amount": 2499, "currency": "EUR"}}))
        .send()
        .await
        .unwrap();

    let checkout = app
        .post(
            "/cart/checkout",
            Some(&token),
            json!({"shipping_address": address(), "payment_method": "pm_card_visa"}),
        )
        .await;
    assert_eq!(checkout.status(), StatusCode::ACCEPTED);
    let checkout = body(checkout).await;
    let order_id = checkout["id"].as_str().unwrap();
    assert!(checkout["position"].is_string());

    assert_eq!(app.event_types("order", order_id).await[0], "OrderPlaced");
    let placed: Value =
        sqlx::query_scalar(
        "SELECT payload::jsonb FROM events WHERE aggregate_type = 'order' AND aggregate_id = $1 AND sequence = 1",
    )
            .bind(order_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let placed = &placed["OrderPlaced"];
    assert_eq!(
        placed["total"],
        json!({"amount": 2 * 2499 + 500, "currency": "EUR"})
    );
    assert_eq!(placed["user_id"], user_id);
    assert_eq!(
        app.event_types("cart", &user_id).await.last().unwrap(),
        "CartCheckedOut"
    );

    let empty = app
        .post(
            "/cart/checkout",
            Some(&token),
            json!({"shipping_address": address(), "payment_method": "pm_card_visa"}),
        )
        .await;
    problem(empty, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn checkout_refuses_a_bad_address_and_an_unknown_payment_method_naming_the_fields() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let shirt = app.product(&admin, "Shirt", 1999, 10).await;
    let (_, token) = app.customer().await;
    add(&app, &token, &shirt, 1).await;
    let mut bad = address();
    bad["city"] = json!("");
    bad["country"] = json!("Narnia");
    let refused = app
        .post(
            "/cart/checkout",
            Some(&token),
            json!({"shipping_address": bad, "payment_method": "pm_card_bitcoin"}),
        )
        .await;
    let refused = problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    for field in [
        "shipping_address.city",
        "shipping_address.country",
        "payment_method",
    ] {
        assert!(refused["errors"][field].is_string(), "{field}: {refused}");
    }
}
