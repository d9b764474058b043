//! Command throughput against the real PostgreSQL, next to its baseline measured in the same run.
//!
//! 32 clients (BENCH_CLIENTS) for 20 s (BENCH_SECONDS) each:
//! 1. run `AddItem` through the `CommandBus` against carts that already hold 20 events (load the aggregate,
//!    decide, append one event, read back its position);
//!    once with the bus's in-memory aggregates (the default: the cart is loaded once, then every command
//!    starts from the state its previous command left, docs/adr/0009) and once loading it every time;
//! 2. insert single rows, one transaction each, into a table shaped like `events` (same columns, defaults,
//!    identity and indexes; no audit trigger): the raw rate of durable one-event transactions.
//!
//! Prints commands/s, p50 and p99 latency of each, and the ratios. Run with
//! `cargo bench -p eventstore --bench command_throughput`; it creates and drops its own database.

use std::sync::Arc;

use futures::future::BoxFuture;
use std::time::{Duration, Instant};

use chrono::Utc;
use domain::cart::{Cart, CartCommand, ProductSnapshot};
use domain::{Currency, Money, ProductId, Quantity, Sku};
use eventstore::testing::fresh_database;
use eventstore::{CommandBus, CommandMetadata};
use sqlx::PgPool;
use uuid::Uuid;

/// Carts per client, so that no line reaches its limit of 99 during a long run.
const CARTS_PER_CLIENT: usize = 8;
/// Lines per cart, filled before the run: each cart starts with this many events.
const PRIOR_EVENTS: usize = 20;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    operations: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(index).copied().unwrap_or_default()
    }
}

/// Runs `clients` loops of `operation` for `duration`, collecting every latency.
async fn drive<F, Fut>(clients: usize, duration: Duration, operation: F) -> Run
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let operation = Arc::new(operation);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let operation = operation.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0;
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    operation(client, n).await;
                    latencies.push(begun.elapsed());
                    n += 1;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client task"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Run {
        operations: latencies.len(),
        elapsed,
        latencies,
    }
}

fn snapshot(product: usize) -> ProductSnapshot {
    let eur = Currency::parse("EUR").expect("EUR");
    ProductSnapshot {
        product_id: ProductId::new(Uuid::from_u128(product as u128 + 1)),
        sku: Sku::parse(&format!("BENCH-{product}")).expect("sku"),
        name: format!("Bench product {product}"),
        unit_price: Money::new(1000 + product as i64, eur).expect("money"),
        discontinued: false,
    }
}

fn add_item(product: usize) -> CartCommand {
    CartCommand::AddItem {
        product: snapshot(product),
        quantity: Quantity::new(1).expect("quantity"),
        at: Utc::now(),
    }
}

fn cart_id(client: usize, cart: usize) -> String {
    Uuid::from_u128(((client as u128) << 32) | cart as u128 | (1 << 100)).to_string()
}

async fn prefill(bus: &CommandBus, clients: usize) {
    let metadata = CommandMetadata::new_chain();
    for client in 0..clients {
        for cart in 0..CARTS_PER_CLIENT {
            let id = cart_id(client, cart);
            for product in 0..PRIOR_EVENTS {
                bus.execute::<Cart>(&id, add_item(product), &metadata, None)
                    .await
                    .expect("prefill");
            }
        }
    }
}

/// Each client adds items to its own carts, round robin.
fn add_items(bus: Arc<CommandBus>) -> impl Fn(usize, u64) -> BoxFuture<'static, ()> + Send + Sync {
    move |client, n| {
        let bus = bus.clone();
        Box::pin(async move {
            let cart = cart_id(client, n as usize % CARTS_PER_CLIENT);
            let product = (n as usize / CARTS_PER_CLIENT) % PRIOR_EVENTS;
            bus.execute::<Cart>(
                &cart,
                add_item(product),
                &CommandMetadata::new_chain(),
                None,
            )
            .await
            .expect("AddItem");
        })
    }
}

async fn raw_table(pool: &PgPool) {
    sqlx::query("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
        .execute(pool)
        .await
        .expect("create raw_events");
}

fn print(name: &str, run: &Run) {
    println!(
        "{name:<34} {:>9.0} ops/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} ops in {:.1} s)",
        run.rate(),
        run.percentile(0.50).as_secs_f64() * 1000.0,
        run.percentile(0.99).as_secs_f64() * 1000.0,
        run.operations,
        run.elapsed.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() {
    let clients = env_or("BENCH_CLIENTS", 32) as usize;
    let duration = Duration::from_secs(env_or("BENCH_SECONDS", 20));
    let (_, url) = fresh_database().await;
    let pool = eventstore::connect(&url, clients as u32 + 4).expect("pool");
    let bus = Arc::new(CommandBus::new(pool.clone()));
    println!(
        "preparing {} carts with {PRIOR_EVENTS} events each...",
        clients * CARTS_PER_CLIENT
    );
    prefill(&bus, clients).await;
    raw_table(&pool).await;
    if std::env::var("BENCH_WITHOUT_AUDIT_TRIGGER").is_ok() {
        // Diagnostic only: how much of a command's cost is the audit chain.
        sqlx::query("ALTER TABLE events DISABLE TRIGGER events_chain")
            .execute(&pool)
            .await
            .expect("disable");
    }

    let raw_pool = pool.clone();
    let raw = drive(clients, duration, move |client, n| {
        let pool = raw_pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO raw_events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata) VALUES ('cart', $1, $2, 'ItemAdded', '1.0', $3, $4)",
            )
            .bind(format!("raw-{client}"))
            .bind(n as i64 + 1)
            .bind(serde_json::json!({"ItemAdded": {"product_id": "00000000-0000-0000-0000-000000000001",
                "sku": "BENCH-1", "name": "Bench product 1", "unit_price": {"amount": 1001, "currency": "EUR"},
                "quantity": 1, "line_quantity": 2, "added_at": Utc::now()}}))
            .bind(serde_json::json!({"command": "AddItem", "correlation_id": Uuid::now_v7().to_string()}))
            .execute(&pool)
            .await
            .expect("raw insert");
        }
    })
    .await;

    let uncached = Arc::new(CommandBus::new(pool.clone()).with_cache_capacity(0));
    let loading = drive(clients, duration, add_items(uncached)).await;
    let commands = drive(clients, duration, add_items(bus.clone())).await;

    println!();
    println!("{clients} clients, {} s each, one run", duration.as_secs());
    print("raw single-row INSERT transactions", &raw);
    print("AddItem, aggregate loaded each time", &loading);
    print("AddItem through the CommandBus", &commands);
    println!(
        "ratio loading every time/raw: {:.2}; ratio commands/raw: {:.2} (goal >= 0.50; p99 goal < 25 ms)",
        loading.rate() / raw.rate(),
        commands.rate() / raw.rate()
    );

    pool.close().await;
    if let Err(error) = eventstore::testing::drop_database(&url).await {
        eprintln!("could not drop the benchmark's database: {error}");
    }
}
