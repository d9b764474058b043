//! Delivery guarantees of the saga: redelivered messages change nothing, poison messages are parked and can
//! be requeued.

use std::time::Duration;

use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use reqwest::StatusCode;
use serde_json::json;

use eventstore::testing::eventually;

use crate::helpers::{TestApp, body, spawn_app_with};

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    eventually(what, Duration::from_secs(20), async || {
        done().await.then_some(())
    })
    .await;
}

#[tokio::test]
async fn every_message_delivered_again_reserves_charges_and_confirms_nothing_twice() {
    let app = spawn_app_with(&[("SAGA_RETRY_BASE_MS", "20")]).await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Vase", 5000, 3).await;
    let (_, token) = app.customer().await;
    app.post(
        "/cart/items",
        Some(&token),
        json!({"product_id": product, "quantity": 1}),
    )
    .await;
    let placed = app
        .post(
            "/cart/checkout",
            Some(&token),
            json!({"shipping_address": {"name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "DE"},
                   "payment_method": "pm_card_visa"}),
        )
        .await;
    assert_eq!(placed.status(), StatusCode::ACCEPTED);
    let order = body(placed).await["id"].as_str().unwrap().to_owned();
    until("the checkout to complete", async || {
        count(
            &app,
            "SELECT count(*) FROM events WHERE event_type = 'CheckoutCompleted'",
        )
        .await
            == 1
    })
    .await;

    // Forget what the saga handled, then deliver every event of the log twice more, as a relay that crashed
    // between publishing and saving its checkpoint would.
    sqlx::query("DELETE FROM saga_handled")
        .execute(&app.pool)
        .await
        .unwrap();
    let events = eventstore::Feed::new(app.pool.clone())
        .read_after(eventstore::Position::START, 1000)
        .await
        .unwrap();
    let amqp = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let connection = Connection::connect(&amqp, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let exchange = format!("{}shop.events", app.settings.amqp_prefix);
    for _ in 0..2 {
        for event in &events {
            let message = saga::message::EventMessage::from(event);
            channel
                .basic_publish(
                    exchange.as_str().into(),
                    message.routing_key().into(),
                    BasicPublishOptions::default(),
                    &serde_json::to_vec(&message).unwrap(),
                    BasicProperties::default().with_message_id(event.event_id.to_string().into()),
                )
                .await
                .unwrap()
                .await
                .unwrap();
        }
    }
    let order_events = events
        .iter()
        .filter(|e| e.aggregate_type == "order")
        .count() as i64;
    until("the saga to handle the order's events again", async || {
        count(&app, "SELECT count(*) FROM saga_handled").await >= order_events
    })
    .await;

    for (event, expected) in [
        ("StockReserved", 1),
        ("ReservationCommitted", 1),
        ("PaymentAuthorized", 1),
        ("PaymentCaptured", 1),
        ("OrderConfirmed", 1),
        ("CheckoutCompleted", 1),
    ] {
        let n = count(
            &app,
            &format!("SELECT count(*) FROM events WHERE event_type = '{event}'"),
        )
        .await;
        assert_eq!(n, expected, "{event} for order {order}");
    }
}

#[tokio::test]
async fn a_poison_message_is_retried_then_parked_and_requeue_brings_it_back() {
    let app = spawn_app_with(&[("SAGA_RETRY_BASE_MS", "20")]).await;
    // The saga's queue exists once its consumer started.
    let parked_list = || app.cli(&["dlq", "list"]);
    until("the saga's queues", async || {
        parked_list().await.status.success()
    })
    .await;

    let amqp = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let connection = Connection::connect(&amqp, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let queue = format!("{}shop.saga", app.settings.amqp_prefix);
    channel
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            b"{ this is not an event",
            BasicProperties::default()
                .with_message_id("poison-1".into())
                .with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    until("the poison message to be parked", async || {
        String::from_utf8_lossy(&parked_list().await.stdout).contains("poison-1")
    })
    .await;
    let listed = String::from_utf8_lossy(&parked_list().await.stdout).to_string();
    assert!(
        listed.contains("attempts=5") && listed.contains("not an event message"),
        "{listed}"
    );

    let requeued = app.cli(&["dlq", "requeue", "poison-1"]).await;
    assert!(
        String::from_utf8_lossy(&requeued.stdout).contains("requeued 1"),
        "{requeued:?}"
    );
    // Back on the queue it fails again, is retried again and parked again.
    until("the requeued message to be parked again", async || {
        String::from_utf8_lossy(&parked_list().await.stdout).contains("poison-1")
    })
    .await;
    assert!(
        !app.cli(&["dlq", "requeue", "no-such-message"])
            .await
            .status
            .success()
    );
}
