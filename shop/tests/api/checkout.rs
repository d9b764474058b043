//! The checkout saga end to end: HTTP → event store → relay → RabbitMQ → saga → CommandBus → read models.

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use eventstore::testing::eventually;

use crate::helpers::{
    STRIPE_API, TestApp, address, body, settled, spawn_app, spawn_app_with, spawn_app_with_stripe,
};

/// Checks out `quantity` of `product` with `card`; returns the order id.
async fn checkout(app: &TestApp, token: &str, product: &str, quantity: i64, card: &str) -> String {
    let added = app
        .post(
            "/cart/items",
            Some(token),
            json!({"product_id": product, "quantity": quantity}),
        )
        .await;
    assert_eq!(added.status(), StatusCode::ACCEPTED);
    let placed = app
        .post(
            "/cart/checkout",
            Some(token),
            json!({"shipping_address": address(), "payment_method": card}),
        )
        .await;
    assert_eq!(placed.status(), StatusCode::ACCEPTED);
    body(placed).await["id"].as_str().unwrap().to_owned()
}

/// The customer cancels a confirmed order; waits (10 s at most) until its payment shows refunded.
async fn cancel_and_await_refund(app: &TestApp, token: &str, order_id: &str) -> Value {
    let cancel = app
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(cancel.status(), StatusCode::ACCEPTED);
    eventually(
        &format!("order {order_id} refunded"),
        Duration::from_secs(10),
        async || {
            let order = body(app.get(&format!("/orders/{order_id}"), Some(token)).await).await;
            (order["payment"]["status"] == "refunded").then_some(order)
        },
    )
    .await
}

async fn available(app: &TestApp, product: &str) -> i64 {
    let head: String = sqlx::query_scalar(
        "SELECT transaction_id::text || '.' || position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let answer = app
        .request(Method::GET, &format!("/products/{product}"), None)
        .header("x-min-position", head)
        .send()
        .await
        .unwrap();
    body(answer).await["available"].as_i64().unwrap()
}

async fn event_count(app: &TestApp, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_paid_order_is_confirmed_with_its_stock_committed_and_payment_captured() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Kettle", 3000, 5).await;
    let (_, token) = app.customer().await;
    let order = checkout(&app, &token, &product, 2, "pm_card_visa").await;
    let order = settled(&app, &token, &order).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(order["payment"]["status"], "captured");
    assert_eq!(available(&app, &product).await, 3);
    let timeline: Vec<&str> = order["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(timeline, ["pending", "confirmed"]);
    assert_eq!(event_count(&app, "CheckoutCompleted").await, 1);

    // The business counters moved (the recorder is shared by every app in this test process, hence >=).
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    for counter in [
        "shop_orders_placed_total",
        "shop_orders_confirmed_total",
        "shop_payments_total{outcome=\"captured\"}",
        "shop_revenue_minor_units_total{currency=\"EUR\"}",
    ] {
        let value: f64 = metrics
            .lines()
            .find(|l| l.starts_with(counter) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{counter} missing from /metrics"));
        assert!(value >= 1.0, "{counter} = {value}");
    }
}

/// The transactions that wrote `event_type` for the order `order` (its checkout's events carry the order's
/// id; a product's hold names the order in its payload).
async fn transactions_of(app: &TestApp, event_type: &str, order: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT DISTINCT transaction_id::text FROM events WHERE event_type = $1 \
           AND (aggregate_id = $2 OR payload->$1->>'order_id' = $2)",
    )
    .bind(event_type)
    .bind(order)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_checkout_starts_and_holds_every_line_at_once_or_holds_nothing_when_a_line_is_out_of_stock()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let lamp = app.product(&admin, "Lamp", 4000, 5).await;
    let shade = app.product(&admin, "Shade", 1500, 1).await;
    let add = async |token: &str, product: &str| {
        let added = app
            .post(
                "/cart/items",
                Some(token),
                json!({"product_id": product, "quantity": 1}),
            )
            .await;
        assert_eq!(added.status(), StatusCode::ACCEPTED);
    };

    let (_, first) = app.customer().await;
    add(&first, &lamp).await;
    let paid = checkout(&app, &first, &shade, 1, "pm_card_visa").await;
    let paid = settled(&app, &first, &paid).await;
    assert_eq!(paid["status"], "confirmed", "{paid}");
    let id = paid["id"].as_str().unwrap();
    // The start and both holds: one transaction, which also armed the deadline and both expiries before.
    let started = transactions_of(&app, "CheckoutStarted", id).await;
    assert_eq!(started.len(), 1);
    assert_eq!(transactions_of(&app, "StockReserved", id).await, started);
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'StockReserved' \
           AND payload->'StockReserved'->>'order_id' = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(held, 2, "one hold per line");

    // The shade is sold out: the lamp is not held either, and the order is cancelled.
    let (_, second) = app.customer().await;
    add(&second, &lamp).await;
    let refused = checkout(&app, &second, &shade, 1, "pm_card_visa").await;
    let refused = settled(&app, &second, &refused).await;
    assert_eq!(
        (
            refused["status"].as_str(),
            refused["cancellation_reason"].as_str()
        ),
        (Some("cancelled"), Some("out_of_stock")),
        "{refused}"
    );
    let id = refused["id"].as_str().unwrap();
    assert_eq!(transactions_of(&app, "CheckoutStarted", id).await.len(), 1);
    assert!(
        transactions_of(&app, "StockReserved", id).await.is_empty(),
        "nothing held for an order that cannot have every line"
    );
    assert_eq!(available(&app, &lamp).await, 4);
    assert_eq!(available(&app, &shade).await, 0);
}

#[tokio::test]
async fn a_declined_card_cancels_the_order_and_releases_its_stock() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Toaster", 2500, 5).await;
    let (_, token) = app.customer().await;
    let order = checkout(&app, &token, &product, 3, "pm_card_declined").await;
    let order = settled(&app, &token, &order).await;
    assert_eq!(
        (
            order["status"].as_str(),
            order["cancellation_reason"].as_str()
        ),
        (Some("cancelled"), Some("payment_declined"))
    );
    assert_eq!(order["payment"]["status"], "declined");
    assert_eq!(available(&app, &product).await, 5, "nothing stays reserved");
}

#[tokio::test]
async fn a_flaky_card_is_retried_and_charged_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Lamp", 4000, 5).await;
    let (_, token) = app.customer().await;
    let order = checkout(&app, &token, &product, 1, "pm_card_flaky").await;
    let order = settled(&app, &token, &order).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(event_count(&app, "PaymentCaptured").await, 1);
}

#[tokio::test]
async fn cancelling_a_confirmed_order_refunds_it_and_returns_its_stock() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Teapot", 2000, 4).await;
    let (_, token) = app.customer().await;
    let order_id = checkout(&app, &token, &product, 2, "pm_card_visa").await;
    assert_eq!(
        settled(&app, &token, &order_id).await["status"],
        "confirmed"
    );
    let order = cancel_and_await_refund(&app, &token, &order_id).await;
    assert_eq!(order["cancellation_reason"], "cancelled_by_customer");
    assert_eq!(available(&app, &product).await, 4);
}

#[tokio::test]
async fn thirty_customers_racing_for_ten_units_get_ten_confirmed_orders_and_twenty_out_of_stock() {
    let app = spawn_app_for_race().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Last Few", 1000, 10).await;
    let mut customers = Vec::new();
    for _ in 0..30 {
        customers.push(app.customer().await.1);
    }
    let orders = join_all(
        customers
            .iter()
            .map(|token| checkout(&app, token, &product, 1, "pm_card_visa")),
    )
    .await;
    let settled = join_all(
        orders
            .iter()
            .zip(&customers)
            .map(|(order, token)| settled(&app, token, order)),
    )
    .await;
    let confirmed = settled
        .iter()
        .filter(|o| o["status"] == "confirmed")
        .count();
    let out_of_stock = settled
        .iter()
        .filter(|o| o["cancellation_reason"] == "out_of_stock")
        .count();
    assert_eq!((confirmed, out_of_stock), (10, 20));
    assert_eq!(available(&app, &product).await, 0);
}

async fn spawn_app_for_race() -> TestApp {
    spawn_app_with(&[("SHOP_REGISTRATIONS_PER_MINUTE", "100")]).await
}

#[tokio::test]
async fn the_customer_is_emailed_once_per_order_and_kind_and_sees_it_listed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Scarf", 2900, 5).await;
    let (_, token) = app.customer().await;
    let order = checkout(&app, &token, &product, 1, "pm_card_visa").await;
    assert_eq!(settled(&app, &token, &order).await["status"], "confirmed");

    let listed = eventually("two notifications", Duration::from_secs(15), async || {
        let listed = body(app.get("/notifications", Some(&token)).await).await;
        (listed["total"].as_u64() >= Some(2)).then_some(listed)
    })
    .await;
    let mut kinds: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["order_confirmed", "welcome"], "{listed}");
    let confirmed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "order_confirmed")
        .unwrap();
    assert_eq!(confirmed["order_id"], order.as_str());
    assert_eq!(confirmed["channel"], "email");

    // The SMTP sink received the mail (one file per message).
    let to = confirmed["to"].as_str().unwrap().to_owned();
    let mailbox = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.data/mail/new");
    let delivered = std::fs::read_dir(&mailbox)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|f| {
                    std::fs::read_to_string(f.path())
                        .is_ok_and(|m| m.contains(&to) && m.contains("is confirmed"))
                })
                .count()
        })
        .unwrap_or(0);
    assert_eq!(
        delivered,
        1,
        "one confirmation mail to {to} in {}",
        mailbox.display()
    );
    let theirs = body(
        app.get("/notifications", Some(&app.customer().await.1))
            .await,
    )
    .await;
    assert!(
        theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["kind"] == "welcome"),
        "only their own: {theirs}"
    );
}

#[tokio::test]
async fn a_payment_that_outlasts_its_deadline_cancels_the_order_with_nothing_reserved() {
    // The slow card answers after 3 s; this shop waits 1 s.
    let app = spawn_app_with(&[("SAGA_PAYMENT_DEADLINE_MS", "1000")]).await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Hourglass", 1200, 4).await;
    let (_, token) = app.customer().await;
    let order = checkout(&app, &token, &product, 2, "pm_card_slow").await;
    let order = settled(&app, &token, &order).await;
    assert_eq!(
        (
            order["status"].as_str(),
            order["cancellation_reason"].as_str()
        ),
        (Some("cancelled"), Some("payment_timeout")),
        "{order}"
    );
    assert_eq!(available(&app, &product).await, 4, "nothing stays reserved");
    assert_eq!(event_count(&app, "PaymentCaptured").await, 0);
}

async fn stripe_get(path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{STRIPE_API}{path}"))
        .bearer_auth("sk_test_shop")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The Stripe PaymentIntent the saga made for the order's payment.
async fn intent_of(app: &TestApp, order: &str) -> Value {
    let reference: String = sqlx::query_scalar(
        "SELECT payload->'PaymentAuthorized'->>'gateway_reference' FROM events \
         WHERE aggregate_type = 'payment' AND aggregate_id = $1 AND event_type = 'PaymentAuthorized'",
    )
    .bind(order)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    stripe_get(&format!("/v1/payment_intents/{reference}")).await
}

#[tokio::test]
async fn with_stripe_an_order_is_charged_there_once_and_a_cancellation_refunds_it_there() {
    let app = spawn_app_with_stripe().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Stripe Kettle", 3100, 5).await;
    let (_, token) = app.customer().await;
    let order_id = checkout(&app, &token, &product, 2, "pm_card_visa").await;
    let order = settled(&app, &token, &order_id).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(order["payment"]["status"], "captured");
    let intent = intent_of(&app, &order_id).await;
    assert_eq!(intent["status"], "succeeded", "{intent}");
    assert_eq!(intent["amount"], 6200);
    assert_eq!(intent["currency"], "eur");

    cancel_and_await_refund(&app, &token, &order_id).await;
    let refunds = stripe_get(&format!(
        "/v1/refunds?payment_intent={}&limit=100",
        intent["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(refunds["data"].as_array().unwrap().len(), 1, "{refunds}");
    assert_eq!(available(&app, &product).await, 5);
}

#[tokio::test]
async fn with_stripe_a_declined_card_cancels_the_order() {
    let app = spawn_app_with_stripe().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Stripe Toaster", 2500, 5).await;
    let (_, token) = app.customer().await;
    let order = checkout(&app, &token, &product, 1, "pm_card_declined").await;
    let order = settled(&app, &token, &order).await;
    assert_eq!(order["status"], "cancelled", "{order}");
    assert_eq!(order["cancellation_reason"], "payment_declined");
    assert_eq!(available(&app, &product).await, 5);
}
