//! The projector runner: one feed subscriber per view, with its checkpoint kept beside its documents.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use eventstore::db::PgPool;
use eventstore::wake::Wakeups;
use eventstore::{Feed, Position, StoredEvent};
use tokio::sync::watch;

use crate::store::{ReadStores, StoreError};
use crate::view::{StoreKind, Versioned, View};

/// Events read and applied per batch.
pub const BATCH: i64 = 500;
/// Under load, the least time between two batches of one runner: each batch costs a MongoDB view a read
/// and a write whatever its size, so a longer gather means fewer writes per order and a later read model
/// (docs/adr/0016).
const GATHER: Duration = Duration::from_millis(50);
/// How often a MongoDB view writes its checkpoint while events keep coming (its documents are written with
/// every batch): a checkpoint write is a MongoDB round trip of its own.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// How long a runner keeps using the active generation it read before asking its store again: as long as
/// readers cache it, and well within the time a replay gives the old generation before dropping it.
const GENERATION_KEPT: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("reading the feed failed: {0}")]
    Feed(#[from] eventstore::db::DbError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one step did, so that tests and replay can drain a projector without sleeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Processed { events: usize, last: Position },
    CaughtUp,
}

/// How far behind the feed's head a projector is.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lag {
    pub events: i64,
    pub seconds: f64,
}

/// Every projector's lag, shared with `/health/ready`.
pub type LagBoard = Arc<Mutex<BTreeMap<&'static str, Lag>>>;

pub struct Runner<V: View> {
    feed: Feed,
    pool: PgPool,
    stores: ReadStores,
    batch: i64,
    lag: LagBoard,
    /// The generation and checkpoint of the last step, so most steps skip reading them again.
    position: Option<(u64, Position)>,
    /// The live generation whose indexes this runner has made sure of.
    indexed: Option<u64>,
    /// The active generation as last read from the store, and when.
    active: Option<(u64, Instant)>,
    /// When this runner last wrote its checkpoint.
    saved: Option<Instant>,
    /// How often a MongoDB view writes its checkpoint while events keep coming.
    checkpoint_every: Duration,
    /// A checkpoint applied but only announced, not written yet: written when the runner is caught up.
    unsaved: Option<(u64, Position)>,
    _view: PhantomData<V>,
}

impl<V: View> Runner<V> {
    pub fn new(pool: PgPool, stores: ReadStores, lag: LagBoard) -> Self {
        Self {
            feed: Feed::new(pool.clone()),
            pool,
            stores,
            batch: BATCH,
            lag,
            position: None,
            indexed: None,
            active: None,
            saved: None,
            checkpoint_every: CHECKPOINT_EVERY,
            unsaved: None,
            _view: PhantomData,
        }
    }

    pub fn stores(&self) -> &ReadStores {
        &self.stores
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Reads `feed` (the process's shared tail of it, say) instead of the database directly.
    pub fn with_feed(mut self, feed: Feed) -> Self {
        self.feed = feed;
        self
    }

    pub fn with_batch(mut self, batch: i64) -> Self {
        self.batch = batch;
        self
    }

    /// Writes a MongoDB view's checkpoint at most this often while events keep coming (tests).
    pub fn with_checkpoint_every(mut self, every: Duration) -> Self {
        self.checkpoint_every = every;
        self
    }

    /// Applies the next batch to the active generation. When the feed holds nothing new since the last step,
    /// no store is asked: a replay's switch to a new generation is noticed with the next event at most
    /// [`GENERATION_KEPT`] after it (until then the runner goes on writing the old one, which the replay
    /// keeps for longer; the new one resumes from its own checkpoint).
    pub async fn step(&mut self) -> Result<Step, RunnerError> {
        let read = match self.position {
            Some((_, from)) => {
                let events = self.feed.read_after(from, self.batch).await?;
                if events.is_empty() {
                    return self.caught_up(from).await;
                }
                Some((from, events))
            }
            None => None,
        };
        let generation = match self.active {
            Some((generation, read)) if read.elapsed() < GENERATION_KEPT => generation,
            _ => {
                let generation = self.stores.active_generation::<V>().await?;
                self.active = Some((generation, Instant::now()));
                generation
            }
        };
        if self.indexed != Some(generation) {
            self.stores.create_indexes::<V>(generation).await?;
            self.indexed = Some(generation);
        }
        self.step_reading(generation, read).await
    }

    /// Applies the next batch to `generation` (the live one, or one a replay is building).
    pub async fn step_generation(&mut self, generation: u64) -> Result<Step, RunnerError> {
        self.step_reading(generation, None).await
    }

    /// Like [`Runner::step_generation`], with `read`: the events just read after a position, used when
    /// that position is still `generation`'s.
    async fn step_reading(
        &mut self,
        generation: u64,
        read: Option<(Position, Vec<StoredEvent>)>,
    ) -> Result<Step, RunnerError> {
        let from = match self.position {
            Some((g, position)) if g == generation => position,
            _ => self
                .stores
                .checkpoint::<V>(generation)
                .await?
                .unwrap_or(Position::START),
        };
        let events = match read {
            Some((after, events)) if after == from => events,
            _ => self.feed.read_after(from, self.batch).await?,
        };
        let Some(last) = events.last() else {
            self.position = Some((generation, from));
            return self.caught_up(from).await;
        };
        let last = last.position;
        let due = self
            .saved
            .is_none_or(|saved| saved.elapsed() >= self.checkpoint_every);
        if apply_batch_when::<V>(&self.stores, generation, &events, due).await? {
            self.saved = Some(Instant::now());
            self.unsaved = None;
        } else {
            self.unsaved = Some((generation, last));
        }
        self.position = Some((generation, last));
        metrics::counter!("shop_subscriber_events_total", "subscriber" => V::NAME)
            .increment(events.len() as u64);
        let lag = if events.len() as i64 == self.batch {
            self.measure_lag(&events).await
        } else {
            Lag::default()
        };
        self.report(lag, last);
        Ok(Step::Processed {
            events: events.len(),
            last,
        })
    }

    /// Nothing new after `at`: the checkpoint only announced so far is written now.
    async fn caught_up(&mut self, at: Position) -> Result<Step, RunnerError> {
        if let Some((generation, checkpoint)) = self.unsaved {
            self.stores.save::<V>(generation, &[], checkpoint).await?;
            self.saved = Some(Instant::now());
            self.unsaved = None;
        }
        self.report(Lag::default(), at);
        Ok(Step::CaughtUp)
    }

    async fn measure_lag(&self, events: &[StoredEvent]) -> Lag {
        let (Some(last), Ok(Some(head))) = (events.last(), self.feed.head().await) else {
            return Lag::default();
        };
        Lag {
            // Positions are dense enough to count by: the difference is the events still to apply.
            events: (head.position - last.position.position).max(0),
            seconds: (Utc::now() - last.recorded_at).num_milliseconds().max(0) as f64 / 1000.0,
        }
    }

    fn report(&self, lag: Lag, checkpoint: Position) {
        metrics::gauge!("shop_subscriber_lag_events", "subscriber" => V::NAME)
            .set(lag.events as f64);
        metrics::gauge!("shop_subscriber_lag_seconds", "subscriber" => V::NAME).set(lag.seconds);
        metrics::gauge!("shop_subscriber_checkpoint_position", "subscriber" => V::NAME)
            .set(checkpoint.position as f64);
        if let Ok(mut board) = self.lag.lock() {
            board.insert(V::NAME, lag);
        }
    }

    /// Runs until `shutdown` turns true, woken by `wakeups` (the shared tail's, [`Runner::with_feed`]).
    /// Only one process runs a given projector at a time (a PostgreSQL advisory lock); another waits as a
    /// stand-by. Failures of a store are logged and retried with back-off.
    pub async fn run(mut self, mut wakeups: Wakeups, mut shutdown: watch::Receiver<bool>) {
        let name = format!("projector:{}", V::NAME);
        let Some(_lock) =
            eventstore::db::advisory_lock_or_stand_by(&self.pool, &name, &mut shutdown).await
        else {
            return;
        };
        tracing::info!(projector = V::NAME, "projector running");
        let mut backoff = Duration::from_millis(100);
        while !*shutdown.borrow() {
            match self.step().await {
                Ok(Step::Processed { events, .. }) => {
                    backoff = Duration::from_millis(100);
                    // A batch costs the store a round trip and a checkpoint write whatever its size. The
                    // shared tail hands over every few events, so a runner under load would write for each;
                    // it lets the next ones gather a moment instead (the first event after a quiet spell is
                    // applied at once).
                    if (events as i64) < self.batch {
                        tokio::select! {
                            () = tokio::time::sleep(GATHER) => {},
                            _ = shutdown.changed() => {},
                        }
                    }
                }
                // The feed's shared tail looks again shortly after a commit that an older transaction still
                // holds back, and wakes its subscribers when it has read something (eventstore::tail).
                Ok(Step::CaughtUp) => {
                    tokio::select! {
                        () = wakeups.wait() => {},
                        _ = shutdown.changed() => {},
                    }
                }
                Err(error) => {
                    tracing::error!(projector = V::NAME, %error, retry_in = ?backoff, "projector step failed");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {},
                        _ = shutdown.changed() => {},
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    self.position = None;
                    self.active = None;
                }
            }
        }
        tracing::info!(projector = V::NAME, "projector stopped");
    }
}

/// Loads the documents a batch touches, applies every event in memory, and writes each changed document
/// once, then the checkpoint.
pub async fn apply_batch<V: View>(
    stores: &ReadStores,
    generation: u64,
    events: &[StoredEvent],
) -> Result<(), RunnerError> {
    apply_batch_when::<V>(stores, generation, events, true)
        .await
        .map(|_| ())
}

/// Like [`apply_batch`]; but a batch of a MongoDB view writes its checkpoint only when `due`, and otherwise
/// writes its documents and only announces the checkpoint, so that waiting reads go on at once; the runner
/// writes it when due or when it is next caught up. A checkpoint not written costs a restart re-reading those
/// events, which change nothing again (each document knows what it applied). Returns whether the checkpoint
/// was written.
async fn apply_batch_when<V: View>(
    stores: &ReadStores,
    generation: u64,
    events: &[StoredEvent],
    due: bool,
) -> Result<bool, RunnerError> {
    let keys: BTreeSet<String> = events.iter().filter_map(V::key).collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let mut docs: HashMap<String, Versioned<V>> = stores.load::<V>(generation, &keys).await?;
    let changed = apply_events(&mut docs, events);
    let to_save: Vec<(String, Versioned<V>)> = changed
        .into_iter()
        .filter_map(|key| docs.remove(&key).map(|doc| (key, doc)))
        .collect();
    let Some(last) = events.last() else {
        return Ok(false);
    };
    if !due && V::STORE == StoreKind::Mongo {
        stores
            .save_documents::<V>(generation, &to_save, last.position)
            .await?;
        return Ok(false);
    }
    stores
        .save::<V>(generation, &to_save, last.position)
        .await?;
    Ok(true)
}

/// Applies `events` to the documents they concern (created when absent); returns the keys that changed.
pub fn apply_events<V: View>(
    docs: &mut HashMap<String, Versioned<V>>,
    events: &[StoredEvent],
) -> BTreeSet<String> {
    let mut changed = BTreeSet::new();
    for event in events {
        let Some(key) = V::key(event) else { continue };
        let doc = docs.entry(key.clone()).or_default();
        match doc.apply(event) {
            Ok(true) => {
                changed.insert(key);
            }
            Ok(false) => {}
            Err(error) => {
                tracing::error!(projector = V::NAME, %error, "skipping an event that cannot be projected");
                changed.insert(key);
            }
        }
    }
    changed
}

/// Starts a runner for every view, reading `feed` (the process's shared tail of it) and woken by its `wakeups`;
/// each stops when `shutdown` turns true.
pub fn spawn_all(
    pool: &PgPool,
    feed: &Feed,
    stores: &ReadStores,
    wakeups: &Wakeups,
    lag: &LagBoard,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    use crate::views::{carts::CartView, orders::OrderView};
    use crate::views::{
        notifications::NotificationView, product_cache::ProductDetails, promotions::PromotionView,
        stock::Stock, users::UserProfile,
    };

    fn runner<V: View>(
        pool: &PgPool,
        feed: &Feed,
        stores: &ReadStores,
        wakeups: &Wakeups,
        lag: &LagBoard,
        shutdown: &watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        metrics::counter!("shop_subscriber_events_total", "subscriber" => V::NAME).increment(0);
        let runner =
            Runner::<V>::new(pool.clone(), stores.clone(), lag.clone()).with_feed(feed.clone());
        tokio::spawn(runner.run(wakeups.clone(), shutdown.clone()))
    }

    vec![
        runner::<UserProfile>(pool, feed, stores, wakeups, lag, &shutdown),
        runner::<OrderView>(pool, feed, stores, wakeups, lag, &shutdown),
        runner::<ProductDetails>(pool, feed, stores, wakeups, lag, &shutdown),
        runner::<Stock>(pool, feed, stores, wakeups, lag, &shutdown),
        runner::<CartView>(pool, feed, stores, wakeups, lag, &shutdown),
        runner::<NotificationView>(pool, feed, stores, wakeups, lag, &shutdown),
        runner::<PromotionView>(pool, feed, stores, wakeups, lag, &shutdown),
    ]
}
