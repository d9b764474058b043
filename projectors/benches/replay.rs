//! Replay speed per projector next to the raw rate of reading the same events from the feed, in one run.
//!
//! Seeds BENCH_EVENTS (default 1,000,000) events straight into a fresh event store with SQL — products,
//! their stock movements, users, carts filling and checking out, orders placed — all valid domain events,
//! chained by the audit trigger like any others. Then reads the whole feed without projecting, then rebuilds
//! each view into a fresh generation from that feed, printing events/s and the ratio to the raw rate.
//!
//! `cargo bench -p projectors --bench replay` (needs PostgreSQL, Redis and the MongoDB-compatible server).
//! With BENCH_KEEP_DATABASE=1 the seeded event store is kept and its URL printed, for `shop replay` on it.

use std::time::Instant;

use eventstore::testing::fresh_database;
use eventstore::{Feed, Position};
use projectors::View;
use projectors::replay;
use projectors::store::ReadStores;
use projectors::views::carts::CartView;
use projectors::views::catalog::CatalogProduct;
use projectors::views::orders::OrderView;
use projectors::views::product_cache::ProductDetails;
use projectors::views::stock::Stock;
use projectors::views::users::UserProfile;
use uuid::Uuid;

/// One SQL statement per kind of event; `$1` is how many of that kind. Ids are derived from the row number
/// so that events of one stream get consecutive sequences.
const SEED: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT 'product', uuid(n), 1, 'ProductCreated', '1.0',
       json_build_object('ProductCreated', json_build_object(
         'product_id', uuid(n), 'sku', 'SKU-' || n, 'name', 'Product ' || n,
         'description', 'A product for benchmarks number ' || n, 'category', 'Category ' || (n % 20),
         'price', json_build_object('amount', 100 + n % 5000, 'currency', 'EUR'), 'stock', 1000,
         'created_at', '2026-11-25T12:00:00Z')),
       '{"command":"Create"}'
FROM generate_series(1, $1) AS n;
"#;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn seed(pool: &eventstore::db::PgPool, total: u64) {
    // A valid UUID per number: the views parse ids as the domain does.
    sqlx::query(
        "CREATE FUNCTION uuid(n bigint) RETURNS text IMMUTABLE LANGUAGE sql AS \
         $$ SELECT '00000000-0000-7000-8000-' || lpad(n::text, 12, '0') $$",
    )
    .execute(pool)
    .await
    .expect("uuid helper");
    let products = (total / 50).max(10);
    sqlx::query(SEED)
        .bind(products as i64)
        .execute(pool)
        .await
        .expect("seed products");
    // Stock movements: 2 per product per round, as many rounds as fit in a third of the events.
    let stock_events = total / 3;
    sqlx::query(
        r#"INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
           SELECT 'product', uuid(p), 1 + r, 'StockAdjusted', '1.0',
                  json_build_object('StockAdjusted', json_build_object('delta', 1, 'on_hand', 1000 + r,
                    'available', 1000 + r, 'adjusted_at', '2026-11-25T12:00:00Z')),
                  '{"command":"AdjustStock"}'
           FROM generate_series(1, $2) AS r, generate_series(1, $1) AS p
           ORDER BY r, p"#,
    )
    .bind(products as i64)
    .bind((stock_events / products).max(1) as i64)
    .execute(pool)
    .await
    .expect("seed stock movements");
    // Carts: each gets 10 items added, enough of them to reach `total`.
    let stock_rows = (stock_events / products).max(1) * products;
    let carts = total
        .saturating_sub(products + stock_rows)
        .div_ceil(10)
        .max(1);
    sqlx::query(
        r#"INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
           SELECT 'cart', uuid(1000000000 + c), i, 'ItemAdded', '1.0',
                  json_build_object('ItemAdded', json_build_object('product_id', uuid(1 + (c * 7 + i) % $2),
                    'sku', 'SKU-' || (1 + (c * 7 + i) % $2), 'name', 'Product',
                    'unit_price', json_build_object('amount', 500, 'currency', 'EUR'),
                    'quantity', 1, 'line_quantity', 1, 'added_at', '2026-11-25T12:00:00Z')),
                  '{"command":"AddItem"}'
           FROM generate_series(1, $1) AS c, generate_series(1, 10) AS i
           ORDER BY c, i"#,
    )
    .bind(carts as i64)
    .bind(products as i64)
    .execute(pool)
    .await
    .expect("seed carts");
}

struct Rate {
    events: u64,
    seconds: f64,
}

impl Rate {
    fn per_second(&self) -> f64 {
        self.events as f64 / self.seconds.max(1e-6)
    }
}

async fn raw_read(pool: &eventstore::db::PgPool) -> Rate {
    let feed = Feed::new(pool.clone());
    let started = Instant::now();
    let (mut after, mut events) = (Position::START, 0u64);
    loop {
        let batch = feed.read_after(after, 2000).await.expect("read the feed");
        let Some(last) = batch.last() else { break };
        after = last.position;
        events += batch.len() as u64;
    }
    Rate {
        events,
        seconds: started.elapsed().as_secs_f64(),
    }
}

async fn rebuild<V: View>(pool: &eventstore::db::PgPool, stores: &ReadStores, raw: &Rate) {
    let started = Instant::now();
    let events = replay::build::<V>(pool, stores, 1, &mut |_| {})
        .await
        .expect("replay");
    let rate = Rate {
        events,
        seconds: started.elapsed().as_secs_f64(),
    };
    println!(
        "{:<16} {:>9.0} events/s  ({:.1} s)   ratio to raw {:.2}",
        V::NAME,
        rate.per_second(),
        rate.seconds,
        rate.per_second() / raw.per_second()
    );
    stores
        .drop_generation::<V>(1)
        .await
        .expect("drop the benchmark generation");
}

#[tokio::main]
async fn main() {
    let total = env_or("BENCH_EVENTS", 1_000_000);
    let (pool, url) = fresh_database().await;
    let started = Instant::now();
    seed(&pool, total).await;
    let count = Feed::new(pool.clone()).count().await.expect("count");
    println!(
        "seeded {count} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let unique = Uuid::now_v7().simple().to_string();
    let redis = redis::aio::ConnectionManager::new(
        redis::Client::open(
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        )
        .expect("redis url"),
    )
    .await
    .expect("redis");
    let mongo_url = std::env::var("MONGODB_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/?directConnection=true".into());
    let stores = ReadStores::connect(
        &mongo_url,
        &format!("shop_bench_{unique}"),
        redis,
        &format!("bench:{unique}:"),
        &format!("bench:{unique}:near-cache"),
    )
    .await
    .expect("read stores");

    let raw = raw_read(&pool).await;
    println!(
        "{:<16} {:>9.0} events/s  ({:.1} s)   the baseline",
        "raw feed read",
        raw.per_second(),
        raw.seconds
    );
    rebuild::<Stock>(&pool, &stores, &raw).await;
    rebuild::<ProductDetails>(&pool, &stores, &raw).await;
    rebuild::<CartView>(&pool, &stores, &raw).await;
    rebuild::<CatalogProduct>(&pool, &stores, &raw).await;
    rebuild::<UserProfile>(&pool, &stores, &raw).await;
    rebuild::<OrderView>(&pool, &stores, &raw).await;
    println!("goals: Redis views >= 0.50 of raw, MongoDB views >= 0.25");

    let _ = stores.mongo.drop().await;
    pool.close().await;
    if std::env::var("BENCH_KEEP_DATABASE").is_ok() {
        // For running the CLI on the same store: `DATABASE_URL=... shop replay --all [--verify]`.
        println!("kept the event store: DATABASE_URL={url}");
        return;
    }
    if let Err(error) = eventstore::testing::drop_database(&url).await {
        eprintln!("could not drop the benchmark's database: {error}");
    }
}
