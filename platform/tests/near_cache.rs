//! The near cache against real Redis servers: the machine's own (each test under its own prefix) and, for
//! losing the subscription, a `redis-server` the test starts and kills itself.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use eventstore::testing::{eventually, eventually_explained};
use platform::near_cache::{self, Lookup, NearCache, Scope, Stamp};
use platform::tokens::{DenyList, TokenService};
use redis::aio::ConnectionManager;
use tokio::sync::watch;
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(10);

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A scope of its own on the machine's Redis, and its channel.
struct Namespace {
    prefix: String,
    scope: Scope,
    channel: String,
}

fn namespace() -> Namespace {
    let prefix = format!("test:{}:", Uuid::now_v7().simple());
    Namespace {
        scope: Scope::new(format!("{prefix}docs"), format!("{prefix}docs:_stamp")),
        channel: near_cache::channel(&prefix, 0),
        prefix,
    }
}

impl Namespace {
    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.scope.name())
    }
}

async fn connect(url: &str) -> ConnectionManager {
    ConnectionManager::new(redis::Client::open(url).unwrap())
        .await
        .unwrap()
}

/// A cache subscribed on `url`, and the sender that stops it. Its values never expire during a test, so
/// that only an announcement can replace them.
async fn subscribed(url: &str, channel: &str) -> (NearCache, watch::Sender<bool>) {
    let cache = NearCache::with_max_age(channel.to_owned(), 1_000, Duration::from_secs(600));
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(
        cache
            .clone()
            .run(redis::Client::open(url).unwrap(), stopping),
    );
    until(|| cache.is_live(), "the cache subscribes").await;
    (cache, stop)
}

async fn until(mut condition: impl FnMut() -> bool, what: &str) {
    eventually(what, DEADLINE, async || condition().then_some(())).await;
}

/// A cache subscribed to its own namespace on `url`, with a connection for the test's own writes.
struct Fixture {
    ns: Namespace,
    redis: ConnectionManager,
    cache: NearCache,
    _stop: watch::Sender<bool>,
}

async fn fixture() -> Fixture {
    fixture_on(&redis_url()).await
}

async fn fixture_on(url: &str) -> Fixture {
    let ns = namespace();
    let (cache, stop) = subscribed(url, &ns.channel).await;
    Fixture {
        redis: connect(url).await,
        cache,
        ns,
        _stop: stop,
    }
}

impl Fixture {
    /// A write that keeps to the protocol: value, stamp and announcement in one transaction.
    async fn write(&mut self, key: &str, value: &str, stamp: &str) {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set(key, json(value))
            .ignore()
            .set(self.ns.scope.stamp_key(), stamp)
            .ignore();
        near_cache::announce(&mut pipe, &self.ns.channel, &self.ns.scope, stamp, [key]);
        pipe.query_async::<()>(&mut self.redis).await.unwrap();
    }

    /// A write behind the cache's back: what it reads afterwards shows whether it read Redis or memory.
    async fn write_unannounced(&mut self, key: &str, value: &str) {
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .query_async::<()>(&mut self.redis)
            .await
            .unwrap();
    }

    async fn read(&mut self, key: &str) -> Option<String> {
        self.read_at_least(key, None).await
    }

    async fn read_at_least(&mut self, key: &str, at_least: Option<Stamp>) -> Option<String> {
        let lookup = Lookup {
            scope: &self.ns.scope,
            key,
            decode: near_cache::json::<String>,
        };
        let value = self
            .cache
            .get(&mut self.redis, &[lookup], at_least)
            .await
            .unwrap()
            .pop()
            .unwrap();
        near_cache::downcast::<String>(value).map(|s| s.as_ref().clone())
    }

    /// Reads until `expected` comes back: the announcement must drop the value held.
    async fn until_read(&mut self, key: &str, expected: &str) {
        eventually(&format!("reading {expected:?}"), DEADLINE, async || {
            (self.read(key).await.as_deref() == Some(expected)).then_some(())
        })
        .await;
    }

    async fn until_heard(&self, stamp: Stamp) {
        until(
            || self.cache.heard(&self.ns.scope) == Some(stamp),
            "the stamp is heard",
        )
        .await;
    }
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[tokio::test]
async fn it_should_serve_from_memory_until_a_write_announces_a_change() {
    let mut f = fixture().await;
    let key = f.ns.key("a");
    f.write(&key, "one", "1.1").await;
    // Heard first: an announcement arriving after the first read would drop what it kept.
    f.until_heard(Stamp::new(1, 1)).await;
    assert_eq!(f.read(&key).await.as_deref(), Some("one"));
    f.write_unannounced(&key, &json("behind its back")).await;
    assert_eq!(
        f.read(&key).await.as_deref(),
        Some("one"),
        "the second read is served from memory"
    );

    f.write(&key, "two", "1.2").await;
    f.until_read(&key, "two").await;
    assert_eq!(f.cache.heard(&f.ns.scope), Some(Stamp::new(1, 2)));
}

#[tokio::test]
async fn it_should_keep_a_missing_key_as_missing_until_it_is_written() {
    let mut f = fixture().await;
    let key = f.ns.key("absent");
    assert_eq!(f.read(&key).await, None);
    f.write_unannounced(&key, &json("sneaked in")).await;
    assert_eq!(f.read(&key).await, None);

    f.write(&key, "written", "3.1").await;
    f.until_read(&key, "written").await;
}

#[tokio::test]
async fn it_should_not_keep_a_value_read_at_a_stamp_older_than_one_heard() {
    let mut f = fixture().await;
    let key = f.ns.key("raced");
    f.write(&key, "new", "5.0").await;
    f.until_heard(Stamp::new(5, 0)).await;

    // As if the read had happened before the write that the cache already heard about.
    let stamp_key = f.ns.scope.stamp_key().to_owned();
    f.write_unannounced(&stamp_key, "4.0").await;
    f.write_unannounced(&key, &json("old")).await;
    assert_eq!(f.read(&key).await.as_deref(), Some("old"));
    f.write_unannounced(&key, &json("read again")).await;
    assert_eq!(
        f.read(&key).await.as_deref(),
        Some("read again"),
        "a value older than the newest announcement must not be kept"
    );
}

#[tokio::test]
async fn it_should_read_redis_when_asked_for_a_stamp_not_yet_heard() {
    let mut f = fixture().await;
    let key = f.ns.key("fresh");
    f.write(&key, "v1", "7.1").await;
    f.until_heard(Stamp::new(7, 1)).await;
    assert_eq!(f.read(&key).await.as_deref(), Some("v1"));

    f.write_unannounced(&key, &json("v2")).await;
    assert_eq!(
        f.read_at_least(&key, Some(Stamp::new(7, 1)))
            .await
            .as_deref(),
        Some("v1"),
        "stamp 7.1 was heard: memory may answer"
    );
    assert_eq!(
        f.read_at_least(&key, Some(Stamp::new(7, 2)))
            .await
            .as_deref(),
        Some("v2"),
        "stamp 7.2 was not heard: Redis must answer"
    );
}

#[tokio::test]
async fn it_should_read_redis_every_time_while_not_subscribed() {
    let mut f = fixture().await;
    // A second cache on the same namespace that never subscribes.
    f.cache = NearCache::new(f.ns.channel.clone(), 1_000);
    let key = f.ns.key("unsubscribed");
    f.write(&key, "one", "1.0").await;
    assert_eq!(f.read(&key).await.as_deref(), Some("one"));
    f.write_unannounced(&key, &json("two")).await;
    assert_eq!(f.read(&key).await.as_deref(), Some("two"));
}

/// A `redis-server` of the test's own, on a free port, that it can kill and start again.
struct OwnRedis {
    port: u16,
    child: Child,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is on the PATH (scripts/services.sh)");
        Self { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn answering(&self) {
        eventually("redis-server answering", DEADLINE, async || {
            let client = redis::Client::open(self.url()).ok()?;
            let mut connection = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .ok()
                .map(drop)
        })
        .await;
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn it_should_drop_everything_it_holds_when_the_subscription_is_lost() {
    let server = OwnRedis::start(free_port());
    server.answering().await;
    let mut f = fixture_on(&server.url()).await;
    let key = f.ns.key("a");
    f.write(&key, "kept", "1.0").await;
    f.until_heard(Stamp::new(1, 0)).await;
    assert_eq!(f.read(&key).await.as_deref(), Some("kept"));
    f.write_unannounced(&key, &json("behind its back")).await;
    assert_eq!(
        f.read(&key).await.as_deref(),
        Some("kept"),
        "held in memory before the loss"
    );

    let port = server.port;
    drop(server);
    until(
        || !f.cache.is_live(),
        "the cache notices the lost subscription",
    )
    .await;
    let server = OwnRedis::start(port);
    server.answering().await;
    until(|| f.cache.is_live(), "the cache subscribes again").await;

    // The new server is empty: a value from before the loss must not be served.
    let lookup = Lookup {
        scope: &f.ns.scope,
        key: &key,
        decode: near_cache::json::<String>,
    };
    // The connection manager reconnects on its own; its first commands may still fail.
    let value = eventually_explained("Redis answering again", DEADLINE, async || {
        f.cache
            .get(&mut f.redis, &[lookup], None)
            .await
            .map(|mut values| values.pop().unwrap())
    })
    .await;
    assert!(value.is_none(), "a value held before the loss was served");
}

#[tokio::test]
async fn it_should_refuse_a_logged_out_token_on_every_instance() {
    let ns = namespace();
    let tokens = TokenService::new(
        b"test-secret-test-secret-test-secret!",
        Duration::from_secs(60),
    );
    let (_token, claims) = tokens.issue("u1", "customer", Utc::now()).unwrap();
    let (cache_a, _stop_a) = subscribed(&redis_url(), &ns.channel).await;
    let (cache_b, _stop_b) = subscribed(&redis_url(), &ns.channel).await;
    let instance_a = DenyList::new(connect(&redis_url()).await, cache_a, &ns.prefix);
    let instance_b = Arc::new(DenyList::new(
        connect(&redis_url()).await,
        cache_b,
        &ns.prefix,
    ));
    // Both have answered "not denied" and hold that answer.
    assert!(!instance_a.is_denied(&claims.jti).await.unwrap());
    assert!(!instance_b.is_denied(&claims.jti).await.unwrap());
    assert!(!instance_b.is_denied(&claims.jti).await.unwrap());

    instance_a.deny(&claims, Utc::now()).await.unwrap();
    assert!(
        instance_a.is_denied(&claims.jti).await.unwrap(),
        "the instance that logged the token out refuses it at once"
    );
    eventually(
        "the other instance refusing the token",
        DEADLINE,
        async || {
            instance_b
                .is_denied(&claims.jti)
                .await
                .unwrap()
                .then_some(())
        },
    )
    .await;
}
