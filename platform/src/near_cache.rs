//! A near cache: Redis values kept in process memory, and kept current by the writers' announcements.
//!
//! The hot reads (a product, a cart, "is this token logged out?") would otherwise cost a Redis round trip
//! each. Keys belong to a [`Scope`]: a set of keys with one *stamp key* whose value (a checkpoint, a
//! counter) grows with every write to the scope. The protocol that keeps the cache exact:
//!
//! 1. A writer changes keys of a scope, moves its stamp and publishes an announcement (scope, new stamp,
//!    keys changed) **in one atomic step** (MULTI/EXEC or a script; see [`announce`]). Each scope has one
//!    writer at a time and its stamp only grows (a projector's checkpoint, a counter); a scope nobody reads
//!    yet (a generation a replay is building) may repeat a stamp.
//! 2. Every process subscribes to the announcements and drops the keys named; it remembers the newest stamp
//!    heard per scope.
//! 3. A miss reads the values *and* the scope's stamp in one MGET, so the value is known to be current as of
//!    that stamp. It is kept only if that stamp is at least the newest heard (or read): then every change
//!    after it is still to be announced and will drop it. Otherwise (an announcement, or a fresher read,
//!    overtook it) it is served once and not kept.
//! 4. While the subscription is down nothing is served from memory: losing it drops everything, and a value
//!    read before a resubscription is never kept (epochs).
//!
//! A read that must reflect a given write (`X-Min-Position`) uses memory only when the announcement of a
//! stamp at least that recent has been heard; it reads Redis otherwise. Scopes without cached values (the
//! MongoDB views) announce their checkpoints too, so that such a read stops waiting as soon as its write
//! is projected. Entries also expire after
//! [`MAX_AGE`], which bounds the damage of anything that writes around the protocol (a FLUSHDB by hand) or a
//! connection that dies without saying so. docs/adr/0010-near-cache.md explains why this is not the Redis
//! client's own client-side caching.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::watch;

/// The longest a value stays in memory, however quiet its scope.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// How often the subscription is pinged: a connection that stops answering is given up.
const PING_EVERY: Duration = Duration::from_secs(1);
const PING_TIMEOUT: Duration = Duration::from_secs(2);
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

/// A point in a scope's history: a checkpoint `"<a>.<b>"` or a counter `"<a>"`, ordered as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Stamp(u64, u64);

impl Stamp {
    pub const fn new(major: u64, minor: u64) -> Self {
        Self(major, minor)
    }
}

impl FromStr for Stamp {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (major, minor) = s.split_once('.').unwrap_or((s, "0"));
        Ok(Self(
            major.parse().map_err(|_| ())?,
            minor.parse().map_err(|_| ())?,
        ))
    }
}

/// Keys that change together, and the key whose value stamps each change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    name: String,
    stamp_key: String,
}

impl Scope {
    /// `name` must not contain a newline (it travels in the announcement's first line).
    pub fn new(name: impl Into<String>, stamp_key: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            stamp_key: stamp_key.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn stamp_key(&self) -> &str {
        &self.stamp_key
    }
}

/// The channel the announcements of every scope under `prefix` in Redis database `db` travel on. Pub/sub
/// ignores database numbers: without `db` in the name, two shops with one prefix in two databases of one
/// server would hear each other.
pub fn channel(prefix: &str, db: i64) -> String {
    format!("{prefix}near-cache:{db}")
}

/// The announcement of a change: the scope's name, the new stamp, then the keys changed, a line each.
pub fn announcement<'a>(
    scope: &Scope,
    stamp: &str,
    keys: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut message = format!("{}\n{stamp}", scope.name);
    for key in keys {
        message.push('\n');
        message.push_str(key);
    }
    message
}

/// Adds the announcement to `pipe`, which must be atomic (`pipe.atomic()`) and also write `keys` and set the
/// scope's stamp key to `stamp`: readers rely on all three happening at once.
pub fn announce<'a>(
    pipe: &mut redis::Pipeline,
    channel: &str,
    scope: &Scope,
    stamp: &str,
    keys: impl IntoIterator<Item = &'a str>,
) {
    pipe.publish(channel, announcement(scope, stamp, keys))
        .ignore();
}

/// A value as Redis had it, decoded (so that a hit costs no parsing): `None` for a key that does not
/// exist. [`NearCache::get`]'s caller knows the type it decoded to and downcasts.
pub type Value = Option<Arc<dyn Any + Send + Sync>>;

/// Turns a raw Redis value into what the cache keeps. A key must always be read with the same decoder.
pub type Decoder = fn(&str) -> Result<Arc<dyn Any + Send + Sync>, String>;

/// The [`Decoder`] of JSON documents of type `T`.
pub fn json<T: serde::de::DeserializeOwned + Send + Sync + 'static>(
    raw: &str,
) -> Result<Arc<dyn Any + Send + Sync>, String> {
    serde_json::from_str::<T>(raw)
        .map(|value| Arc::new(value) as Arc<dyn Any + Send + Sync>)
        .map_err(|e| e.to_string())
}

/// A value read by [`NearCache::get`], as the type its decoder made.
pub fn downcast<T: Send + Sync + 'static>(value: Value) -> Option<Arc<T>> {
    value.and_then(|value| value.downcast::<T>().ok())
}

#[derive(Debug, thiserror::Error)]
pub enum NearCacheError {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("the value of {key} cannot be decoded: {reason}")]
    Undecodable { key: String, reason: String },
}

/// The process's near cache. Cloning shares it.
#[derive(Clone)]
pub struct NearCache {
    inner: Arc<Inner>,
}

struct Inner {
    channel: String,
    /// Values by Redis key, with the epoch they were kept in (a value from another epoch is not served,
    /// whatever the cache's own clearing did). Written and invalidated only under `state`'s lock, so that
    /// the rule of step 3 and the announcements see one order.
    entries: moka::sync::Cache<String, (u64, Value)>,
    state: Mutex<State>,
    /// Wakes whoever waits for a stamp (`X-Min-Position`) at every announcement.
    announced: tokio::sync::Notify,
}

#[derive(Default)]
struct State {
    /// Whether the subscription is up: nothing is served from memory otherwise.
    live: bool,
    /// Moves whenever the subscription is won or lost; a read that began in another epoch is not kept.
    epoch: u64,
    /// The newest stamp announced per scope since the subscription began: every change up to it has
    /// dropped what it replaced.
    heard: HashMap<String, Stamp>,
    /// The newest stamp heard or read per scope: a value read at an older stamp is not kept, as it may be
    /// older than one already served (or than a change whose announcement is on its way).
    newest: HashMap<String, Stamp>,
}

impl fmt::Debug for NearCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NearCache")
            .field("channel", &self.inner.channel)
            .field("live", &self.is_live())
            .finish_non_exhaustive()
    }
}

/// One key to read, the scope it belongs to and how to decode its value.
#[derive(Clone, Copy)]
pub struct Lookup<'a> {
    pub scope: &'a Scope,
    pub key: &'a str,
    pub decode: Decoder,
}

impl NearCache {
    /// A cache of at most `capacity` values, for the scopes announced on `channel`. It serves nothing from
    /// memory until [`NearCache::run`] has subscribed.
    pub fn new(channel: String, capacity: u64) -> Self {
        Self::with_max_age(channel, capacity, MAX_AGE)
    }

    /// As [`NearCache::new`], keeping values at most `max_age` instead of [`MAX_AGE`].
    pub fn with_max_age(channel: String, capacity: u64, max_age: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                channel,
                entries: moka::sync::Cache::builder()
                    .max_capacity(capacity)
                    .time_to_live(max_age)
                    .build(),
                state: Mutex::default(),
                announced: tokio::sync::Notify::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The channel it listens on.
    pub fn channel(&self) -> &str {
        &self.inner.channel
    }

    pub fn is_live(&self) -> bool {
        self.state().live
    }

    /// Resolves at the next announcement heard (or learnt). Create it before checking [`NearCache::heard`]
    /// and `enable` it, so that an announcement in between is not missed.
    pub fn announced(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.announced.notified()
    }

    /// The newest stamp announced for `scope` while subscribed, if any.
    pub fn heard(&self, scope: &Scope) -> Option<Stamp> {
        let state = self.state();
        if !state.live {
            return None;
        }
        state.heard.get(&scope.name).copied()
    }

    /// The values of `lookups`, in order, each decoded by its decoder: from memory where allowed, the rest
    /// in one MGET. With `at_least`, memory is used only if every scope involved has been heard at that
    /// stamp or later.
    pub async fn get(
        &self,
        redis: &mut ConnectionManager,
        lookups: &[Lookup<'_>],
        at_least: Option<Stamp>,
    ) -> Result<Vec<Value>, NearCacheError> {
        let (usable, epoch) = {
            let state = self.state();
            let usable = state.live
                && at_least.is_none_or(|wanted| {
                    lookups.iter().all(|lookup| {
                        state
                            .heard
                            .get(&lookup.scope.name)
                            .is_some_and(|heard| *heard >= wanted)
                    })
                });
            (usable, state.epoch)
        };
        let mut values: Vec<Option<Value>> = lookups
            .iter()
            .map(|lookup| {
                let (kept_in, value) = usable
                    .then(|| self.inner.entries.get(lookup.key))
                    .flatten()?;
                (kept_in == epoch).then_some(value)
            })
            .collect();
        let missing: Vec<usize> = (0..lookups.len())
            .filter(|&i| values[i].is_none())
            .collect();
        metrics::counter!("shop_near_cache_reads_total", "outcome" => "hit")
            .increment((lookups.len() - missing.len()) as u64);
        if missing.is_empty() {
            return Ok(values.into_iter().flatten().collect());
        }
        metrics::counter!("shop_near_cache_reads_total", "outcome" => "miss")
            .increment(missing.len() as u64);

        // The missing values and the stamp of each scope they belong to, in one atomic read.
        let mut scopes: Vec<&Scope> = Vec::new();
        for &i in &missing {
            if !scopes.contains(&lookups[i].scope) {
                scopes.push(lookups[i].scope);
            }
        }
        let mut command = redis::cmd("MGET");
        for &i in &missing {
            command.arg(lookups[i].key);
        }
        for scope in &scopes {
            command.arg(&scope.stamp_key);
        }
        let mut read: Vec<Option<String>> = command.query_async(redis).await?;
        let stamps: Vec<Stamp> = read
            .split_off(missing.len())
            .into_iter()
            .map(|raw| raw.and_then(|s| s.parse().ok()).unwrap_or_default())
            .collect();
        let mut decoded = Vec::with_capacity(missing.len());
        for (&i, raw) in missing.iter().zip(read) {
            let value = raw
                .map(|raw| (lookups[i].decode)(&raw))
                .transpose()
                .map_err(|reason| NearCacheError::Undecodable {
                    key: lookups[i].key.to_owned(),
                    reason,
                })?;
            decoded.push(value);
        }

        let mut state = self.state();
        let keep = state.live && state.epoch == epoch;
        for (scope, stamp) in scopes.iter().zip(&stamps) {
            let newest = state.newest.entry(scope.name.clone()).or_default();
            *newest = (*newest).max(*stamp);
        }
        for (&i, value) in missing.iter().zip(decoded) {
            let Lookup { scope, key, .. } = lookups[i];
            let stamp = scopes
                .iter()
                .position(|s| *s == scope)
                .map(|at| stamps[at])
                .unwrap_or_default();
            if keep
                && state
                    .newest
                    .get(&scope.name)
                    .is_none_or(|newest| stamp >= *newest)
            {
                self.inner
                    .entries
                    .insert(key.to_owned(), (epoch, value.clone()));
            }
            values[i] = Some(value);
        }
        drop(state);
        Ok(values.into_iter().flatten().collect())
    }

    /// Applies one announcement: drops the keys it names, remembers its stamp. One it cannot read may
    /// have named keys this cache holds: that is an error, and the caller starts over.
    fn hear(&self, message: &str) -> Result<(), String> {
        let mut lines = message.split('\n');
        let (Some(scope), Some(stamp)) = (lines.next(), lines.next()) else {
            return Err(format!(
                "an announcement without scope and stamp: {message:?}"
            ));
        };
        let stamp = stamp
            .parse::<Stamp>()
            .map_err(|()| format!("an announcement with a bad stamp: {stamp:?}"))?;
        self.learn(scope, stamp, lines);
        Ok(())
    }

    /// What a writer in this process does right after its write: applies the announcement it made before
    /// the subscription delivers it, so that its own next read cannot meet the value it replaced. Hearing
    /// it again later changes nothing.
    pub fn learn<'a>(&self, scope: &str, stamp: Stamp, keys: impl IntoIterator<Item = &'a str>) {
        let mut state = self.state();
        for key in keys {
            self.inner.entries.invalidate(key);
        }
        if state.live {
            let heard = state.heard.entry(scope.to_owned()).or_default();
            *heard = (*heard).max(stamp);
            let newest = state.newest.entry(scope.to_owned()).or_default();
            *newest = (*newest).max(stamp);
        }
        drop(state);
        self.inner.announced.notify_waiters();
    }

    /// Starts serving from memory: called once the subscription is confirmed.
    fn go_live(&self) {
        let mut state = self.state();
        self.inner.entries.invalidate_all();
        state.heard.clear();
        state.newest.clear();
        state.epoch += 1;
        state.live = true;
        metrics::gauge!("shop_near_cache_live").set(1.0);
    }

    /// Stops serving from memory: announcements may be missed from now on.
    fn go_dark(&self) {
        let mut state = self.state();
        state.live = false;
        state.epoch += 1;
        self.inner.entries.invalidate_all();
        metrics::gauge!("shop_near_cache_live").set(0.0);
    }

    /// Listens to the announcements until `stop` turns true, resubscribing after any loss. Serves from
    /// memory only while subscribed.
    pub async fn run(self, client: redis::Client, mut stop: watch::Receiver<bool>) {
        metrics::gauge!("shop_near_cache_live").set(0.0);
        loop {
            match self.listen(&client, &mut stop).await {
                Ok(()) => {
                    self.go_dark();
                    return;
                }
                Err(error) => {
                    if self.is_live() {
                        tracing::warn!(%error, "near cache: subscription lost; reading Redis until it is back");
                    } else {
                        tracing::debug!(%error, "near cache: cannot subscribe yet");
                    }
                    self.go_dark();
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(RECONNECT_AFTER) => {}
                () = stopped(&mut stop) => return,
            }
        }
    }

    /// One subscription: `Ok` when told to stop, `Err` when the connection failed.
    async fn listen(
        &self,
        client: &redis::Client,
        stop: &mut watch::Receiver<bool>,
    ) -> redis::RedisResult<()> {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&self.inner.channel).await?;
        let (mut sink, mut messages) = pubsub.split();
        self.go_live();
        let mut ping = tokio::time::interval(PING_EVERY);
        loop {
            tokio::select! {
                message = messages.next() => {
                    let Some(message) = message else {
                        return Err(connection_closed());
                    };
                    let text = message.get_payload::<String>()?;
                    // An announcement we cannot read may have named keys we hold: start again.
                    self.hear(&text).map_err(|reason| {
                        redis::RedisError::from((redis::ErrorKind::Parse, "near cache", reason))
                    })?;
                }
                _ = ping.tick() => {
                    match tokio::time::timeout(PING_TIMEOUT, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => return Err(error),
                        Err(_) => return Err(connection_closed()),
                    }
                }
                () = stopped(stop) => return Ok(()),
            }
        }
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

fn connection_closed() -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Io,
        "the subscription's connection closed or stopped answering",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_order_stamps_as_checkpoints_and_counters() {
        let parse = |s: &str| s.parse::<Stamp>().unwrap();
        assert!(parse("5.900") < parse("6.10"));
        assert!(parse("6.10") < parse("6.11"));
        assert_eq!(parse("17"), Stamp::new(17, 0));
        assert!(parse("17") < parse("18"));
        assert!("a.b".parse::<Stamp>().is_err());
        assert!("".parse::<Stamp>().is_err());
    }

    #[test]
    fn it_should_write_the_scope_the_stamp_and_each_key_on_a_line() {
        let scope = Scope::new("p:rm:stock:g0", "p:rm:stock:g0:_checkpoint");
        assert_eq!(
            announcement(&scope, "12.40", ["p:rm:stock:g0:a", "p:rm:stock:g0:b"]),
            "p:rm:stock:g0\n12.40\np:rm:stock:g0:a\np:rm:stock:g0:b"
        );
    }

    #[test]
    fn it_should_remember_the_newest_stamp_heard_and_serve_nothing_while_dark() {
        let cache = NearCache::new("c".into(), 100);
        let scope = Scope::new("s", "s:_stamp");
        cache.go_live();
        cache.hear("s\n3.4\ns:a").unwrap();
        cache.hear("s\n2.9\ns:b").unwrap();
        assert!(cache.hear("s\nnot a stamp\ns:c").is_err());
        assert!(cache.hear("no stamp").is_err());
        assert_eq!(cache.heard(&scope), Some(Stamp::new(3, 4)));
        cache.go_dark();
        assert_eq!(cache.heard(&scope), None);
    }
}
