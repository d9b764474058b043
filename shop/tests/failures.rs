//! Surviving failures of RabbitMQ and of the saga's process. These stop the shared broker or kill processes,
//! so scripts/test.sh runs this binary on its own, after the rest (`-E 'binary(failures)' -j 1`).

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use eventstore::testing::eventually;
use helpers::{TestApp, body, spawn_app_with, spawn_app_with_roles};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shop::{Role, Roles};

async fn checkout(app: &TestApp, token: &str, product: &str, card: &str) -> String {
    let added = app
        .post(
            "/cart/items",
            Some(token),
            json!({"product_id": product, "quantity": 1}),
        )
        .await;
    assert_eq!(added.status(), StatusCode::ACCEPTED);
    let placed = app
        .post(
            "/cart/checkout",
            Some(token),
            json!({"shipping_address": {"name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "DE"},
                   "payment_method": card}),
        )
        .await;
    assert_eq!(
        placed.status(),
        StatusCode::ACCEPTED,
        "checkout is accepted whatever the broker does"
    );
    body(placed).await["id"].as_str().unwrap().to_owned()
}

async fn status(app: &TestApp, token: &str, order: &str) -> Value {
    let answer = app.get(&format!("/orders/{order}"), Some(token)).await;
    if answer.status() != StatusCode::OK {
        return Value::Null;
    }
    body(answer).await
}

async fn until_confirmed(app: &TestApp, token: &str, order: &str, within: Duration) -> Value {
    eventually(&format!("order {order} confirmed"), within, async || {
        let order_view = status(app, token, order).await;
        (order_view["status"] == "confirmed").then_some(order_view)
    })
    .await
}

fn rabbitmqctl(command: &str) {
    let done = Command::new("rabbitmqctl")
        .arg(command)
        .output()
        .expect("rabbitmqctl");
    assert!(
        done.status.success(),
        "rabbitmqctl {command}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
}

/// Starts the broker again even if the test fails half-way.
struct BrokerRestart;

impl Drop for BrokerRestart {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl").arg("start_app").output();
    }
}

#[tokio::test]
async fn checkouts_are_accepted_while_rabbitmq_is_down_and_complete_once_it_is_back() {
    let app = spawn_app_with(&[("SAGA_RETRY_BASE_MS", "50")]).await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Umbrella", 1500, 10).await;
    let mut customers = Vec::new();
    for _ in 0..3 {
        customers.push(app.customer().await.1);
    }

    let _restart = BrokerRestart;
    rabbitmqctl("stop_app");
    let mut orders = Vec::new();
    for token in &customers {
        orders.push(checkout(&app, token, &product, "pm_card_visa").await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (order, token) in orders.iter().zip(&customers) {
        assert_ne!(
            status(&app, token, order).await["status"],
            "confirmed",
            "nothing completes without the broker"
        );
    }
    rabbitmqctl("start_app");
    for (order, token) in orders.iter().zip(&customers) {
        until_confirmed(&app, token, order, Duration::from_secs(60)).await;
    }
}

/// A `shop serve --role saga` child process, killed when dropped, so that a failing test leaves none behind.
struct SagaProcess(Child);

impl SagaProcess {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for SagaProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn saga_process(app: &TestApp) -> SagaProcess {
    let child = Command::new(env!("CARGO_BIN_EXE_shop"))
        .args(["serve", "--role", "saga"])
        .env("DATABASE_URL", app.settings.database_url.expose())
        .env("REDIS_PREFIX", &app.settings.redis_prefix)
        .env("MONGODB_DATABASE", &app.settings.mongodb_database)
        .env("AMQP_PREFIX", &app.settings.amqp_prefix)
        .env("SHOP_HTTP_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start a saga process");
    SagaProcess(child)
}

#[tokio::test]
async fn a_saga_process_killed_in_the_middle_of_a_payment_completes_the_order_after_restart_charged_once()
 {
    let roles = Roles(vec![
        Role::CommandApi,
        Role::QueryApi,
        Role::Projectors,
        Role::Relay,
    ]);
    let app = spawn_app_with_roles(&[("SAGA_RETRY_BASE_MS", "50")], roles).await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Clock", 9000, 5).await;
    let (_, token) = app.customer().await;

    let mut saga = saga_process(&app);
    // The slow card keeps the payment in flight for 3 s: long enough to kill the process in the middle.
    let order = checkout(&app, &token, &product, "pm_card_slow").await;
    eventually("the payment starts", Duration::from_secs(20), async || {
        let started: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'PaymentStarted'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        (started == 1).then_some(())
    })
    .await;
    saga.kill();
    // Nothing completes without the saga (the read model may not even show the order yet).
    assert_ne!(status(&app, &token, &order).await["status"], "confirmed");

    let mut restarted = saga_process(&app);
    let confirmed = until_confirmed(&app, &token, &order, Duration::from_secs(60)).await;
    restarted.kill();
    assert_eq!(confirmed["payment"]["status"], "captured");
    for event in [
        "StockReserved",
        "PaymentAuthorized",
        "PaymentCaptured",
        "OrderConfirmed",
    ] {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
            .bind(event)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{event}");
    }
}
