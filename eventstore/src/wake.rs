//! Waking feed subscribers when events are appended, without polling in a loop.
//!
//! A `NOTIFY` inside every appending transaction would serialize all commits on PostgreSQL's notify lock.
//! Instead the `CommandBus` bumps an in-process counter after each commit ([`CommitSignal`]); a forwarder
//! task turns bursts of bumps into at most one `NOTIFY shop_events` per few milliseconds for other
//! processes; subscribers wait on either, with a slow poll as a safety net ([`Wakeups`]).

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

pub const CHANNEL: &str = "shop_events";
/// Commits closer together than this share one notification.
const COALESCE: Duration = Duration::from_millis(5);

/// Counts commits made by this process.
#[derive(Clone)]
pub struct CommitSignal {
    sender: watch::Sender<u64>,
}

impl Default for CommitSignal {
    fn default() -> Self {
        Self {
            sender: watch::channel(0).0,
        }
    }
}

impl CommitSignal {
    pub fn committed(&self) {
        self.sender.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }

    /// Forwards this process's commits to other processes as `NOTIFY`, until the signal is dropped.
    pub async fn forward_to_postgres(self, pool: PgPool) {
        let mut commits = self.subscribe();
        drop(self);
        while commits.changed().await.is_ok() {
            tokio::time::sleep(COALESCE).await;
            commits.mark_unchanged();
            if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "could not notify other processes of new events");
            }
        }
    }
}

/// What a subscriber waits on between batches.
pub struct Wakeups {
    local: Option<watch::Receiver<u64>>,
    listener: Option<PgListener>,
    pool: PgPool,
    poll: Duration,
}

impl Wakeups {
    /// Wakes on this process's commits (if `local` is given), on `NOTIFY shop_events`, or after `poll`.
    pub async fn new(pool: PgPool, local: Option<&CommitSignal>, poll: Duration) -> Self {
        let mut wakeups = Self {
            local: local.map(CommitSignal::subscribe),
            listener: None,
            pool,
            poll,
        };
        wakeups.reconnect().await;
        wakeups
    }

    async fn reconnect(&mut self) {
        let listener = async {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        self.listener = match listener.await {
            Ok(listener) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for new events; polling until it works");
                None
            }
        };
    }

    /// Returns when there may be new events.
    pub async fn wait(&mut self) {
        let local = async {
            match self.local.as_mut() {
                Some(receiver) => {
                    if receiver.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        let listener = async {
            match self.listener.as_mut() {
                Some(listener) => listener.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        let outcome = tokio::select! {
            () = local => Ok(()),
            heard = listener => heard,
            () = tokio::time::sleep(self.poll) => Ok(()),
        };
        if outcome.is_err() || self.listener.is_none() {
            self.reconnect().await;
        }
    }
}
