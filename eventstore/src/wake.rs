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

/// What a subscriber waits on between batches. Clones share one listening connection.
#[derive(Clone)]
pub struct Wakeups {
    receiver: watch::Receiver<u64>,
    poll: Duration,
}

impl Wakeups {
    /// Wakes on this process's commits (if `local` is given), on `NOTIFY shop_events` from any process, or
    /// after `poll` at the latest. One task listens for all clones, and ends when the last is dropped.
    pub fn start(pool: PgPool, local: Option<&CommitSignal>, poll: Duration) -> Self {
        let (sender, receiver) = watch::channel(0u64);
        let local = local.map(CommitSignal::subscribe);
        tokio::spawn(listen(pool, local, sender));
        Self { receiver, poll }
    }

    /// Wakes whenever `receiver` changes, or after `poll` at the latest.
    pub fn from_receiver(receiver: watch::Receiver<u64>, poll: Duration) -> Self {
        Self { receiver, poll }
    }

    /// Returns when there may be new events.
    pub async fn wait(&mut self) {
        tokio::select! {
            changed = self.receiver.changed() => {
                // Whatever woke subscribers is gone (its task ended): fall back to the slow poll rather than
                // waking at once, again and again.
                if changed.is_err() {
                    tokio::time::sleep(self.poll).await;
                }
            },
            () = tokio::time::sleep(self.poll) => {},
        }
    }
}

async fn listen(pool: PgPool, mut local: Option<watch::Receiver<u64>>, wake: watch::Sender<u64>) {
    let bump = |wake: &watch::Sender<u64>| wake.send_modify(|n| *n = n.wrapping_add(1));
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => Some(listener),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot LISTEN for new events; polling until it works");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for new events; polling until it works");
                None
            }
        };
        loop {
            let heard = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()),
                    None => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        Err(sqlx::Error::PoolClosed)
                    }
                }
            };
            let committed = async {
                let changed = match local.as_mut() {
                    Some(receiver) => receiver.changed().await.is_ok(),
                    None => false,
                };
                if !changed {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = wake.closed() => return,
                () = committed => bump(&wake),
                result = heard => match result {
                    Ok(()) => bump(&wake),
                    // Reconnect; wake everyone in case a notification was lost meanwhile.
                    Err(_) => {
                        bump(&wake);
                        break;
                    }
                },
            }
        }
    }
}
