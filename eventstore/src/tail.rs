//! The feed's recent past, read once per process and shared by every subscriber in it.
//!
//! Each subscriber (six projectors, the catalog index, the relay) used to read the feed itself on every
//! wake-up: two statements each, one of which scans `pg_stat_activity` for the horizon (migration 0007),
//! and a few more reads while a commit is still in flight. Under checkout load that was about one core of
//! PostgreSQL whatever the rate (docs/performance.md). Now one follower per process reads what is new, and
//! keeps the last [`CAPACITY`] events in memory; subscribers read from there, and from the database only
//! when they are further behind (a start, a replay, a long pause).
//!
//! The follower reads the feed exactly as a subscriber would, so what it holds is an unbroken stretch of the
//! feed's order: a subscriber reading from it gets the same events, in the same order, as from the
//! database, only perhaps fewer of the newest. Nothing can be skipped.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::wake::Wakeups;
use crate::{Feed, Position, StoredEvent};

/// Events kept in memory: several seconds of checkout load, a few megabytes.
pub const CAPACITY: usize = 20_000;
/// Events read from the database per statement.
const BATCH: i64 = 1_000;

/// The shared tail of the feed. Clones share one follower.
#[derive(Clone)]
pub struct FeedTail {
    recent: Arc<RwLock<Recent>>,
    /// Bumped whenever the tail holds new events: what subscribers wait on.
    advanced: watch::Receiver<u64>,
}

/// An unbroken stretch of the feed: the events after `from`, through `through`; nothing until the follower
/// has found where the feed's head is.
#[derive(Debug)]
struct Recent {
    from: Position,
    through: Position,
    started: bool,
    events: VecDeque<StoredEvent>,
    capacity: usize,
}

impl Recent {
    fn new(capacity: usize) -> Self {
        Self {
            from: Position::START,
            through: Position::START,
            started: false,
            events: VecDeque::new(),
            capacity,
        }
    }

    fn start_at(&mut self, head: Position) {
        self.from = head;
        self.through = head;
        self.started = true;
    }

    /// The events after `after`, up to `limit`, if this stretch holds everything after it up to `through`.
    fn after(&self, after: Position, limit: usize) -> Option<Vec<StoredEvent>> {
        if !self.started || after < self.from || after > self.through {
            return None;
        }
        let first = self.events.partition_point(|e| e.position <= after);
        Some(self.events.range(first..).take(limit).cloned().collect())
    }

    /// Appends the next events of the feed (after `through`), forgetting the oldest beyond the capacity.
    fn extend(&mut self, events: Vec<StoredEvent>) {
        let Some(last) = events.last() else { return };
        self.through = last.position;
        self.events.extend(events);
        while self.events.len() > self.capacity {
            if let Some(oldest) = self.events.pop_front() {
                self.from = oldest.position;
            }
        }
    }
}

impl FeedTail {
    /// Starts following `feed` from its head, woken by `wakeups`, until `shutdown` turns true. Until the
    /// follower has read the head, every read goes to the database.
    pub fn start(feed: Feed, wakeups: Wakeups, shutdown: watch::Receiver<bool>) -> Self {
        Self::with_capacity(feed, wakeups, shutdown, CAPACITY)
    }

    /// Like [`FeedTail::start`], keeping at most `capacity` events.
    pub fn with_capacity(
        feed: Feed,
        wakeups: Wakeups,
        shutdown: watch::Receiver<bool>,
        capacity: usize,
    ) -> Self {
        let recent = Arc::new(RwLock::new(Recent::new(capacity)));
        let (bump, advanced) = watch::channel(0);
        tokio::spawn(follow(feed, recent.clone(), bump, wakeups, shutdown));
        Self { recent, advanced }
    }

    /// The events after `after`, up to `limit`, when the tail holds that stretch; `None` when `after` is
    /// older than what it keeps (or newer than what it has read): read the database then.
    pub fn after(&self, after: Position, limit: i64) -> Option<Vec<StoredEvent>> {
        self.recent
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .after(after, usize::try_from(limit).unwrap_or(0))
    }

    /// The last event the tail has read, once it has found the head.
    pub fn through(&self) -> Option<Position> {
        let recent = self.recent.read().unwrap_or_else(|e| e.into_inner());
        recent.started.then_some(recent.through)
    }

    /// Wakes a subscriber when the tail holds new events, or after `poll` at the latest.
    pub fn wakeups(&self, poll: Duration) -> Wakeups {
        Wakeups::from_receiver(self.advanced.clone(), poll)
    }
}

/// Reads what is new whenever woken, and a few times shortly after an empty read: an event just committed
/// may still wait behind an older transaction that is finishing.
async fn follow(
    feed: Feed,
    recent: Arc<RwLock<Recent>>,
    bump: watch::Sender<u64>,
    mut wakeups: Wakeups,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut through = loop {
        match feed.head().await {
            Ok(head) => break head.unwrap_or(Position::START),
            Err(error) => {
                tracing::error!(%error, retry_in = ?backoff, "cannot find the feed's head; will retry");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {},
                    _ = shutdown.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    };
    recent
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .start_at(through);
    bump.send_modify(|n| *n = n.wrapping_add(1));
    let mut idle_retries = 0;
    while !*shutdown.borrow() {
        let pause = match feed.read_after(through, BATCH).await {
            Ok(events) if !events.is_empty() => {
                backoff = Duration::from_millis(100);
                idle_retries = 0;
                through = events.last().map_or(through, |e| e.position);
                recent
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(events);
                bump.send_modify(|n| *n = n.wrapping_add(1));
                continue;
            }
            Ok(_) if idle_retries < 4 => {
                idle_retries += 1;
                Duration::from_millis(10 << idle_retries)
            }
            Ok(_) => {
                idle_retries = 0;
                tokio::select! {
                    () = wakeups.wait() => {},
                    _ = shutdown.changed() => {},
                }
                continue;
            }
            Err(error) => {
                tracing::error!(%error, retry_in = ?backoff, "cannot follow the feed; will retry");
                let pause = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                pause
            }
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {},
            _ = shutdown.changed() => {},
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn event(transaction_id: u64, position: i64) -> StoredEvent {
        StoredEvent {
            position: Position::new(transaction_id, position),
            event_id: Uuid::now_v7(),
            aggregate_type: "test".to_owned(),
            aggregate_id: "a".to_owned(),
            sequence: position,
            event_type: "Happened".to_owned(),
            event_version: "1.0".to_owned(),
            payload: json!({}),
            metadata: json!({}),
            recorded_at: Utc::now(),
            hash: String::new(),
        }
    }

    fn positions(events: Option<Vec<StoredEvent>>) -> Option<Vec<i64>> {
        events.map(|events| events.iter().map(|e| e.position.position).collect())
    }

    #[test]
    fn it_should_answer_nothing_before_it_knows_where_the_feed_is() {
        let recent = Recent::new(10);
        assert!(recent.after(Position::START, 10).is_none());
    }

    #[test]
    fn it_should_answer_only_for_the_stretch_it_holds_whole() {
        let mut recent = Recent::new(3);
        recent.start_at(Position::new(10, 1));
        recent.extend(vec![event(11, 2), event(12, 3)]);

        assert_eq!(
            positions(recent.after(Position::new(10, 1), 10)),
            Some(vec![2, 3])
        );
        assert_eq!(
            positions(recent.after(Position::new(11, 2), 10)),
            Some(vec![3])
        );
        assert_eq!(
            positions(recent.after(Position::new(12, 3), 10)),
            Some(vec![])
        );
        assert_eq!(
            positions(recent.after(Position::new(10, 1), 1)),
            Some(vec![2])
        );
        assert!(
            recent.after(Position::new(9, 9), 10).is_none(),
            "older than the stretch"
        );
        assert!(
            recent.after(Position::new(13, 4), 10).is_none(),
            "newer than what it read"
        );
    }

    #[test]
    fn it_should_forget_the_oldest_beyond_its_capacity_and_then_send_their_readers_to_the_database()
    {
        let mut recent = Recent::new(2);
        recent.start_at(Position::new(10, 1));
        recent.extend(vec![event(11, 2), event(12, 3), event(13, 4)]);

        assert!(recent.after(Position::new(10, 1), 10).is_none());
        assert_eq!(
            positions(recent.after(Position::new(11, 2), 10)),
            Some(vec![3, 4])
        );
    }
}
