//! The `CommandBus`: runs a command against one aggregate and appends what it decided.
//!
//! It does what `CqrsFramework::execute_with_metadata` does (load, handle, commit) but keeps what that hides:
//! the loaded version, for `If-Match`, and the appended events' position, for the position token; and it
//! loads and appends in one round trip each (docs/adr/0004). An aggregate that a command in this process
//! has just appended to is kept in memory and the next command starts from it; the append's optimistic
//! lock proves it current, and whatever it cannot prove is decided again from the store (docs/adr/0009).
//!
//! A [`Unit`] runs commands on several aggregates that commit together or not at all (checkout: the cart
//! checked out and the order placed), with the unique values they claim (docs/adr/0012). A command carrying
//! an `Idempotency-Key` lease commits the request's answer in the same transaction as its events.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use domain::cart::Cart;
use domain::checkout::Checkout;
use domain::notification::Notification;
use domain::order::Order;
use domain::payment::Payment;
use domain::product::Product;
use domain::promotion::Promotion;
use domain::user::User;
use rand::Rng;
use sqlx::PgPool;
use uuid::Uuid;

use crate::claims::{ClaimError, ClaimKind, claim_with};
use crate::idempotency::{CommittedAnswer, Lease, Recorded, record_committed};
use crate::position::Position;
use crate::repository::{Appended, Loaded, PreparedAppend, Repository, RepositoryError, write};
use crate::wake::CommitSignal;

/// Aggregates that grow with use are loaded from a snapshot taken every this many events.
const SNAPSHOT_EVERY: u64 = 20;
/// Aggregates kept in memory by default (`CommandBus::with_cache_capacity`).
const CACHE_CAPACITY: u64 = 10_000;

/// Who and what caused a command. Written into every event's metadata.
#[derive(Debug, Clone, Default)]
pub struct CommandMetadata {
    /// The authenticated user, if any.
    pub user_id: Option<String>,
    /// The request (or message) that started the whole chain of commands.
    pub correlation_id: String,
    /// The request or event that caused this command.
    pub causation_id: Option<String>,
    /// The HTTP request id, when the command came over HTTP.
    pub request_id: Option<String>,
    /// The client's `Idempotency-Key`, when it sent one.
    pub idempotency_key: Option<String>,
    /// The request's hold on that key: the events commit only while it is still this request's, together
    /// with the answer the request gives.
    pub lease: Option<Lease>,
}

impl CommandMetadata {
    /// Metadata for a command that starts its own chain (the CLI, a test, a timer).
    pub fn new_chain() -> Self {
        Self {
            correlation_id: Uuid::now_v7().to_string(),
            ..Self::default()
        }
    }

    /// Says what the request answers once its command commits: `status` (201 or 202) and the `id` of what
    /// it wrote. Recorded with the events when the request holds an `Idempotency-Key`, so that a retry after
    /// a crash gets the same answer.
    pub fn answering(mut self, status: u16, id: impl ToString) -> Self {
        if let Some(lease) = &mut self.lease {
            lease.status = status;
            lease.answer_id = Some(id.to_string());
        }
        self
    }

    fn to_map(&self, command: &str, command_id: Uuid) -> HashMap<String, String> {
        let mut map = HashMap::from([
            ("command".to_owned(), command.to_owned()),
            ("command_id".to_owned(), command_id.to_string()),
            ("correlation_id".to_owned(), self.correlation_id.clone()),
        ]);
        let optional = [
            ("user_id", &self.user_id),
            ("causation_id", &self.causation_id),
            ("request_id", &self.request_id),
            ("idempotency_key", &self.idempotency_key),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                map.insert(key.to_owned(), value.clone());
            }
        }
        map
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    /// The aggregate's version (its last sequence) after the command; 0 if it still has no events.
    pub version: u64,
    /// How many events the command appended (0 when it changed nothing).
    pub appended: usize,
    /// The position of the aggregate's last event, so a client can wait for read models to reach it.
    pub position: Option<Position>,
}

/// Why a command did not run.
#[derive(Debug, thiserror::Error)]
pub enum BusError<E: std::error::Error> {
    /// The aggregate refused the command: a business rule (422), or a missing aggregate (404).
    #[error(transparent)]
    Rejected(E),
    /// `If-Match` named a version that is not the current one (412).
    #[error("expected version {expected}, found {actual}")]
    VersionMismatch { expected: u64, actual: u64 },
    /// Concurrent writers kept winning after every retry (409).
    #[error("the aggregate was changed concurrently; try again")]
    Conflict,
    /// The request's `Idempotency-Key` lease lapsed and a retry of the request took the key over; this
    /// command was not committed (409).
    #[error("a retry of this request took its Idempotency-Key over")]
    LeaseLost,
    /// The event store could not be reached (503).
    #[error("the event store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a corrupt store (500).
    #[error("unexpected event store error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn from_repository<E: std::error::Error>(error: RepositoryError) -> BusError<E> {
    match error {
        RepositoryError::Conflict => BusError::Conflict,
        RepositoryError::Corrupt(e) => BusError::Internal(Box::new(e)),
        RepositoryError::Database(e) => classify_store_error(Box::new(e)),
    }
}

/// Why a commit wrote nothing.
enum CommitError {
    Repository(RepositoryError),
    /// A unique value the unit claims belongs to another owner.
    Taken(ClaimKind),
    LeaseLost,
    /// The request already committed under its Idempotency-Key: a handler that commits twice is a bug.
    AlreadyCommitted,
}

impl From<RepositoryError> for CommitError {
    fn from(error: RepositoryError) -> Self {
        Self::Repository(error)
    }
}

impl From<sqlx::Error> for CommitError {
    fn from(error: sqlx::Error) -> Self {
        Self::Repository(RepositoryError::Database(error))
    }
}

impl<E: std::error::Error> From<CommitError> for BusError<E> {
    fn from(error: CommitError) -> Self {
        match error {
            CommitError::Repository(e) => from_repository(e),
            // Only a unit claims values, and it reports `Taken` itself before converting.
            CommitError::Taken(kind) => {
                BusError::Internal(format!("unexpected claim of {kind:?}").into())
            }
            CommitError::LeaseLost => BusError::LeaseLost,
            CommitError::AlreadyCommitted => BusError::Internal(
                "a request committed twice under one Idempotency-Key; only its first commit stands"
                    .into(),
            ),
        }
    }
}

/// A unique value a unit's commit claims, e.g. the email of the user it registers.
struct Claim {
    kind: ClaimKind,
    value: String,
    owner_id: String,
}

/// postgres-es reports pool timeouts and refused connections as "unknown"; they are outages, not bugs.
fn classify_store_error<E: std::error::Error>(
    error: Box<dyn std::error::Error + Send + Sync>,
) -> BusError<E> {
    match error.downcast_ref::<sqlx::Error>() {
        Some(
            sqlx::Error::PoolTimedOut
            | sqlx::Error::Io(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed,
        ) => BusError::Unavailable(error),
        Some(sqlx::Error::Database(refused)) if server_went_away(refused.code().as_deref()) => {
            BusError::Unavailable(error)
        }
        _ => BusError::Internal(error),
    }
}

/// Whether a SQLSTATE says the server or the connection went away rather than refused the statement: class
/// 08 (connection exception) and 57P (the session was ended: terminated, shut down, or starting up).
fn server_went_away(sqlstate: Option<&str>) -> bool {
    sqlstate.is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
}

/// How often and how patiently a command is retried when a concurrent writer appended first.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            base_delay: Duration::from_millis(5),
        }
    }
}

/// Aggregates as they stood after this process's last successful command on each: state, version and the
/// audit hash of the last event. Values are `Loaded<A>` behind `Any`, keyed by aggregate type and id.
type AggregateCache = moka::sync::Cache<(&'static str, String), Arc<dyn Any + Send + Sync>>;

/// One event store per aggregate type, over one pool.
pub struct CommandBus {
    pool: PgPool,
    repository: Repository,
    cache: Option<AggregateCache>,
    /// Bumped after every append, to wake this process's subscribers at once.
    commits: CommitSignal,
    retry: RetryPolicy,
}

/// An aggregate the bus can run commands against.
pub trait Stored:
    Aggregate<Services = (), Command: Clone + std::fmt::Debug> + Clone + 'static
{
    /// Aggregates that grow with use are loaded from a snapshot taken every this many events.
    const SNAPSHOT_EVERY: Option<u64> = None;
}

impl Stored for User {}
impl Stored for Checkout {}
impl Stored for Notification {}
impl Stored for Order {}
impl Stored for Payment {}
impl Stored for Product {
    const SNAPSHOT_EVERY: Option<u64> = Some(SNAPSHOT_EVERY);
}
impl Stored for Promotion {
    const SNAPSHOT_EVERY: Option<u64> = Some(SNAPSHOT_EVERY);
}
impl Stored for Cart {
    const SNAPSHOT_EVERY: Option<u64> = Some(SNAPSHOT_EVERY);
}

impl CommandBus {
    pub fn new(pool: PgPool) -> Self {
        Self {
            repository: Repository::new(pool.clone()),
            cache: Some(new_cache(CACHE_CAPACITY)),
            retry: RetryPolicy::default(),
            commits: CommitSignal::default(),
            pool,
        }
    }

    /// Keeps up to `capacity` aggregates in memory between commands; 0 loads every aggregate from the store.
    pub fn with_cache_capacity(mut self, capacity: u64) -> Self {
        self.cache = (capacity > 0).then(|| new_cache(capacity));
        self
    }

    fn cached<A: Stored>(&self, id: &str) -> Option<Loaded<A>> {
        let entry = self.cache.as_ref()?.get(&(A::TYPE, id.to_owned()))?;
        entry.downcast_ref::<Loaded<A>>().cloned()
    }

    fn remember<A: Stored>(&self, id: &str, loaded: Loaded<A>) {
        if let Some(cache) = &self.cache {
            cache.insert((A::TYPE, id.to_owned()), Arc::new(loaded));
        }
    }

    /// Drops what this process keeps of aggregate `id` (loaded, appended or presumed): the next
    /// [`CommandBus::load_own`] or [`Unit::decide_own`] on it reads the store.
    pub fn forget<A: Stored>(&self, id: &str) {
        self.forget_key(A::TYPE, id);
    }

    fn forget_key(&self, aggregate_type: &'static str, id: &str) {
        if let Some(cache) = &self.cache {
            cache.invalidate(&(aggregate_type, id.to_owned()));
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn commits(&self) -> &CommitSignal {
        &self.commits
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The aggregate as stored, with its version and audit hash.
    async fn read<A: Stored>(&self, id: &str) -> Result<Loaded<A>, BusError<A::Error>> {
        self.repository.load::<A>(id).await.map_err(from_repository)
    }

    /// Loads an aggregate's current state and version (0 when it has no events), and keeps it: the next
    /// command on it, or [`CommandBus::load_own`], starts from the freshest state this process has seen.
    pub async fn load<A: Stored>(&self, id: &str) -> Result<(A, u64), BusError<A::Error>> {
        let loaded = self.read::<A>(id).await?;
        let answer = (loaded.aggregate.clone(), loaded.version);
        self.remember(id, loaded);
        Ok(answer)
    }

    /// The aggregate as this process's last append to it left it, while that is cached; else from the store.
    /// Only for a caller that is, for the moment, the aggregate's only writer (the checkout saga between
    /// the steps of one message, under the order's lock): a cached state misses what other processes
    /// appended since, so a decision taken on it must be safe to take again on the store's. Or for a fact
    /// that never changes once written (an order's owner): any state that holds it holds it right.
    pub async fn load_own<A: Stored>(&self, id: &str) -> Result<(A, u64), BusError<A::Error>> {
        match self.cached::<A>(id) {
            Some(cached) => Ok((cached.aggregate, cached.version)),
            None => self.load::<A>(id).await,
        }
    }

    /// Presumes that aggregate `id` has no events yet, without reading the store, unless this process keeps
    /// some state of it: the next [`CommandBus::load_own`] answers the aggregate with no events, and a
    /// [`Unit::decide_own`] decides on it. For a caller with good reason to believe the aggregate new, and
    /// that tells no one outside the store before its first append commits: only a decision that appends is
    /// kept from what was presumed, and its commit proves it (an append at sequence 1 to a stream that has
    /// events fails with [`BusError::Conflict`], and the bus then forgets the presumption).
    pub fn presume_new<A: Stored>(&self, id: &str) {
        if let Some(cache) = &self.cache {
            cache.entry((A::TYPE, id.to_owned())).or_insert_with(|| {
                let none: Arc<dyn Any + Send + Sync> = Arc::new(Loaded {
                    aggregate: A::default(),
                    version: 0,
                    head_hash: Vec::new(),
                });
                none
            });
        }
    }

    /// The aggregate as this process's last load of it or append to it left it, if it still has it; never
    /// reads the store. Only for a question whose answer a later event cannot undo (a checkout no longer
    /// waiting for its payment never waits again).
    pub fn seen<A: Stored>(&self, id: &str) -> Option<A> {
        self.cached::<A>(id).map(|cached| cached.aggregate)
    }

    /// Runs `command` against aggregate `id`. With `expected_version`, refuses to run unless the aggregate is
    /// at that version. A concurrent append is retried with jittered back-off, then reported as a conflict.
    pub async fn execute<A: Stored>(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        expected_version: Option<u64>,
    ) -> Result<Executed, BusError<A::Error>> {
        let name = command_name(&command);
        let command_id = Uuid::now_v7();
        let started = Instant::now();
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            let result = self
                .try_execute::<A>(
                    id,
                    command.clone(),
                    metadata.to_map(&name, command_id),
                    expected_version,
                    metadata.lease.as_ref(),
                )
                .await;
            match result {
                Err(BusError::Conflict) if attempt < self.retry.attempts => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                other => break other,
            }
        };
        record_metrics(A::TYPE, &name, &outcome, started);
        outcome
    }

    /// One attempt. From the cached aggregate first: an append from it succeeds only if no other writer
    /// appended since (the optimistic lock), which proves it was current. A refusal, a no-op or a version
    /// mismatch decided on it proves nothing, so those, and a conflict, are decided again from the store.
    async fn try_execute<A: Stored>(
        &self,
        id: &str,
        command: A::Command,
        metadata: HashMap<String, String>,
        expected_version: Option<u64>,
        lease: Option<&Lease>,
    ) -> Result<Executed, BusError<A::Error>> {
        if let Some(cached) = self.cached::<A>(id) {
            let outcome = self
                .decide_and_append(
                    id,
                    cached,
                    command.clone(),
                    &metadata,
                    expected_version,
                    lease,
                )
                .await;
            match outcome {
                Ok(executed) if executed.appended > 0 => {
                    metrics::counter!("shop_aggregate_cache_total", "outcome" => "hit")
                        .increment(1);
                    return Ok(executed);
                }
                Err(
                    error
                    @ (BusError::Unavailable(_) | BusError::Internal(_) | BusError::LeaseLost),
                ) => {
                    return Err(error);
                }
                _ => {
                    metrics::counter!("shop_aggregate_cache_total", "outcome" => "stale")
                        .increment(1);
                    self.forget::<A>(id);
                }
            }
        } else if self.cache.is_some() {
            metrics::counter!("shop_aggregate_cache_total", "outcome" => "miss").increment(1);
        }
        let loaded = self.read::<A>(id).await?;
        self.decide_and_append(id, loaded, command, &metadata, expected_version, lease)
            .await
    }

    async fn decide_and_append<A: Stored>(
        &self,
        id: &str,
        loaded: Loaded<A>,
        command: A::Command,
        metadata: &HashMap<String, String>,
        expected_version: Option<u64>,
        lease: Option<&Lease>,
    ) -> Result<Executed, BusError<A::Error>> {
        let Decided {
            aggregate,
            version,
            head_hash,
            events,
        } = decide(loaded, command, expected_version).await?;
        if events.is_empty() {
            // Nothing changed (an idempotent repeat): answer with where the aggregate already is.
            let position = self
                .repository
                .position_of(A::TYPE, id, version)
                .await
                .map_err(|e| classify_store_error(Box::new(e)))?;
            return Ok(Executed {
                version,
                appended: 0,
                position,
            });
        }
        let prepared = Repository::prepare(
            id,
            version,
            &head_hash,
            &events,
            metadata,
            &aggregate,
            A::SNAPSHOT_EVERY,
        )
        .map_err(from_repository)?;
        let appended = self
            .commit(std::slice::from_ref(&prepared), &[], lease)
            .await?;
        let new_version = version + events.len() as u64;
        self.after_append(
            id,
            Loaded {
                aggregate,
                version: new_version,
                head_hash: prepared.last_hash(),
            },
            &events,
        );
        Ok(Executed {
            version: new_version,
            appended: events.len(),
            position: appended.last().map(|a| a.position),
        })
    }

    /// Writes the appends, and the claims, in one transaction; with a lease, also the request's answer,
    /// and only while the lease is still the request's. Appends without either need no transaction of
    /// their own: they are one statement, which is atomic.
    async fn commit(
        &self,
        appends: &[PreparedAppend],
        claims: &[Claim],
        lease: Option<&Lease>,
    ) -> Result<Vec<Appended>, CommitError> {
        let appended = if let ([], None) = (claims, lease) {
            write(self.repository.pool(), appends).await?
        } else {
            let mut transaction = self.pool.begin().await?;
            for claim in claims {
                match claim_with(&mut *transaction, claim.kind, &claim.value, &claim.owner_id).await
                {
                    Ok(()) => {}
                    Err(ClaimError::Taken) => return Err(CommitError::Taken(claim.kind)),
                    Err(ClaimError::Database(e)) => return Err(e.into()),
                }
            }
            let appended = write(&mut *transaction, appends).await?;
            if let (Some(lease), Some((last, written))) =
                (lease, appends.last().zip(appended.last()))
            {
                let answer = CommittedAnswer {
                    status: lease.status,
                    id: lease
                        .answer_id
                        .clone()
                        .unwrap_or_else(|| last.id().to_owned()),
                    version: last.last_sequence(),
                    position: Some(written.position.to_string()),
                };
                match record_committed(&mut transaction, lease, &answer).await? {
                    Recorded::Yes => {}
                    Recorded::LeaseLost => return Err(CommitError::LeaseLost),
                    Recorded::AlreadyCommitted => return Err(CommitError::AlreadyCommitted),
                }
            }
            transaction.commit().await?;
            appended
        };
        if !appended.is_empty() {
            self.commits.committed();
        }
        Ok(appended)
    }

    /// What every successful append does after its commit: count its events and keep the aggregate.
    fn after_append<A: Stored>(&self, id: &str, loaded: Loaded<A>, events: &[A::Event]) {
        metrics::counter!("shop_events_appended_total", "aggregate_type" => A::TYPE)
            .increment(events.len() as u64);
        for event in events {
            crate::business::record(A::TYPE, &event.event_type(), || {
                serde_json::to_value(event).ok()
            });
        }
        self.remember(id, loaded);
    }

    /// Starts a unit: commands on several aggregates that commit together or not at all.
    pub fn unit(&self, metadata: &CommandMetadata) -> Unit<'_> {
        Unit {
            bus: self,
            metadata: metadata.clone(),
            loaded: HashMap::new(),
            claims: Vec::new(),
            staged: Vec::new(),
            started: Instant::now(),
        }
    }

    /// How many times a command is tried when concurrent appends conflict with it.
    pub fn attempts(&self) -> u32 {
        self.retry.attempts
    }

    /// The wait before try `attempt + 1` after a conflict. Full jitter: a random wait up to an exponentially
    /// growing cap, so that colliding writers spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let cap = self.retry.base_delay * 2u32.saturating_pow(attempt.min(10));
        let micros = rand::rng().random_range(0..=cap.as_micros().max(1) as u64);
        Duration::from_micros(micros)
    }
}

/// What a command decided on an aggregate: the aggregate with the events applied, the version and audit hash
/// it was loaded at, and the events.
struct Decided<A: Aggregate> {
    aggregate: A,
    version: u64,
    head_hash: Vec<u8>,
    events: Vec<A::Event>,
}

/// Runs `command` against `loaded` (at `expected_version`, if given). Shared by single commands and units.
async fn decide<A: Stored>(
    loaded: Loaded<A>,
    command: A::Command,
    expected_version: Option<u64>,
) -> Result<Decided<A>, BusError<A::Error>> {
    let Loaded {
        mut aggregate,
        version,
        head_hash,
    } = loaded;
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(BusError::VersionMismatch {
            expected,
            actual: version,
        });
    }
    let sink = EventSink::default();
    aggregate
        .handle(command, &(), &sink)
        .await
        .map_err(BusError::Rejected)?;
    Ok(Decided {
        aggregate,
        version,
        head_hash,
        events: sink.collect().await,
    })
}

/// Commands on several aggregates, and the unique values they claim, committed in one transaction: after a
/// crash either all of it is in the store or none of it is. Each command is decided on its aggregate as
/// stored ([`Unit::decide`]) or as this process last wrote it ([`Unit::decide_own`]), or where an earlier
/// command of the unit left it. A unit cannot retry on its own: a concurrent append to one of its aggregates
/// fails the whole commit with [`BusError::Conflict`] (and the bus forgets what it kept of them), and the
/// caller decides again or reports it.
pub struct Unit<'b> {
    bus: &'b CommandBus,
    metadata: CommandMetadata,
    /// Aggregates loaded through [`Unit::load`], so that deciding on them needs no second read.
    loaded: HashMap<(&'static str, String), Box<dyn Any + Send + Sync>>,
    claims: Vec<Claim>,
    staged: Vec<Staged>,
    /// When the unit began: its commands' durations count from here.
    started: Instant,
}

/// A decided command, waiting for the unit's commit.
struct Staged {
    aggregate_type: &'static str,
    aggregate_id: String,
    command: String,
    executed: Executed,
    prepared: Option<PreparedAppend>,
    /// Counts the events and keeps the aggregate in the bus's cache, once committed.
    after_commit: Box<dyn FnOnce(&CommandBus) + Send>,
}

/// A value the unit claims belongs to another owner (409).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub struct Taken(pub ClaimKind);

impl std::fmt::Display for Taken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            ClaimKind::Email => "An account with this email already exists.",
            ClaimKind::Sku => "A product with this SKU already exists.",
            ClaimKind::DiscountCode => "A promotion with this code already exists.",
        })
    }
}

impl domain::RuleViolation for Taken {
    fn code(&self) -> domain::ProblemCode {
        match self.0 {
            ClaimKind::Email => domain::ProblemCode::EmailTaken,
            ClaimKind::Sku => domain::ProblemCode::SkuTaken,
            ClaimKind::DiscountCode => domain::ProblemCode::DiscountCodeTaken,
        }
    }

    fn refusal(&self) -> domain::Refusal {
        domain::Refusal::Conflict
    }
}

impl Unit<'_> {
    /// Loads an aggregate for the unit; a later [`Unit::decide`] on it starts from this state and version.
    pub async fn load<A: Stored>(&mut self, id: &str) -> Result<(A, u64), BusError<A::Error>> {
        let loaded = self.bus.read::<A>(id).await?;
        let answer = (loaded.aggregate.clone(), loaded.version);
        self.loaded
            .insert((A::TYPE, id.to_owned()), Box::new(loaded));
        Ok(answer)
    }

    /// Decides `command` on aggregate `id` (at `expected_version`, if given) and stages its events.
    /// Returns the version the aggregate will have once the unit commits. A later command of the unit on the
    /// same aggregate starts where this one leaves it.
    pub async fn decide<A: Stored>(
        &mut self,
        id: &str,
        command: A::Command,
        expected_version: Option<u64>,
    ) -> Result<u64, BusError<A::Error>> {
        let loaded = match self.take_loaded::<A>(id)? {
            Some(loaded) => loaded,
            None => self.bus.read::<A>(id).await?,
        };
        self.decide_on(id, loaded, command, expected_version).await
    }

    /// Like [`Unit::decide`], but from the aggregate as this process's last write left it (the bus's cache),
    /// for a caller that is its only writer for the moment (see [`CommandBus::load_own`]). Only a decision
    /// that appends is kept from the cache: the commit proves the state was current, or fails with
    /// [`BusError::Conflict`]. A refusal or a no-op decided on it proves nothing, so those are decided again
    /// on the aggregate as stored.
    pub async fn decide_own<A: Stored>(
        &mut self,
        id: &str,
        command: A::Command,
    ) -> Result<u64, BusError<A::Error>> {
        // What the unit holds of the aggregate goes first: no copy from the cache for it.
        let held = self.loaded.contains_key(&(A::TYPE, id.to_owned()));
        let cached = if held { None } else { self.bus.cached::<A>(id) };
        self.decide_presumed(id, cached, command).await
    }

    /// Like [`Unit::decide`], for an aggregate whose id the caller has just made up (a new UUIDv7, say):
    /// decided on the aggregate with no events, without reading the store. The commit proves it new, as an
    /// append at sequence 1 to a stream that has events fails with [`BusError::Conflict`]; a refusal or a
    /// no-op decided on no events proves nothing, so those are decided again on the aggregate as stored.
    pub async fn decide_new<A: Stored>(
        &mut self,
        id: &str,
        command: A::Command,
    ) -> Result<u64, BusError<A::Error>> {
        let empty = Loaded {
            aggregate: A::default(),
            version: 0,
            head_hash: Vec::new(),
        };
        self.decide_presumed(id, Some(empty), command).await
    }

    /// Decides on what the unit loaded or left of `id`, else on `presumed` if the decision appends (the
    /// commit proves it), else on the aggregate as stored.
    async fn decide_presumed<A: Stored>(
        &mut self,
        id: &str,
        presumed: Option<Loaded<A>>,
        command: A::Command,
    ) -> Result<u64, BusError<A::Error>> {
        if let Some(loaded) = self.take_loaded::<A>(id)? {
            return self.decide_on(id, loaded, command, None).await;
        }
        if let Some(presumed) = presumed
            && let Ok(decided) = decide(presumed, command.clone(), None).await
            && !decided.events.is_empty()
        {
            return self.stage(id, command_name(&command), decided);
        }
        let loaded = self.bus.read::<A>(id).await?;
        self.decide_on(id, loaded, command, None).await
    }

    /// The state of `id` this unit loaded or left, if any.
    fn take_loaded<A: Stored>(
        &mut self,
        id: &str,
    ) -> Result<Option<Loaded<A>>, BusError<A::Error>> {
        match self.loaded.remove(&(A::TYPE, id.to_owned())) {
            Some(loaded) => loaded
                .downcast::<Loaded<A>>()
                .map(|loaded| Some(*loaded))
                .map_err(|_| BusError::Internal("a unit loaded another type".into())),
            None => Ok(None),
        }
    }

    async fn decide_on<A: Stored>(
        &mut self,
        id: &str,
        loaded: Loaded<A>,
        command: A::Command,
        expected_version: Option<u64>,
    ) -> Result<u64, BusError<A::Error>> {
        let name = command_name(&command);
        // A refused command leaves the aggregate as it was, for the unit's next command on it.
        let kept = loaded.clone();
        match decide(loaded, command, expected_version).await {
            Ok(decided) => self.stage(id, name, decided),
            Err(error) => {
                record_outcome(A::TYPE, &name, error_label(&error), self.started);
                self.loaded.insert((A::TYPE, id.to_owned()), Box::new(kept));
                Err(error)
            }
        }
    }

    /// Stages what a command decided, for the commit.
    fn stage<A: Stored>(
        &mut self,
        id: &str,
        name: String,
        decided: Decided<A>,
    ) -> Result<u64, BusError<A::Error>> {
        let Decided {
            aggregate,
            version,
            head_hash,
            events,
        } = decided;
        let new_version = version + events.len() as u64;
        let prepared = if events.is_empty() {
            None
        } else {
            let metadata = self.metadata.to_map(&name, Uuid::now_v7());
            Some(
                Repository::prepare(
                    id,
                    version,
                    &head_hash,
                    &events,
                    &metadata,
                    &aggregate,
                    A::SNAPSHOT_EVERY,
                )
                .map_err(from_repository)?,
            )
        };
        let last_hash = prepared
            .as_ref()
            .map_or(head_hash, PreparedAppend::last_hash);
        let left = Loaded {
            aggregate,
            version: new_version,
            head_hash: last_hash,
        };
        self.loaded
            .insert((A::TYPE, id.to_owned()), Box::new(left.clone()));
        let id_owned = id.to_owned();
        self.staged.push(Staged {
            aggregate_type: A::TYPE,
            aggregate_id: id.to_owned(),
            command: name,
            executed: Executed {
                version: new_version,
                appended: events.len(),
                position: None,
            },
            prepared,
            after_commit: Box::new(move |bus: &CommandBus| {
                bus.after_append(&id_owned, left, &events);
            }),
        });
        Ok(new_version)
    }

    /// Claims a unique value for `owner_id` in the unit's transaction, e.g. the email of a user it registers.
    pub fn claim(&mut self, kind: ClaimKind, value: &str, owner_id: &str) {
        self.claims.push(Claim {
            kind,
            value: value.to_owned(),
            owner_id: owner_id.to_owned(),
        });
    }

    /// Writes everything the unit decided in one transaction. Returns what each command did, in the order
    /// they were decided; [`BusError::Rejected`] with [`Taken`] when a claimed value is another's.
    pub async fn commit(mut self) -> Result<Vec<Executed>, BusError<Taken>> {
        let started = self.started;
        let appends: Vec<PreparedAppend> = self
            .staged
            .iter_mut()
            .filter_map(|staged| staged.prepared.take())
            .collect();
        let outcome = if appends.is_empty() && self.claims.is_empty() {
            Ok(Vec::new())
        } else {
            self.bus
                .commit(&appends, &self.claims, self.metadata.lease.as_ref())
                .await
        };
        let mut appended = match outcome {
            Ok(appended) => appended.into_iter(),
            Err(error) => {
                let error: BusError<Taken> = match error {
                    CommitError::Taken(kind) => BusError::Rejected(Taken(kind)),
                    other => other.into(),
                };
                for staged in &self.staged {
                    // What the cache holds of them may be stale now (or the commit's fate unknown).
                    self.bus
                        .forget_key(staged.aggregate_type, &staged.aggregate_id);
                    record_outcome(
                        staged.aggregate_type,
                        &staged.command,
                        error_label(&error),
                        started,
                    );
                }
                return Err(error);
            }
        };
        let mut executed = Vec::with_capacity(self.staged.len());
        for mut staged in self.staged {
            if staged.executed.appended > 0 {
                staged.executed.position = appended.next().map(|a| a.position);
                (staged.after_commit)(self.bus);
            }
            record_metrics(
                staged.aggregate_type,
                &staged.command,
                &Ok::<_, BusError<Taken>>(staged.executed.clone()),
                started,
            );
            executed.push(staged.executed);
        }
        Ok(executed)
    }
}

fn new_cache(capacity: u64) -> AggregateCache {
    moka::sync::Cache::builder()
        .max_capacity(capacity)
        // An aggregate no command touched for a while is cheaper to reload than to keep.
        .time_to_idle(Duration::from_secs(600))
        .build()
}

/// The command's variant name (`AddItem`), so that no aggregate has to list its own command names. Derived
/// `Debug` writes the variant name first; the writer below stops the formatting right after it, so the rest
/// of the command (its fields) is never formatted.
fn command_name<C: std::fmt::Debug>(command: &C) -> String {
    struct VariantName(String);
    impl std::fmt::Write for VariantName {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            for c in text.chars() {
                if !(c.is_alphanumeric() || c == '_') {
                    return Err(std::fmt::Error);
                }
                self.0.push(c);
            }
            Ok(())
        }
    }
    let mut name = VariantName(String::new());
    // The early stop is reported as an error; the name is what was written until then.
    let _ = std::fmt::write(&mut name, format_args!("{command:?}"));
    if name.0.is_empty() {
        "Unknown".to_owned()
    } else {
        name.0
    }
}

fn record_metrics<E: std::error::Error>(
    aggregate_type: &'static str,
    command: &str,
    outcome: &Result<Executed, BusError<E>>,
    started: Instant,
) {
    let label = match outcome {
        Ok(_) => "ok",
        Err(error) => error_label(error),
    };
    record_outcome(aggregate_type, command, label, started);
}

/// The `outcome` label of a command that failed.
fn error_label<E: std::error::Error>(error: &BusError<E>) -> &'static str {
    match error {
        BusError::Rejected(_) => "rejected",
        BusError::VersionMismatch { .. } => "version_mismatch",
        BusError::Conflict => "conflict",
        BusError::LeaseLost => "lease_lost",
        BusError::Unavailable(_) => "unavailable",
        BusError::Internal(_) => "error",
    }
}

fn record_outcome(
    aggregate_type: &'static str,
    command: &str,
    label: &'static str,
    started: Instant,
) {
    metrics::counter!("shop_commands_total", "aggregate_type" => aggregate_type,
        "command" => command.to_owned(), "outcome" => label)
    .increment(1);
    metrics::histogram!("shop_command_duration_seconds", "aggregate_type" => aggregate_type)
        .record(started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    enum Sample {
        AddItem { quantity: u32 },
        Clear,
        Tuple(u32),
    }

    #[test]
    fn it_should_name_a_command_by_its_variant() {
        assert_eq!(command_name(&Sample::AddItem { quantity: 2 }), "AddItem");
        assert_eq!(command_name(&Sample::Clear), "Clear");
        assert_eq!(command_name(&Sample::Tuple(7)), "Tuple");
    }

    #[test]
    fn a_session_ended_or_a_lost_connection_is_the_server_going_away_and_a_refusal_is_not() {
        for gone in ["57P01", "57P02", "57P03", "08006", "08003"] {
            assert!(server_went_away(Some(gone)), "{gone}");
        }
        for refused in ["23505", "40001", "57014", "42P01"] {
            assert!(!server_went_away(Some(refused)), "{refused}");
        }
        assert!(!server_went_away(None));
    }
}
