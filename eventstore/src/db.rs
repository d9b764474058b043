//! Connecting to PostgreSQL and running the migrations in `migrations/`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// A session of the shop's that stays idle inside a transaction for this long is ended by the server. An
/// open transaction that has written holds the feed back (docs/adr/0011), so none of ours may linger.
pub const IDLE_IN_TRANSACTION_TIMEOUT: &str = "30s";

/// A pooled connection that has been idle for longer than this is checked with a round trip before it is
/// handed out (docs/adr/0021).
pub const CHECK_IDLE_OVER: Duration = Duration::from_secs(1);

/// Opens a pool. Connections are made lazily, so a database that is down at start-up is reported by the
/// first query (and by `/health/ready`) instead of stopping the process.
pub fn connect(database_url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    connect_checking_idle_over(database_url, max_connections, CHECK_IDLE_OVER)
}

/// [`connect`], checking a connection before it is handed out only when it has been idle for longer than
/// `check_idle_over`. sqlx's default checks every one, a round trip per statement on top of the one it makes
/// when the connection comes back (busy connections are idle for microseconds). A connection found closed is
/// dropped and another one taken or opened, so that a server restarted meanwhile (which takes longer than
/// the threshold) costs no failed statement; one ended by the server in the last second is not checked, and
/// its statement fails as a dependency's failure does (503, or the consumer's retry).
pub fn connect_checking_idle_over(
    database_url: &str,
    max_connections: u32,
    check_idle_over: Duration,
) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(database_url)?.options([(
        "idle_in_transaction_session_timeout",
        IDLE_IN_TRANSACTION_TIMEOUT,
    )]);
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(move |connection, meta| {
            Box::pin(async move {
                if meta.idle_for > check_idle_over {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options))
}

/// Applies every migration that has not run yet. Safe to call from several processes at once: sqlx takes
/// an advisory lock.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("../migrations").run(pool).await
}

/// The database error type, named here so that HTTP crates need not depend on sqlx.
pub type DbError = sqlx::Error;

pub use sqlx::PgPool;

/// A round trip to the database, for readiness checks.
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
}

/// A PostgreSQL session-level advisory lock, released when this value (and its connection) is dropped.
/// The connection is taken out of the pool, so that dropping it closes it instead of handing a locked
/// session to someone else.
pub struct AdvisoryLock {
    _connection: sqlx::PgConnection,
}

/// Takes the advisory lock named `name` if no other session holds it.
pub async fn try_advisory_lock(
    pool: &PgPool,
    name: &str,
) -> Result<Option<AdvisoryLock>, sqlx::Error> {
    let mut connection = pool.acquire().await?.detach();
    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
        .bind(name)
        .fetch_one(&mut connection)
        .await?;
    Ok(taken.then_some(AdvisoryLock {
        _connection: connection,
    }))
}

/// How often a process standing by asks for an advisory lock again.
const STAND_BY: Duration = Duration::from_secs(5);

/// Takes the advisory lock `name`, standing by while another process holds it (asking again every few
/// seconds); `None` once `shutdown` turns true. For the singleton roles: each projector, the relay.
pub async fn advisory_lock_or_stand_by(
    pool: &PgPool,
    name: &str,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<AdvisoryLock> {
    loop {
        match try_advisory_lock(pool, name).await {
            Ok(Some(held)) => return Some(held),
            Ok(None) => tracing::debug!(lock = name, "another process holds the lock; standing by"),
            Err(error) => tracing::warn!(lock = name, %error, "cannot take the advisory lock"),
        }
        tokio::select! {
            () = tokio::time::sleep(STAND_BY) => {},
            changed = shutdown.changed() => if changed.is_err() { return None },
        }
        if *shutdown.borrow() {
            return None;
        }
    }
}
