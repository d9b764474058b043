//! The feed against the real PostgreSQL: order, completeness, and exactly-once delivery.

use std::time::Duration;

use eventstore::testing::{eventually, fresh_database};
use eventstore::{Checkpoints, Feed, Position, StoredEvent};
use sqlx::{Executor, PgPool, Postgres};

async fn append<'e>(executor: impl Executor<'e, Database = Postgres>, stream: &str, sequence: i64) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('test', $1, $2, 'Happened', '1.0', '{\"Happened\":{}}', '{}')",
    )
    .bind(stream)
    .bind(sequence)
    .execute(executor)
    .await
    .expect("append an event");
}

/// The events after `after`, once at least `count` have arrived (10 s at most).
async fn read_until(feed: &Feed, after: Position, count: usize) -> Vec<StoredEvent> {
    eventually(
        &format!("{count} events in the feed"),
        Duration::from_secs(10),
        async || {
            // Room for more than `count`: an event delivered twice, or one too many, shows.
            let events = feed
                .read_after(after, count as i64 + 100)
                .await
                .expect("read the feed");
            (events.len() >= count).then_some(events)
        },
    )
    .await
}

#[tokio::test]
async fn the_feed_holds_back_a_later_commit_until_an_earlier_transaction_ends_then_delivers_both_once()
 {
    let (pool, _) = fresh_database().await;
    let feed = Feed::new(pool.clone());

    // The early transaction appends first (smaller position, smaller transaction id) but commits last.
    let mut early = pool.begin().await.unwrap();
    append(&mut *early, "early", 1).await;
    let mut late = pool.begin().await.unwrap();
    append(&mut *late, "late", 1).await;
    late.commit().await.unwrap();

    let while_open = feed.read_after(Position::START, 100).await.unwrap();
    assert!(
        while_open.is_empty(),
        "the committed later event must wait for the open earlier transaction, got {while_open:?}"
    );
    assert!(
        feed.holding_transaction().await.unwrap().is_some(),
        "the transaction holding the feed back is named"
    );

    early.commit().await.unwrap();
    let delivered = read_until(&feed, Position::START, 2).await;
    let streams: Vec<&str> = delivered.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(streams, ["early", "late"]);
    assert!(delivered[0].position < delivered[1].position);

    let checkpoint = delivered[1].position;
    assert!(
        feed.read_after(checkpoint, 100).await.unwrap().is_empty(),
        "nothing is delivered twice"
    );
}

#[tokio::test]
async fn the_feed_delivers_every_event_of_many_concurrent_writers_exactly_once() {
    let (pool, _) = fresh_database().await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let pool: PgPool = pool.clone();
            tokio::spawn(async move {
                for sequence in 1..=25 {
                    append(&pool, &format!("writer-{w}"), sequence).await;
                }
            })
        })
        .collect();
    let feed = Feed::new(pool.clone());
    let delivered = read_until(&feed, Position::START, 200).await;
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(delivered.len(), 200);
    let mut ids: Vec<_> = delivered.iter().map(|e| e.event_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200, "no event twice");
    assert!(
        delivered.windows(2).all(|w| w[0].position < w[1].position),
        "feed order"
    );
    for w in 0..8 {
        let sequences: Vec<i64> = delivered
            .iter()
            .filter(|e| e.aggregate_id == format!("writer-{w}"))
            .map(|e| e.sequence)
            .collect();
        assert_eq!(
            sequences,
            (1..=25).collect::<Vec<_>>(),
            "each stream in order"
        );
    }
}

#[tokio::test]
async fn a_checkpoint_is_saved_and_loaded() {
    let (pool, _) = fresh_database().await;
    let checkpoints = Checkpoints::new(pool);
    assert_eq!(checkpoints.load("catalog").await.unwrap(), Position::START);
    let position = Position::new(1234, 56);
    checkpoints.save("catalog", position).await.unwrap();
    assert_eq!(checkpoints.load("catalog").await.unwrap(), position);
}

/// A transaction that has written in another database of the server, kept open until dropped.
async fn open_transaction_elsewhere() -> sqlx::PgConnection {
    use sqlx::Connection;
    let (_, url) = fresh_database().await;
    let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut other)
        .await
        .unwrap();
    other
}

#[tokio::test]
async fn a_transaction_open_in_another_database_never_holds_the_feed_back() {
    let (pool, _) = fresh_database().await;
    let feed = Feed::new(pool.clone());
    let _elsewhere = open_transaction_elsewhere().await;
    // Transactions of this database that began after the one elsewhere, as every later write does.
    append(&pool, "after-the-other", 1).await;
    append(&pool, "after-the-other", 2).await;

    // While the other transaction stays open, the feed delivers these. (A moment's hold by a transaction of
    // this database, such as an autovacuum worker's, is allowed: hence the deadline.)
    let delivered = read_until(&feed, Position::START, 2).await;
    assert_eq!(delivered.len(), 2, "{delivered:?}");
    eventually(
        "only transactions of the shop's database hold the feed",
        Duration::from_secs(10),
        async || {
            let head = feed.head().await.unwrap();
            let last = feed.last(10).await.unwrap();
            let holder = feed.holding_transaction().await.unwrap();
            (head == Some(delivered[1].position) && last == delivered && holder.is_none())
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn the_feed_skips_nothing_while_commits_race_the_horizon_and_other_databases_churn() {
    let (pool, _) = fresh_database().await;
    let (elsewhere, elsewhere_url) = fresh_database().await;
    drop(elsewhere);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Sessions of another database come and go, each writing in a transaction, so process slots are reused
    // while the feed computes its horizon.
    let churn: Vec<_> = (0..3)
        .map(|_| {
            let (url, stop) = (elsewhere_url.clone(), stop.clone());
            tokio::spawn(async move {
                use sqlx::Connection;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
                    let mut transaction = other.begin().await.unwrap();
                    sqlx::query("SELECT pg_current_xact_id()")
                        .execute(&mut *transaction)
                        .await
                        .unwrap();
                    transaction.commit().await.unwrap();
                    other.close().await.unwrap();
                }
            })
        })
        .collect();
    // Writers of this database: some commit at once, some hold their transaction open across others'.
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let pool: PgPool = pool.clone();
            tokio::spawn(async move {
                for sequence in 1..=30 {
                    let mut transaction = pool.begin().await.unwrap();
                    append(&mut *transaction, &format!("writer-{w}"), sequence).await;
                    if sequence % 3 == w % 3 {
                        tokio::task::yield_now().await;
                        sqlx::query("SELECT pg_sleep(0.005)")
                            .execute(&mut *transaction)
                            .await
                            .unwrap();
                    }
                    transaction.commit().await.unwrap();
                }
            })
        })
        .collect();
    // The reader tails the feed from its checkpoint the whole time.
    let feed = Feed::new(pool.clone());
    let delivered = read_until(&feed, Position::START, 180).await;
    for writer in writers {
        writer.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in churn {
        task.await.unwrap();
    }
    let after = delivered.last().map_or(Position::START, |e| e.position);
    assert!(feed.read_after(after, 100).await.unwrap().is_empty());
    assert_eq!(delivered.len(), 180, "every event, none skipped");
    let mut ids: Vec<_> = delivered.iter().map(|e| e.event_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 180, "no event twice");
    for w in 0..6 {
        let sequences: Vec<i64> = delivered
            .iter()
            .filter(|e| e.aggregate_id == format!("writer-{w}"))
            .map(|e| e.sequence)
            .collect();
        assert_eq!(sequences, (1..=30).collect::<Vec<_>>(), "writer {w}");
    }
}

#[tokio::test]
async fn the_shops_sessions_end_transactions_left_idle() {
    let (pool, _) = fresh_database().await;
    let timeout: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(timeout, eventstore::db::IDLE_IN_TRANSACTION_TIMEOUT);
}

#[tokio::test]
async fn subscribers_reading_through_the_shared_tail_get_the_same_events_in_the_same_order_as_from_the_database()
 {
    use eventstore::tail::FeedTail;
    use eventstore::wake::Wakeups;

    let (pool, _) = fresh_database().await;
    // Events from before the tail started: a subscriber from the start reads them from the database.
    for sequence in 1..=5 {
        append(&pool, "before", sequence).await;
    }
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let wakeups = Wakeups::start(pool.clone(), None, Duration::from_millis(50));
    // Ten events at most: the tail forgets the oldest while the writers go on.
    let tail = FeedTail::with_capacity(Feed::new(pool.clone()), wakeups, shutdown, 10);
    eventually(
        "the tail finds the feed's head",
        Duration::from_secs(10),
        async || tail.through(),
    )
    .await;

    // An earlier transaction commits after a later one, while eight writers append.
    let mut early = pool.begin().await.unwrap();
    append(&mut *early, "early", 1).await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let pool: PgPool = pool.clone();
            tokio::spawn(async move {
                for sequence in 1..=10 {
                    append(&pool, &format!("writer-{w}"), sequence).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    early.commit().await.unwrap();

    let shared = Feed::new(pool.clone()).with_tail(tail.clone());
    let through_tail = read_until(&shared, Position::START, 86).await;
    let from_database = read_until(&Feed::new(pool.clone()), Position::START, 86).await;
    assert_eq!(through_tail.len(), 86, "every event, once");
    assert_eq!(through_tail, from_database);
    let last = from_database.last().unwrap().position;
    eventually(
        "the tail reads to the end",
        Duration::from_secs(10),
        async || (tail.through() == Some(last)).then_some(()),
    )
    .await;
    assert_eq!(
        tail.after(last, 100),
        Some(Vec::new()),
        "a caught-up subscriber is answered from memory"
    );
    assert_eq!(
        tail.after(Position::START, 100),
        None,
        "one further behind than the tail keeps reads the database"
    );
}
