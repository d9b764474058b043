//! Checkout capacity and latency (issues 4 and 14), against a whole shop run as a child `shop serve` (every
//! role) on its own database, Redis prefix, MongoDB database and RabbitMQ names, with the real services.
//!
//! Customers check out one item each with `pm_card_visa` (one checkout at a time per customer), one checkout
//! every 1/rate s. The measurement costs the same however slow the shop gets:
//! - one reader follows the feed (a cursor, one statement per read, woken by the shop's commit
//!   notifications, at most every 20 ms) and settles each order in flight when its `OrderConfirmed` or
//!   `OrderCancelled` appears: checkout request → confirmation committed;
//! - at most 20 orders a second are also read once with `GET /orders/{id}` and `X-Min-Position` at that
//!   event: checkout request → confirmed visible in the read model.
//!
//! For each stage it prints orders/s sustained, p50/p99 of both, and the CPU milliseconds per order of each
//! process (the shop, PostgreSQL, RabbitMQ, the MongoDB-compatible server, the SMTP sink, localstripe and this
//! client), read from `/proc` before and after, and the MongoDB-compatible server's operations per order (its
//! `serverStatus` counters, read before and after: one query per stage). Before the first stage it measures
//! the trivial handler (`GET /health/live` of the shop under test, wrk, 64 connections, 5 s), the figure
//! that tells a slow day from a fast one.
//!
//! - `BENCH_RATE` (default 50) orders/s for `BENCH_SECONDS` (default 30).
//! - `BENCH_RAMP=1`: stages from `BENCH_RATE` up by `BENCH_STEP` (default 10) orders/s until a p99 (the
//!   confirmation, or its sample read back) passes 500 ms or an order is not confirmed; the capacity is the
//!   highest rate that held.
//! - `BENCH_LISTING=1` (one stage, not with the ramp: the reads take the checkouts' CPU): during the stage,
//!   wrk reads catalog listings (`GET /products?page=1&limit=20`, 16 connections) from the same shop, whose
//!   catalog index commits the stock changes of every checkout, next to `GET /health/live` measured before
//!   the load.
//! - `BENCH_CATALOG=N`: `shop seed` makes a catalog of N products first (the checkouts buy 100 of their own),
//!   so that the listing is read at a realistic size.
//!
//! - `BENCH_CODE=1` (one rate, not with the ramp or the listing): a stage without a discount code, then one
//!   with a code applied to every order's cart (`POST /cart/discount` before the checkout: one 10 % code for
//!   all), at the same rate in the same run. A code without a limit is only read at checkout;
//!   `BENCH_CODE_PER_CUSTOMER=N` gives it a limit of N uses per customer, so that every checkout holds a
//!   redemption of the same promotion (docs/adr/0019).
//! - `BENCH_SHOP=PATH`: the `shop` binary to run (default: this build's), to compare another build's shop
//!   with the same client: `cp target/release/shop /tmp/shop-before` on the old commit, then
//!   `BENCH_SHOP=/tmp/shop-before` on the new one.
//!
//! Run: `cargo bench -p shop --bench checkout` (services up: `scripts/services.sh`; wrk for the listing).

use std::collections::HashMap;
use std::ffi::OsString;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventstore::testing::{drop_database, empty_database};
use eventstore::wake::Wakeups;
use eventstore::{Feed, Position};
use futures::StreamExt;
use platform::Settings;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use uuid::Uuid;

/// The confirmation p99 a stage must stay under to count as held.
const P99_GOAL: Duration = Duration::from_millis(500);
/// At most this many orders a second are read back through the API.
const VISIBLE_SAMPLES_PER_SECOND: u32 = 20;

/// The shop to run: `BENCH_SHOP`, or the one built with this benchmark.
fn shop_binary() -> OsString {
    std::env::var_os("BENCH_SHOP").unwrap_or_else(|| env!("CARGO_BIN_EXE_shop").into())
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An order's last word from the feed: whether it was confirmed, and the event's position.
type Settled = (bool, Position);

/// The orders in flight, settled by one reader of the feed.
#[derive(Default)]
struct Watch {
    waiting: Mutex<HashMap<String, oneshot::Sender<Settled>>>,
    /// Settlements read before their checkout's answer registered the order.
    early: Mutex<HashMap<String, Settled>>,
}

impl Watch {
    fn expect(&self, order: &str) -> oneshot::Receiver<Settled> {
        let (sender, receiver) = oneshot::channel();
        if let Some(settled) = self.early.lock().unwrap().remove(order) {
            let _ = sender.send(settled);
        } else {
            self.waiting
                .lock()
                .unwrap()
                .insert(order.to_owned(), sender);
        }
        receiver
    }

    /// Follows the feed from `after`, like any subscriber: one statement per read (the whole feed: a read
    /// filtered by type costs PostgreSQL a transaction of four), at most one read every 20 ms, woken by the
    /// shop's notifications. Its cost does not grow with the orders in flight.
    async fn run(self: Arc<Self>, feed: Feed, mut wakeups: Wakeups, mut after: Position) {
        let mut last_read = Instant::now();
        loop {
            let since = last_read.elapsed();
            if since < Duration::from_millis(20) {
                tokio::time::sleep(Duration::from_millis(20) - since).await;
            }
            last_read = Instant::now();
            let batch = feed
                .read_after(after, 1_000)
                .await
                .expect("follow the feed");
            if batch.is_empty() {
                wakeups.wait().await;
                continue;
            }
            for event in batch.iter().filter(|e| e.aggregate_type == "order") {
                let confirmed = match event.event_type.as_str() {
                    "OrderConfirmed" => true,
                    "OrderCancelled" => false,
                    _ => continue,
                };
                let settled = (confirmed, event.position);
                let waiting = self.waiting.lock().unwrap().remove(&event.aggregate_id);
                match waiting {
                    Some(sender) => {
                        let _ = sender.send(settled);
                    }
                    None => {
                        self.early
                            .lock()
                            .unwrap()
                            .insert(event.aggregate_id.clone(), settled);
                    }
                }
            }
            after = batch.last().map_or(after, |e| e.position);
        }
    }
}

/// Lets at most [`VISIBLE_SAMPLES_PER_SECOND`] orders through.
struct Sampler {
    next: Mutex<Instant>,
}

impl Sampler {
    fn take(&self) -> bool {
        let mut next = self.next.lock().unwrap();
        let now = Instant::now();
        if now < *next {
            return false;
        }
        *next = now + Duration::from_secs(1) / VISIBLE_SAMPLES_PER_SECOND;
        true
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
    ) -> Result<Value, String> {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A password check, again after a pause while the shop answers 429 (its cap on concurrent hashes).
    async fn password_check(&self, path: &str, body: &Value) -> Value {
        for _ in 0..100 {
            match self
                .call(reqwest::Method::POST, path, None, Some(body.clone()))
                .await
            {
                Ok(answer) => return answer,
                Err(busy) if busy.contains(" 429 ") => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(other) => panic!("{other}"),
            }
        }
        panic!("{path}: still busy after 100 tries")
    }

    async fn customer(&self, n: usize) -> String {
        let email = format!("bench-{n}-{}@example.com", Uuid::now_v7().simple());
        let credentials = json!({"email": email, "password": "password123", "name": "Bench"});
        self.password_check("/auth/register", &credentials).await;
        self.password_check("/auth/login", &credentials).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }
}

/// Whether a process (pid, command name, command line) belongs to a group.
type Member = Box<dyn Fn(u32, &str, &str) -> bool>;

/// CPU time used so far by each group of processes, in clock ticks.
struct Processes {
    groups: Vec<(&'static str, Member)>,
    ticks_per_second: f64,
}

impl Processes {
    fn new(shop: u32) -> Self {
        let me = std::process::id();
        let ticks_per_second = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0);
        Self {
            groups: vec![
                ("shop", Box::new(move |pid, _, _| pid == shop)),
                ("PostgreSQL", Box::new(|_, comm, _| comm == "postgres")),
                ("RabbitMQ", Box::new(|_, comm, _| comm == "beam.smp")),
                (
                    "MongoDB-compatible",
                    Box::new(|_, _, cmd| cmd.contains("secantusd")),
                ),
                ("SMTP sink", Box::new(|_, _, cmd| cmd.contains("aiosmtpd"))),
                (
                    "localstripe",
                    Box::new(|_, _, cmd| cmd.contains("localstripe")),
                ),
                ("this client", Box::new(move |pid, _, _| pid == me)),
            ],
            ticks_per_second,
        }
    }

    /// Ticks used by each group's processes that are alive now.
    fn ticks(&self) -> Vec<u64> {
        let mut ticks = vec![0; self.groups.len()];
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return ticks;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let path = entry.path();
            let (Ok(stat), Ok(cmdline)) = (
                std::fs::read_to_string(path.join("stat")),
                std::fs::read(path.join("cmdline")),
            ) else {
                continue;
            };
            let cmd = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            // `pid (comm) state ...`: the command may hold spaces, so split after its closing parenthesis.
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let comm = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
            let used = fields
                .get(11)
                .and_then(|u| u.parse::<u64>().ok())
                .unwrap_or(0)
                + fields
                    .get(12)
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(0);
            if let Some(group) = self
                .groups
                .iter()
                .position(|(_, matches)| matches(pid, comm, &cmd))
            {
                ticks[group] += used;
            }
        }
        ticks
    }

    fn print_per_order(&self, before: &[u64], after: &[u64], orders: usize) {
        let per_order =
            |ticks: u64| ticks as f64 * 1000.0 / self.ticks_per_second / orders.max(1) as f64;
        let mut total = 0.0;
        let mut parts = Vec::new();
        for (n, (name, _)) in self.groups.iter().enumerate() {
            let ms = per_order(after[n].saturating_sub(before[n]));
            total += ms;
            parts.push(format!("{name} {ms:.1}"));
        }
        println!(
            "  CPU ms per order: {} (total {total:.1})",
            parts.join(", ")
        );
    }
}

/// The MongoDB-compatible server's operation counters (`serverStatus`'s `opcounters`): its round trips, from
/// every client (the shop's views; during a stage, nothing else writes to it).
async fn mongo_operations(client: &mongodb::Client) -> Option<Vec<(String, i64)>> {
    let status = client
        .database("admin")
        .run_command(mongodb::bson::doc! {"serverStatus": 1})
        .await
        .ok()?;
    let counters = status.get_document("opcounters").ok()?;
    Some(
        counters
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    name.clone(),
                    value.as_i64().or_else(|| value.as_i32().map(i64::from))?,
                ))
            })
            .collect(),
    )
}

fn print_operations_per_order(
    before: Option<Vec<(String, i64)>>,
    after: Option<Vec<(String, i64)>>,
    orders: usize,
) {
    let (Some(before), Some(after)) = (before, after) else {
        println!("  MongoDB operations per order: not known (no serverStatus)");
        return;
    };
    let per_order = |n: i64| n as f64 / orders.max(1) as f64;
    let mut total = 0;
    let mut parts = Vec::new();
    for (name, count) in &after {
        let was = before
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c);
        let done = count - was;
        if done > 0 {
            total += done;
            parts.push(format!("{name} {:.1}", per_order(done)));
        }
    }
    println!(
        "  MongoDB operations per order: {} (total {:.1})",
        parts.join(", "),
        per_order(total)
    );
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted
        .get(index)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// wrk's requests/s and p99 for `url`.
async fn wrk(url: &str, connections: u32, seconds: u64) -> Option<(f64, String)> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let p99 = text
        .lines()
        .find(|l| l.trim_start().starts_with("99%"))?
        .split_whitespace()
        .nth(1)?
        .to_owned();
    Some((rps, p99))
}

/// The shop as a child process: `shop serve` with every role.
async fn start_shop(env: &[(&str, String)], base: &str) -> Child {
    let log = std::fs::File::create(std::env::temp_dir().join("shop-bench-checkout.log"))
        .expect("a log file for the shop");
    let child = Command::new(shop_binary())
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start shop serve");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ready = http.get(format!("{base}/health/ready")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        assert!(Instant::now() < deadline, "shop serve did not get ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Stage {
    rate: f64,
    offered: usize,
    confirmed: usize,
    sustained: f64,
    committed: Vec<Duration>,
    visible: Vec<Duration>,
    failures: Vec<String>,
}

impl Stage {
    /// Every order confirmed, and both p99s (the confirmation, and its sample read back) under the goal.
    fn held(&self) -> bool {
        let goal = P99_GOAL.as_secs_f64() * 1000.0;
        let visible = percentile(&self.visible, 0.99);
        self.failures.is_empty()
            && percentile(&self.committed, 0.99) < goal
            && (visible.is_nan() || visible < goal)
    }
}

struct Load {
    client: Arc<Client>,
    watch: Arc<Watch>,
    sampler: Arc<Sampler>,
    tokens: Vec<String>,
    carts: Vec<Arc<tokio::sync::Mutex<()>>>,
    products: Vec<String>,
}

impl Load {
    /// One stage at `rate`; with `code`, every cart has it applied before its checkout.
    async fn stage(&self, rate: f64, seconds: u64, code: Option<&str>) -> Stage {
        let total = (rate * seconds as f64) as usize;
        let address = json!({"name": "Bench", "line1": "1 Load Street", "city": "Berlin",
            "postal_code": "10115", "country": "DE"});
        let began = Instant::now();
        let mut orders = Vec::with_capacity(total);
        for i in 0..total {
            tokio::time::sleep_until((began + Duration::from_secs_f64(i as f64 / rate)).into())
                .await;
            let (client, watch, sampler) = (
                self.client.clone(),
                self.watch.clone(),
                self.sampler.clone(),
            );
            let address = address.clone();
            let token = self.tokens[i % self.tokens.len()].clone();
            let cart = self.carts[i % self.carts.len()].clone();
            let product = self.products[i % self.products.len()].clone();
            let code = code.map(str::to_owned);
            orders.push(tokio::spawn(async move {
                let (started, placed) = {
                    let _cart = cart.lock().await;
                    client
                        .call(
                            reqwest::Method::POST,
                            "/cart/items",
                            Some(&token),
                            Some(json!({"product_id": product, "quantity": 1})),
                        )
                        .await?;
                    if let Some(code) = &code {
                        client
                            .call(
                                reqwest::Method::POST,
                                "/cart/discount",
                                Some(&token),
                                Some(json!({"code": code})),
                            )
                            .await?;
                    }
                    let started = Instant::now();
                    let placed = client
                        .call(
                            reqwest::Method::POST,
                            "/cart/checkout",
                            Some(&token),
                            Some(json!({"shipping_address": address,
                                "payment_method": "pm_card_visa"})),
                        )
                        .await?;
                    (started, placed)
                };
                let id = placed["id"].as_str().ok_or("no order id")?.to_owned();
                let Ok(Ok((confirmed, position))) =
                    tokio::time::timeout(Duration::from_secs(60), watch.expect(&id)).await
                else {
                    return Err(format!("{id}: not settled within 60 s"));
                };
                let committed = started.elapsed();
                if !confirmed {
                    return Err(format!("{id}: cancelled"));
                }
                if !sampler.take() {
                    return Ok((committed, None));
                }
                let order = client
                    .http
                    .get(format!("{}/api/v1/orders/{id}", client.base))
                    .bearer_auth(&token)
                    .header("x-min-position", position.to_string())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json::<Value>()
                    .await
                    .map_err(|e| e.to_string())?;
                if order["status"] != "confirmed" {
                    return Err(format!("{id}: read model says {}", order["status"]));
                }
                Ok((committed, Some(started.elapsed())))
            }));
        }
        let mut stage = Stage {
            rate,
            offered: total,
            confirmed: 0,
            sustained: 0.0,
            committed: Vec::new(),
            visible: Vec::new(),
            failures: Vec::new(),
        };
        for order in orders {
            match order.await.expect("order task") {
                Ok((committed, visible)) => {
                    stage.committed.push(committed);
                    stage.visible.extend(visible);
                }
                Err(e) => stage.failures.push(e),
            }
        }
        stage.confirmed = stage.committed.len();
        stage.sustained = stage.confirmed as f64 / began.elapsed().as_secs_f64();
        stage.committed.sort();
        stage.visible.sort();
        stage
    }
}

#[tokio::main]
async fn main() {
    let rate = env_or("BENCH_RATE", 50) as f64;
    let seconds = env_or("BENCH_SECONDS", 30);
    let step = env_or("BENCH_STEP", 10) as f64;
    let ramp = env_or("BENCH_RAMP", 0) == 1;
    let listing = env_or("BENCH_LISTING", 0) == 1;
    let with_code = env_or("BENCH_CODE", 0) == 1;
    assert!(
        !(ramp && listing),
        "BENCH_LISTING measures one stage: the reads would take the ramp's CPU"
    );
    assert!(
        !(with_code && (ramp || listing)),
        "BENCH_CODE compares two stages at one rate, without the ramp or the listing"
    );
    let customers = env_or("BENCH_CUSTOMERS", 300) as usize;
    let catalog = env_or("BENCH_CATALOG", 0);

    // The shop under test migrates its database: another build (`BENCH_SHOP`) may know other migrations.
    let (pool, database_url) = empty_database().await;
    let unique = Uuid::now_v7().simple().to_string();
    let prefix = format!("bench:{unique}:");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let env = [
        ("DATABASE_URL", database_url.clone()),
        ("SHOP_HTTP_ADDR", format!("127.0.0.1:{port}")),
        ("REDIS_PREFIX", prefix.clone()),
        ("AMQP_PREFIX", prefix.clone()),
        ("MONGODB_DATABASE", format!("shop_test_bench_{unique}")),
        ("SHOP_REGISTRATIONS_PER_MINUTE", "1000000".to_owned()),
        (
            "SHOP_MEDIA_URL",
            format!(
                "file://{}/shop-bench-media/{unique}",
                std::env::temp_dir().display()
            ),
        ),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let settings = Settings::from_lookup(|name| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
            .or_else(|| std::env::var(name).ok())
    })
    .expect("settings");
    let migrated = Command::new(shop_binary())
        .arg("migrate")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .status()
        .await
        .expect("run shop migrate");
    assert!(migrated.success(), "shop migrate failed");
    if catalog > 0 {
        eprintln!("seeding a catalog of {catalog} products...");
        let seeded = Command::new(shop_binary())
            .args(["seed", "--products", &catalog.to_string()])
            .args(["--customers", "1", "--orders", "0"])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .status()
            .await
            .expect("run shop seed");
        assert!(seeded.success(), "shop seed failed");
    }
    let shop = start_shop(&env, &base).await;
    let processes = Processes::new(shop.id().expect("the shop's pid"));
    let mongo = mongodb::Client::with_uri_str(settings.mongodb_url.expose())
        .await
        .expect("a MongoDB client");
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        base: base.clone(),
    });

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
        .password_check(
            "/auth/login",
            &json!({"email": admin_email, "password": "password123"}),
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
            .await
            .expect("create a product");
        products.push(created["id"].as_str().expect("product id").to_owned());
    }
    let code = format!("BENCH{}", &unique[..8]).to_uppercase();
    if with_code {
        client
            .call(
                reqwest::Method::POST,
                "/promotions",
                Some(&admin),
                Some(match env_or("BENCH_CODE_PER_CUSTOMER", 0) {
                    0 => json!({"code": code, "percent_off": 10}),
                    limit => json!({"code": code, "percent_off": 10, "max_per_customer": limit}),
                }),
            )
            .await
            .expect("create the discount code");
    }
    eprintln!("preparing {customers} customers...");
    let tokens: Vec<String> = futures::stream::iter(0..customers)
        .map(|n| {
            let client = client.clone();
            async move { client.customer(n).await }
        })
        .buffered(4)
        .collect()
        .await;

    let feed = Feed::new(pool.clone());
    let head = feed
        .head()
        .await
        .expect("the feed's head")
        .unwrap_or(Position::START);
    let watch = Arc::new(Watch::default());
    let wakeups = Wakeups::start(pool.clone(), None, Duration::from_secs(1));
    let watching = tokio::spawn(watch.clone().run(feed, wakeups, head));
    let load = Load {
        client,
        watch,
        sampler: Arc::new(Sampler {
            next: Mutex::new(Instant::now()),
        }),
        tokens,
        carts: (0..customers).map(|_| Arc::default()).collect(),
        products,
    };

    // The trivial handler of this run, the figure that tells a slow day from a fast one.
    let day = wrk(&format!("{base}/health/live"), 64, 5).await;
    let trivial = if listing {
        wrk(&format!("{base}/health/live"), 16, 5).await
    } else {
        None
    };
    println!(
        "checkout benchmark: {} cores, stages of {seconds} s{}, shop {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if ramp {
            format!(", ramp from {rate}/s by {step}/s")
        } else {
            String::new()
        },
        shop_binary().to_string_lossy()
    );
    match &day {
        Some((rps, p99)) => println!(
            "the trivial handler, GET /health/live before the load (wrk, 64 connections): {rps:.0} req/s, p99 {p99}"
        ),
        None => println!("the trivial handler: wrk did not run (is it installed?)"),
    }
    if let Some((rps, p99)) = &trivial {
        println!(
            "GET /health/live before the load (wrk, 16 connections): {rps:.0} req/s, p99 {p99}"
        );
    }
    let mut capacity = None;
    let mut rate_now = rate;
    // With BENCH_CODE, the stage without a code comes first, then the same rate with one.
    let mut code_stage = with_code.then_some(code.as_str());
    let mut code_now = None;
    loop {
        let before = processes.ticks();
        let operations_before = mongo_operations(&mongo).await;
        let listing_url = format!("{base}/api/v1/products?page=1&limit=20");
        let reads =
            listing.then(|| tokio::spawn(async move { wrk(&listing_url, 16, seconds).await }));
        let stage = load.stage(rate_now, seconds, code_now).await;
        let after = processes.ticks();
        let operations_after = mongo_operations(&mongo).await;
        println!();
        println!(
            "offered {:.0}/s{}: {} of {} orders confirmed, {:.1}/s sustained",
            stage.rate,
            code_now.map_or(String::new(), |code| format!(" with code {code}")),
            stage.confirmed,
            stage.offered,
            stage.sustained
        );
        println!(
            "  checkout -> confirmation committed: p50 {:>6.0} ms  p99 {:>6.0} ms  (goal p99 < {} ms)",
            percentile(&stage.committed, 0.5),
            percentile(&stage.committed, 0.99),
            P99_GOAL.as_millis()
        );
        println!(
            "  checkout -> confirmed visible in GET ({} sampled): p50 {:>6.0} ms  p99 {:>6.0} ms",
            stage.visible.len(),
            percentile(&stage.visible, 0.5),
            percentile(&stage.visible, 0.99)
        );
        processes.print_per_order(&before, &after, stage.confirmed);
        print_operations_per_order(operations_before, operations_after, stage.confirmed);
        if let Some(reads) = reads {
            match reads.await.ok().flatten() {
                Some((rps, p99)) => {
                    let ratio = trivial.as_ref().map_or(f64::NAN, |(t, _)| rps / t);
                    println!(
                        "  listing during the load (wrk, 16 connections): {rps:.0} req/s, p99 {p99}, {ratio:.2} of /health/live before"
                    );
                }
                None => println!("  listing during the load: wrk did not run (is it installed?)"),
            }
        }
        for failure in stage.failures.iter().take(5) {
            println!("  not confirmed: {failure}");
        }
        if let Some(next) = code_stage.take() {
            code_now = Some(next);
            continue;
        }
        if !ramp {
            break;
        }
        if !stage.held() {
            break;
        }
        capacity = Some(stage.rate);
        rate_now += step;
    }
    if ramp {
        match capacity {
            Some(rate) => println!(
                "\ncapacity: {rate:.0} orders/s held (both p99 < 500 ms, every order confirmed)"
            ),
            None => println!("\ncapacity: below {rate:.0} orders/s (the first stage did not hold)"),
        }
    }
    drop(shop);
    // The feed's reader stops before its pool closes (it would fail on a closed pool).
    watching.abort();
    pool.close().await;
    if let Err(error) = drop_database(&database_url).await {
        eprintln!("could not drop the benchmark's database: {error}");
    }
}
