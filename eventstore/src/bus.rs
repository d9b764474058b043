//! The `CommandBus`: runs a command against one aggregate and appends what it decided.
//!
//! It does what `CqrsFramework::execute_with_metadata` does (load, handle, commit) but keeps what that hides:
//! the loaded version, for `If-Match`, and the committed sequence, for the position token (docs/adr/0004).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, EventStore};
use domain::cart::Cart;
use domain::order::Order;
use domain::payment::Payment;
use domain::product::Product;
use domain::user::User;
use postgres_es::PostgresEventRepository;
use rand::Rng;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::position::Position;
use crate::wake::CommitSignal;

type Store<A> = PersistedEventStore<PostgresEventRepository, A>;

/// Aggregates that grow with use are loaded from a snapshot taken every this many events.
const SNAPSHOT_EVERY: usize = 20;

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
}

impl CommandMetadata {
    /// Metadata for a command that starts its own chain (the CLI, a test, a timer).
    pub fn new_chain() -> Self {
        Self {
            correlation_id: Uuid::now_v7().to_string(),
            ..Self::default()
        }
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
    /// The event store could not be reached (503).
    #[error("the event store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: a bug or a corrupt store (500).
    #[error("unexpected event store error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl<E: std::error::Error> BusError<E> {
    fn from_store(error: AggregateError<E>) -> Self {
        match error {
            AggregateError::UserError(e) => Self::Rejected(e),
            AggregateError::AggregateConflict => Self::Conflict,
            AggregateError::DatabaseConnectionError(e) => Self::Unavailable(e),
            AggregateError::DeserializationError(e) | AggregateError::UnexpectedError(e) => {
                classify_store_error(e)
            }
        }
    }
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
        _ => BusError::Internal(error),
    }
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

/// One event store per aggregate type, over one pool.
pub struct CommandBus {
    pool: PgPool,
    /// Bumped after every append, to wake this process's subscribers at once.
    commits: CommitSignal,
    retry: RetryPolicy,
    users: Store<User>,
    products: Store<Product>,
    carts: Store<Cart>,
    orders: Store<Order>,
    payments: Store<Payment>,
}

/// An aggregate the bus can run commands against.
pub trait Stored: Aggregate<Services = (), Command: Clone + std::fmt::Debug> + 'static {
    fn store(bus: &CommandBus) -> &Store<Self>;
}

macro_rules! stored {
    ($aggregate:ty, $field:ident) => {
        impl Stored for $aggregate {
            fn store(bus: &CommandBus) -> &Store<Self> {
                &bus.$field
            }
        }
    };
}
stored!(User, users);
stored!(Product, products);
stored!(Cart, carts);
stored!(Order, orders);
stored!(Payment, payments);

impl CommandBus {
    pub fn new(pool: PgPool) -> Self {
        let repo = || PostgresEventRepository::new(pool.clone());
        Self {
            users: PersistedEventStore::new_event_store(repo()),
            products: PersistedEventStore::new_snapshot_store(repo(), SNAPSHOT_EVERY),
            carts: PersistedEventStore::new_snapshot_store(repo(), SNAPSHOT_EVERY),
            orders: PersistedEventStore::new_event_store(repo()),
            payments: PersistedEventStore::new_event_store(repo()),
            retry: RetryPolicy::default(),
            commits: CommitSignal::default(),
            pool,
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

    /// Loads an aggregate's current state and version (0 when it has no events).
    pub async fn load<A: Stored>(&self, id: &str) -> Result<(A, u64), BusError<A::Error>> {
        let mut context = A::store(self)
            .load_aggregate(id)
            .await
            .map_err(BusError::from_store)?;
        let version = context.current_sequence as u64;
        Ok((std::mem::take(&mut context.aggregate), version))
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

    async fn try_execute<A: Stored>(
        &self,
        id: &str,
        command: A::Command,
        metadata: HashMap<String, String>,
        expected_version: Option<u64>,
    ) -> Result<Executed, BusError<A::Error>> {
        let store = A::store(self);
        let mut context = store
            .load_aggregate(id)
            .await
            .map_err(BusError::from_store)?;
        let loaded = context.current_sequence as u64;
        if let Some(expected) = expected_version
            && expected != loaded
        {
            return Err(BusError::VersionMismatch {
                expected,
                actual: loaded,
            });
        }
        let sink = EventSink::default();
        context
            .aggregate
            .handle(command, &(), &sink)
            .await
            .map_err(BusError::Rejected)?;
        let events = sink.collect().await;
        let appended = events.len();
        let version = if events.is_empty() {
            loaded
        } else {
            let committed = store
                .commit(events, context, metadata)
                .await
                .map_err(BusError::from_store)?;
            committed.last().map_or(loaded, |e| e.sequence as u64)
        };
        if appended > 0 {
            self.commits.committed();
            metrics::counter!("shop_events_appended_total", "aggregate_type" => A::TYPE)
                .increment(appended as u64);
        }
        let position = self
            .position_of(A::TYPE, id, version)
            .await
            .map_err(|e| classify_store_error(Box::new(e)))?;
        Ok(Executed {
            version,
            appended,
            position,
        })
    }

    async fn position_of(
        &self,
        aggregate_type: &str,
        id: &str,
        sequence: u64,
    ) -> Result<Option<Position>, sqlx::Error> {
        if sequence == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT transaction_id::text::bigint AS xid, position FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
        )
        .bind(aggregate_type)
        .bind(id)
        .bind(sequence as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| Position::new(row.get::<i64, _>("xid") as u64, row.get("position"))))
    }

    /// Full jitter: a random wait up to an exponentially growing cap, so that colliding writers spread out.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self.retry.base_delay * 2u32.saturating_pow(attempt.min(10));
        let micros = rand::rng().random_range(0..=cap.as_micros().max(1) as u64);
        Duration::from_micros(micros)
    }
}

/// The command's variant name (`AddItem`), read from its serialized form so that no aggregate has to list
/// its own command names.
fn command_name<C: std::fmt::Debug>(command: &C) -> String {
    let debug = format!("{command:?}");
    debug
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("Unknown")
        .to_owned()
}

fn record_metrics<E: std::error::Error>(
    aggregate_type: &'static str,
    command: &str,
    outcome: &Result<Executed, BusError<E>>,
    started: Instant,
) {
    let label = match outcome {
        Ok(_) => "ok",
        Err(BusError::Rejected(_)) => "rejected",
        Err(BusError::VersionMismatch { .. }) => "version_mismatch",
        Err(BusError::Conflict) => "conflict",
        Err(BusError::Unavailable(_)) => "unavailable",
        Err(BusError::Internal(_)) => "error",
    };
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
    }

    #[test]
    fn it_should_name_a_command_by_its_variant() {
        assert_eq!(command_name(&Sample::AddItem { quantity: 2 }), "AddItem");
        assert_eq!(command_name(&Sample::Clear), "Clear");
    }
}
