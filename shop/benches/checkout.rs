//! Checkout throughput and latency (issue 4), against the whole shop: every role in this process, on its own
//! database, Redis prefix, MongoDB database and RabbitMQ names, with the real services.
//!
//! Customers check out one item each with `pm_card_visa`, one checkout every 1/BENCH_RATE s (default 50/s)
//! for BENCH_SECONDS (default 60). For each order it measures the time from the checkout request to
//! `confirmed` visible in `GET /orders/{id}`: a watcher reads the event store every 5 ms for the order's
//! `OrderConfirmed` (the moment the saga is done), then one `GET /orders/{id}` with `X-Min-Position` set to
//! that event's position returns once the read model shows it. No client polls the API, so the load is the
//! shop's own work and not the measurement's.
//!
//! Prints orders/s sustained, p50/p99 of checkout → confirmed visible, and of its first part, checkout →
//! confirmation committed (the saga), so that the projection's share is visible too.
//! Run: `cargo bench -p shop --bench checkout` (services up: `scripts/services.sh`).

use std::collections::HashMap;
use std::future::pending;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventstore::testing::fresh_database;
use futures::StreamExt;
use platform::Settings;
use serde_json::{Value, json};
use shop::{Application, Roles};
use sqlx::{PgPool, Row};
use tokio::sync::oneshot;
use uuid::Uuid;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The order's last word from the event store: its type and position token.
type Settled = (String, String);

#[derive(Default)]
struct Watch {
    waiting: Mutex<HashMap<String, oneshot::Sender<Settled>>>,
}

impl Watch {
    fn expect(&self, order: &str) -> oneshot::Receiver<Settled> {
        let (sender, receiver) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap()
            .insert(order.to_owned(), sender);
        receiver
    }

    /// Every 5 ms: which awaited orders were confirmed or cancelled.
    async fn run(self: Arc<Self>, pool: PgPool) {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let ids: Vec<String> = self.waiting.lock().unwrap().keys().cloned().collect();
            if ids.is_empty() {
                continue;
            }
            let rows = sqlx::query(
                "SELECT aggregate_id, event_type, transaction_id::text || '.' || position AS position \
                 FROM events WHERE aggregate_type = 'order' AND aggregate_id = ANY($1) \
                 AND event_type IN ('OrderConfirmed', 'OrderCancelled')",
            )
            .bind(&ids)
            .fetch_all(&pool)
            .await
            .expect("watch the event store");
            let mut waiting = self.waiting.lock().unwrap();
            for row in rows {
                if let Some(sender) = waiting.remove(row.get::<&str, _>("aggregate_id")) {
                    let _ = sender.send((row.get("event_type"), row.get("position")));
                }
            }
        }
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn customer(&self, n: usize) -> String {
        let email = format!("bench-{n}-{}@example.com", Uuid::now_v7().simple());
        let credentials = json!({"email": email, "password": "password123", "name": "Bench"});
        self.call(
            reqwest::Method::POST,
            "/auth/register",
            None,
            Some(credentials.clone()),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            "/auth/login",
            None,
            Some(credentials),
        )
        .await["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(index)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let rate = env_or("BENCH_RATE", 50) as f64;
    let seconds = env_or("BENCH_SECONDS", 60);
    let customers = env_or("BENCH_CUSTOMERS", 300) as usize;
    let (pool, database_url) = fresh_database().await;
    let unique = Uuid::now_v7().simple().to_string();
    let prefix = format!("bench:{unique}:");
    let mongo_database = format!("shop_test_bench_{unique}");
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(database_url.clone()),
        "SHOP_HTTP_ADDR" => Some("127.0.0.1:0".to_owned()),
        "REDIS_PREFIX" | "AMQP_PREFIX" => Some(prefix.clone()),
        "MONGODB_DATABASE" => Some(mongo_database.clone()),
        "SHOP_REGISTRATIONS_PER_MINUTE" => Some("1000000".to_owned()),
        other => std::env::var(other).ok(),
    })
    .expect("settings");
    let app = Application::build(&settings, Roles::all())
        .await
        .expect("build the shop");
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{}", app.port()),
    });
    tokio::spawn(app.run_until(pending()));

    let admin_email = format!("bench-admin-{unique}@example.com");
    shop::cli::create_user(
        &settings,
        &admin_email,
        "password123".to_owned(),
        "Admin",
        true,
    )
    .await
    .expect("admin");
    let admin = client
        .call(
            reqwest::Method::POST,
            "/auth/login",
            None,
            Some(json!({"email": admin_email, "password": "password123"})),
        )
        .await["access_token"]
        .as_str()
        .expect("admin token")
        .to_owned();
    let mut products = Vec::new();
    for n in 0..100 {
        let created = client
            .call(
                reqwest::Method::POST,
                "/products",
                Some(&admin),
                Some(
                    json!({"sku": format!("BENCH-{n}"), "name": format!("Bench product {n}"),
                    "description": "For the checkout benchmark", "category": "Bench",
                    "price": {"amount": 1000 + n, "currency": "EUR"}, "stock": 1_000_000}),
                ),
            )
            .await;
        products.push(created["id"].as_str().expect("product id").to_owned());
    }
    eprintln!("preparing {customers} customers...");
    let tokens: Vec<String> = futures::stream::iter(0..customers)
        .map(|n| {
            let client = client.clone();
            async move { client.customer(n).await }
        })
        .buffered(8)
        .collect()
        .await;
    // Each customer has one cart: one checkout at a time per customer.
    let carts: Vec<Arc<tokio::sync::Mutex<()>>> = (0..customers).map(|_| Arc::default()).collect();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let watch = Arc::new(Watch::default());
    tokio::spawn(watch.clone().run(pool.clone()));
    let total = (rate * seconds as f64) as usize;
    eprintln!("checking out {total} orders at {rate}/s...");
    let address = json!({"name": "Bench", "line1": "1 Load Street", "city": "Berlin",
        "postal_code": "10115", "country": "DE"});
    let began = Instant::now();
    let mut orders = Vec::with_capacity(total);
    for i in 0..total {
        tokio::time::sleep_until((began + Duration::from_secs_f64(i as f64 / rate)).into()).await;
        let (client, watch, address) = (client.clone(), watch.clone(), address.clone());
        let token = tokens[i % customers].clone();
        let cart = carts[i % customers].clone();
        let product = products[i % products.len()].clone();
        orders.push(tokio::spawn(async move {
            let (started, answered, placed) = {
                let _cart = cart.lock().await;
                client
                    .call(
                        reqwest::Method::POST,
                        "/cart/items",
                        Some(&token),
                        Some(json!({"product_id": product, "quantity": 1})),
                    )
                    .await;
                let started = Instant::now();
                let placed = client
                    .call(
                        reqwest::Method::POST,
                        "/cart/checkout",
                        Some(&token),
                        Some(
                            json!({"shipping_address": address, "payment_method": "pm_card_visa"}),
                        ),
                    )
                    .await;
                (started, started.elapsed(), placed)
            };
            let id = placed["id"].as_str().expect("order id").to_owned();
            let settled = watch.expect(&id);
            let Ok(Ok((event, position))) =
                tokio::time::timeout(Duration::from_secs(30), settled).await
            else {
                return Err(format!("{id}: not settled within 30 s"));
            };
            let committed = started.elapsed();
            if event != "OrderConfirmed" {
                return Err(format!("{id}: {event}"));
            }
            let response = client
                .http
                .get(format!("{}/api/v1/orders/{id}", client.base))
                .bearer_auth(&token)
                .header("x-min-position", position)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let order: Value = response.json().await.map_err(|e| e.to_string())?;
            if order["status"] != "confirmed" {
                return Err(format!("{id}: read model says {}", order["status"]));
            }
            Ok((answered, committed, started.elapsed()))
        }));
    }
    let mut answered = Vec::new();
    let mut committed = Vec::new();
    let mut visible = Vec::new();
    let mut failures = Vec::new();
    for order in orders {
        match order.await.expect("order task") {
            Ok((a, c, v)) => {
                answered.push(a);
                committed.push(c);
                visible.push(v);
            }
            Err(e) => failures.push(e),
        }
    }
    let elapsed = began.elapsed();
    answered.sort();
    committed.sort();
    visible.sort();
    println!();
    println!(
        "{} of {total} orders confirmed in {:.1} s: {:.1} orders/s sustained (target {rate}/s)",
        visible.len(),
        elapsed.as_secs_f64(),
        visible.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "checkout request answered (202):            p50 {:>6.0} ms   p99 {:>6.0} ms",
        percentile(&answered, 0.5),
        percentile(&answered, 0.99)
    );
    println!(
        "checkout -> confirmation committed (saga):  p50 {:>6.0} ms   p99 {:>6.0} ms",
        percentile(&committed, 0.5),
        percentile(&committed, 0.99)
    );
    println!(
        "checkout -> confirmed visible in GET:       p50 {:>6.0} ms   p99 {:>6.0} ms   (goal p99 < 500 ms)",
        percentile(&visible, 0.5),
        percentile(&visible, 0.99)
    );
    println!("not confirmed: {}", failures.len());
    for failure in failures.iter().take(10) {
        println!("  {failure}");
    }
}
