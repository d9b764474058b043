//! Chaos: `kill -9` under checkout load, then every invariant.
//!
//! The shop runs as three child processes — the web one (command-api, query-api, projectors), the saga (with
//! the notifier and the timers) and the relay — against a database, Redis prefix, MongoDB database and
//! RabbitMQ prefix of its own. Thirty customers check out in a loop with the test cards, each write sent
//! with an Idempotency-Key and retried with the same key until it gets a definite answer, as a careful client
//! does. Meanwhile the web process, the saga alone, the relay alone and then all three are killed with
//! SIGKILL and started again. When the load stops and every order has settled:
//!
//! - every accepted checkout has exactly one order, and every order ended confirmed or cancelled;
//! - no cart was lost (every checked-out cart has its order, every order its checked-out cart, and every
//!   cart is empty) and no Idempotency-Key is stuck;
//! - for each product, available = on hand = initial − confirmed units;
//! - captured amounts equal the confirmed totals, and a cancelled captured order is refunded;
//! - each confirmed order has exactly one recorded `order_confirmed` notification and at least one mail
//!   (a kill between sending and recording may send it again, under the same Message-ID);
//! - `shop audit verify` is ok.
//!
//! scripts/test.sh runs this binary alone, with the other process-killing tests (`binary(chaos)`).

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use domain::product::Product;
use eventstore::testing::{eventually, eventually_explained, fresh_database};
use eventstore::{CommandBus, Feed};
use rand::Rng;
use rand::seq::IndexedRandom;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{PgPool, Row};
use uuid::Uuid;

const CUSTOMERS: usize = 30;
const PRODUCTS: usize = 6;
const INITIAL_STOCK: u64 = 5_000;
const CARDS: [&str; 4] = [
    "pm_card_visa",
    "pm_card_declined",
    "pm_card_flaky",
    "pm_card_insufficient_funds",
];
/// How long a client keeps retrying one write before the test gives up on the shop.
const WRITE_PATIENCE: Duration = Duration::from_secs(90);

/// One role of the shop as a child process, on a port of its own, logging to a file of its own.
struct Process {
    roles: &'static str,
    port: u16,
    log: std::path::PathBuf,
    child: Option<Child>,
}

/// The shop's three processes and what they share.
struct Shop {
    env: Vec<(String, String)>,
    web: Process,
    saga: Process,
    relay: Process,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Process {
    fn new(roles: &'static str, run: &str) -> Self {
        let log_dir = std::env::temp_dir().join("shop-chaos").join(run);
        std::fs::create_dir_all(&log_dir).expect("a folder for the processes' logs");
        Self {
            roles,
            port: free_port(),
            log: log_dir.join(format!("{}.log", roles.replace(',', "-"))),
            child: None,
        }
    }

    fn start(&mut self, env: &[(String, String)]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_shop"))
            .args(["serve", "--role", self.roles])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SHOP_HTTP_ADDR", format!("127.0.0.1:{}", self.port))
            // Warnings, and the catalog index's progress while it builds.
            .env("RUST_LOG", "warn,projectors::search=info")
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::from(log.try_clone().expect("log file")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start a shop process");
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The last lines the process logged (in all its lives), for a failure's message.
    fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Shop {
    async fn start() -> (Self, PgPool) {
        let (pool, database_url) = fresh_database().await;
        let unique = Uuid::now_v7().simple().to_string();
        let prefix = format!("test:{unique}:");
        let env = vec![
            ("DATABASE_URL".to_owned(), database_url),
            ("REDIS_PREFIX".to_owned(), prefix.clone()),
            ("AMQP_PREFIX".to_owned(), prefix),
            ("MONGODB_DATABASE".to_owned(), format!("shop_test_{unique}")),
            ("DATABASE_MAX_CONNECTIONS".to_owned(), "16".to_owned()),
            ("SAGA_RETRY_BASE_MS".to_owned(), "50".to_owned()),
            (
                "SHOP_REGISTRATIONS_PER_MINUTE".to_owned(),
                "1000".to_owned(),
            ),
        ];
        let mut shop = Self {
            env,
            web: Process::new("command-api,query-api,projectors", &unique),
            saga: Process::new("saga", &unique),
            relay: Process::new("relay", &unique),
        };
        for process in [&mut shop.web, &mut shop.saga, &mut shop.relay] {
            process.start(&shop.env);
        }
        for process in [&shop.web, &shop.saga, &shop.relay] {
            until_ready(process).await;
        }
        (shop, pool)
    }

    fn api(&self) -> String {
        format!("{}/api/v1", self.web.url())
    }
}

/// Why a process is not ready: its last answer, and the end of its log, read only when the wait fails.
struct NotReady<'a> {
    process: &'a Process,
    last: String,
}

impl std::fmt::Display for NotReady<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "its last answer: {}\n{} (the end of its log):\n{}",
            self.last,
            self.process.log.display(),
            self.process.log_tail(40)
        )
    }
}

/// Waits until the process answers `/health/ready` with 200; returns how long that took. If it never does,
/// the failure shows its last answer and the end of its log.
async fn until_ready(process: &Process) -> Duration {
    let started = Instant::now();
    let client = reqwest::Client::new();
    let url = format!("{}/health/ready", process.url());
    eventually_explained(
        &format!("{} getting ready", process.roles),
        Duration::from_secs(60),
        async || {
            let last = match client
                .get(&url)
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                Ok(answer) if answer.status() == StatusCode::OK => return Ok(()),
                Ok(answer) => format!(
                    "{}: {}",
                    answer.status(),
                    answer.text().await.unwrap_or_default()
                ),
                Err(error) => error.to_string(),
            };
            Err(NotReady { process, last })
        },
    )
    .await;
    started.elapsed()
}

/// A client that sends each write with an Idempotency-Key, and again with the same key after a lost
/// connection, a 5xx or a 409 for a key in flight, until it gets a definite answer.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    api: String,
    retried: Arc<AtomicU64>,
}

impl Client {
    async fn write(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let key = Uuid::new_v4().to_string();
        let started = Instant::now();
        loop {
            let mut request = self
                .http
                .post(format!("{}{path}", self.api))
                .header("Idempotency-Key", &key)
                .timeout(Duration::from_secs(10))
                .json(body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Ok(answer) = request.send().await {
                let status = answer.status();
                let body: Value = answer.json().await.unwrap_or(Value::Null);
                let retry = status.is_server_error()
                    || (status == StatusCode::CONFLICT
                        && matches!(
                            body["type"].as_str(),
                            Some(
                                "/problems/idempotency_key_in_flight"
                                    | "/problems/idempotency_key_taken_over"
                            )
                        ));
                if !retry {
                    return (status, body);
                }
            }
            assert!(
                started.elapsed() < WRITE_PATIENCE,
                "POST {path} with key {key} never got a definite answer"
            );
            self.retried.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// An accepted checkout, as the client saw it.
struct Accepted {
    order_id: String,
    customer: String,
}

async fn customer(client: &Client, n: usize) -> (String, String) {
    let email = format!("chaos-{n}-{}@example.com", Uuid::now_v7().simple());
    let password = "correct horse battery";
    let (status, registered) = client
        .write(
            "/auth/register",
            None,
            &json!({"email": email, "password": password, "name": format!("Chaos {n}")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let (status, login) = client
        .write(
            "/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    (
        registered["id"].as_str().unwrap().to_owned(),
        login["access_token"].as_str().unwrap().to_owned(),
    )
}

/// One customer's loop: an item into the cart, then checkout, until told to stop.
async fn shop_until_stopped(
    client: Client,
    customer: String,
    token: String,
    products: Arc<Vec<String>>,
    stop: Arc<AtomicBool>,
) -> Vec<Accepted> {
    let mut accepted = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let (product, quantity, card) = {
            let mut rng = rand::rng();
            (
                products.choose(&mut rng).unwrap().clone(),
                rng.random_range(1..=2),
                *CARDS.choose(&mut rng).unwrap(),
            )
        };
        let (status, answer) = client
            .write(
                "/cart/items",
                Some(&token),
                &json!({"product_id": product, "quantity": quantity}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "adding to the cart: {answer}");
        let (status, answer) = client
            .write(
                "/cart/checkout",
                Some(&token),
                &json!({"shipping_address": {"name": "C", "line1": "1 Main St", "city": "Town",
                        "postal_code": "12345", "country": "DE"}, "payment_method": card}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "a checkout (retried or not) is accepted once, never answered otherwise: {answer}"
        );
        accepted.push(Accepted {
            order_id: answer["id"].as_str().unwrap().to_owned(),
            customer: customer.clone(),
        });
    }
    accepted
}

/// The time until the web process's reads have caught up with the feed's head as it is now.
async fn until_caught_up(shop: &Shop, pool: &PgPool, product: &str) -> Duration {
    let started = Instant::now();
    let head = Feed::new(pool.clone())
        .head()
        .await
        .unwrap()
        .expect("events");
    let client = reqwest::Client::new();
    eventually(
        "the read models catching up",
        Duration::from_secs(60),
        async || {
            let product = client
                .get(format!("{}/products/{product}", shop.api()))
                .header("X-Min-Position", head.to_string())
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            // The restarted process rebuilt its catalog index from the feed: the whole catalog is listed.
            let listing = client
                .get(format!("{}/products?limit=100", shop.api()))
                .header("X-Min-Position", head.to_string())
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let listed = match listing {
                Ok(answer) if answer.status() == StatusCode::OK => answer
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|l| l["total"].as_u64()),
                _ => None,
            };
            (product.is_ok_and(|a| a.status() == StatusCode::OK) && listed == Some(PRODUCTS as u64))
                .then_some(())
        },
    )
    .await;
    started.elapsed()
}

/// Every event of the store, as (type, id, event type, payload), in feed order.
async fn all_events(pool: &PgPool) -> Vec<(String, String, String, Value)> {
    sqlx::query(
        "SELECT aggregate_type, aggregate_id, event_type, payload FROM events \
         ORDER BY transaction_id, position",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.get("aggregate_type"),
            row.get("aggregate_id"),
            row.get("event_type"),
            row.get("payload"),
        )
    })
    .collect()
}

/// The events of one type: (aggregate id, the event's fields).
fn of<'e>(
    events: &'e [(String, String, String, Value)],
    aggregate: &'static str,
    event: &'static str,
) -> impl Iterator<Item = (&'e str, &'e Value)> + 'e {
    events
        .iter()
        .filter(move |e| e.0 == aggregate && e.2 == event)
        .map(move |e| (e.1.as_str(), &e.3[event]))
}

fn minor_units(money: &Value) -> i64 {
    money["amount"].as_i64().expect("an amount in minor units")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_processes_lose_no_cart_strand_no_key_and_leave_every_invariant_intact() {
    let (mut shop, pool) = Shop::start().await;
    let client = Client {
        http: reqwest::Client::new(),
        api: shop.api(),
        retried: Arc::new(AtomicU64::new(0)),
    };

    // An administrator and the catalog.
    let admin_email = format!("chaos-admin-{}@example.com", Uuid::now_v7().simple());
    let settings = platform::Settings::from_lookup(|name| {
        shop.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(name).ok())
    })
    .unwrap();
    shop::cli::create_user(
        &settings,
        &admin_email,
        "admin password 1".to_owned(),
        "Admin",
        true,
    )
    .await
    .unwrap();
    let (_, login) = client
        .write(
            "/auth/login",
            None,
            &json!({"email": admin_email, "password": "admin password 1"}),
        )
        .await;
    let admin = login["access_token"].as_str().unwrap().to_owned();
    let mut products = Vec::new();
    for n in 0..PRODUCTS {
        let (status, created) = client
            .write(
                "/products",
                Some(&admin),
                &json!({"sku": format!("CHAOS-{n}-{}", &Uuid::now_v7().simple().to_string()[20..]),
                        "name": format!("Chaos thing {n}"), "description": "Sturdy", "category": "Things",
                        "price": {"amount": 1000 + 250 * n as i64, "currency": "EUR"},
                        "stock": INITIAL_STOCK}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        products.push(created["id"].as_str().unwrap().to_owned());
    }
    let products = Arc::new(products);

    let mut customers = Vec::new();
    for n in 0..CUSTOMERS {
        customers.push(customer(&client, n).await);
    }

    // The load.
    let stop = Arc::new(AtomicBool::new(false));
    let shoppers: Vec<_> = customers
        .iter()
        .map(|(id, token)| {
            tokio::spawn(shop_until_stopped(
                client.clone(),
                id.clone(),
                token.clone(),
                products.clone(),
                stop.clone(),
            ))
        })
        .collect();

    // The kills, about every 12 s: the web process, the saga alone, the relay alone, then all three.
    let mut report = Vec::new();
    let pause = Duration::from_secs(12);
    tokio::time::sleep(pause).await;
    shop.web.kill();
    shop.web.start(&shop.env);
    let ready = until_ready(&shop.web).await;
    let caught_up = until_caught_up(&shop, &pool, &products[0]).await;
    report.push(format!(
        "web killed: ready after {ready:.2?}, reads caught up {caught_up:.2?} later"
    ));

    tokio::time::sleep(pause).await;
    shop.saga.kill();
    shop.saga.start(&shop.env);
    let ready = until_ready(&shop.saga).await;
    report.push(format!("saga killed: ready after {ready:.2?}"));

    tokio::time::sleep(pause).await;
    let head = Feed::new(pool.clone()).head().await.unwrap().unwrap();
    shop.relay.kill();
    shop.relay.start(&shop.env);
    let ready = until_ready(&shop.relay).await;
    let relayed = Instant::now();
    let checkpoints = eventstore::Checkpoints::new(pool.clone());
    eventually(
        "the relay catching up",
        Duration::from_secs(60),
        async || (checkpoints.load("relay").await.unwrap() >= head).then_some(()),
    )
    .await;
    report.push(format!(
        "relay killed: ready after {ready:.2?}, caught up {:.2?} later",
        relayed.elapsed()
    ));

    tokio::time::sleep(pause).await;
    for process in [&mut shop.web, &mut shop.saga, &mut shop.relay] {
        process.kill();
    }
    for process in [&mut shop.web, &mut shop.saga, &mut shop.relay] {
        process.start(&shop.env);
    }
    let ready = until_ready(&shop.web).await;
    let caught_up = until_caught_up(&shop, &pool, &products[0]).await;
    report.push(format!(
        "all killed: web ready after {ready:.2?}, reads caught up {caught_up:.2?} later"
    ));

    tokio::time::sleep(pause).await;
    stop.store(true, Ordering::Relaxed);
    let mut accepted = Vec::new();
    for shopper in shoppers {
        accepted.extend(shopper.await.expect("a customer's loop"));
    }
    let accepted_ids: HashSet<&str> = accepted.iter().map(|a| a.order_id.as_str()).collect();
    assert_eq!(
        accepted_ids.len(),
        accepted.len(),
        "every checkout got an order of its own"
    );

    // Every accepted order settles: confirmed or cancelled, and a confirmed one notified.
    let settled = Instant::now();
    eventually_explained(
        "every accepted order settling",
        Duration::from_secs(120),
        async || {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events p WHERE p.aggregate_type = 'order' AND p.event_type = 'OrderPlaced' \
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.aggregate_type = 'order' \
               AND e.aggregate_id = p.aggregate_id AND e.event_type IN ('OrderConfirmed', 'OrderCancelled'))",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let unnotified: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events c WHERE c.aggregate_type = 'order' AND c.event_type = 'OrderConfirmed' \
             AND NOT EXISTS (SELECT 1 FROM events n WHERE n.aggregate_type = 'notification' \
               AND n.aggregate_id = c.aggregate_id || ':order_confirmed')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if open == 0 && unnotified == 0 {
            return Ok(());
        }
        Err(format!(
            "{open} orders never ended confirmed or cancelled, {unnotified} confirmed ones were never notified"
        ))
        },
    )
    .await;
    let settle_time = settled.elapsed();

    let events = all_events(&pool).await;

    // One order per accepted checkout, and nothing else ordered.
    let placed: HashMap<&str, &Value> = of(&events, "order", "OrderPlaced").collect();
    assert_eq!(
        of(&events, "order", "OrderPlaced").count(),
        placed.len(),
        "no order is placed twice"
    );
    let placed_ids: HashSet<&str> = placed.keys().copied().collect();
    assert_eq!(
        placed_ids, accepted_ids,
        "exactly the accepted checkouts became orders"
    );
    for order in &accepted {
        assert_eq!(
            placed[order.order_id.as_str()]["user_id"].as_str(),
            Some(order.customer.as_str()),
            "the order is its customer's"
        );
    }
    let confirmed: HashSet<&str> = of(&events, "order", "OrderConfirmed")
        .map(|(id, _)| id)
        .collect();
    let cancelled: HashSet<&str> = of(&events, "order", "OrderCancelled")
        .map(|(id, _)| id)
        .collect();
    assert!(confirmed.is_disjoint(&cancelled), "an order ends one way");
    assert_eq!(confirmed.len() + cancelled.len(), placed.len());

    // No cart lost: checked-out carts and placed orders match one to one, and every cart ends empty.
    let checked_out: Vec<&str> = of(&events, "cart", "CartCheckedOut")
        .map(|(_, e)| e["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        checked_out.len(),
        placed.len(),
        "one checked-out cart per order"
    );
    assert_eq!(checked_out.into_iter().collect::<HashSet<_>>(), placed_ids);
    let bus = CommandBus::new(pool.clone()).with_cache_capacity(0);
    for (customer, _) in &customers {
        let (cart, _) = bus.load::<domain::cart::Cart>(customer).await.unwrap();
        assert!(
            cart.lines().is_empty(),
            "customer {customer}'s cart kept lines"
        );
    }

    // No key stuck: every key's record holds its response, or the answer committed with its events.
    let stuck: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM idempotency_keys WHERE status IS NULL AND committed IS NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stuck, 0, "keys left in flight");

    // Stock: available = on hand = initial − confirmed units.
    let mut confirmed_units: HashMap<&str, u64> = HashMap::new();
    for id in &confirmed {
        for line in placed[id]["lines"].as_array().unwrap() {
            *confirmed_units
                .entry(line["product_id"].as_str().unwrap())
                .or_default() += line["quantity"].as_u64().unwrap();
        }
    }
    for product in products.iter() {
        let (stock, _) = bus.load::<Product>(product).await.unwrap();
        let expected = INITIAL_STOCK - confirmed_units.get(product.as_str()).copied().unwrap_or(0);
        assert_eq!(
            u64::from(stock.available()),
            expected,
            "available of {product}"
        );
        assert_eq!(u64::from(stock.on_hand()), expected, "on hand of {product}");
    }

    // Money: captured = the confirmed totals; a cancelled order keeps nothing.
    let order_of_payment: HashMap<&str, &str> = of(&events, "payment", "PaymentStarted")
        .map(|(payment, e)| (payment, e["order_id"].as_str().unwrap()))
        .collect();
    let mut kept: HashMap<&str, i64> = HashMap::new();
    for (payment, e) in of(&events, "payment", "PaymentCaptured") {
        *kept.entry(order_of_payment[payment]).or_default() += minor_units(&e["amount"]);
    }
    for (payment, e) in of(&events, "payment", "PaymentRefunded") {
        *kept.entry(order_of_payment[payment]).or_default() -= minor_units(&e["amount"]);
    }
    for id in &placed_ids {
        let kept = kept.get(id).copied().unwrap_or(0);
        if confirmed.contains(id) {
            assert_eq!(
                kept,
                minor_units(&placed[id]["total"]),
                "order {id} paid its total"
            );
        } else {
            assert_eq!(
                kept, 0,
                "cancelled order {id} was refunded or never captured"
            );
        }
    }

    // One recorded confirmation per confirmed order, and its mail.
    let notified: Vec<&str> = of(&events, "notification", "NotificationSent")
        .map(|(id, _)| id)
        .filter(|id| id.ends_with(":order_confirmed"))
        .collect();
    assert_eq!(
        notified.len(),
        confirmed.len(),
        "one confirmation recorded each"
    );
    assert_eq!(
        notified
            .iter()
            .map(|id| id.trim_end_matches(":order_confirmed"))
            .collect::<HashSet<_>>(),
        confirmed
    );
    let mailbox = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.data/mail/new");
    let mut mailed: HashMap<String, usize> = HashMap::new();
    for entry in std::fs::read_dir(&mailbox).expect("the SMTP sink's mailbox") {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        let Some(id) = text.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_owned())
        }) else {
            continue;
        };
        *mailed.entry(id).or_default() += 1;
    }
    let mut resent = 0;
    for id in &confirmed {
        let message_id = format!("<order-{id}.order_confirmed@shop.invalid>");
        let copies = mailed.get(&message_id).copied().unwrap_or(0);
        assert!(copies >= 1, "no confirmation mail for order {id}");
        resent += copies - 1;
    }

    // The audit chain.
    let verify = Command::new(env!("CARGO_BIN_EXE_shop"))
        .args(["audit", "verify"])
        .envs(shop.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("shop audit verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    println!(
        "chaos: {} checkouts accepted: {} confirmed, {} cancelled; {} writes retried; {} confirmation mails \
         sent again; settled {:.2?} after the load stopped",
        accepted.len(),
        confirmed.len(),
        cancelled.len(),
        client.retried.load(Ordering::Relaxed),
        resent,
        settle_time,
    );
    for line in report {
        println!("chaos: {line}");
    }
}
