//! The relay: a feed subscriber that publishes every event to the topic exchange, with publisher confirms,
//! and moves its checkpoint only after RabbitMQ confirmed the whole batch. The events table is the outbox:
//! a crash between commit and publish loses nothing, and a crash between publish and checkpoint publishes
//! again what was confirmed since, which consumers handle again without effect (they are idempotent). The
//! checkpoint is saved at most every [`CHECKPOINT_EVERY`] while events come, and once they stop.

use std::time::{Duration, Instant};

use chrono::Utc;
use eventstore::db::PgPool;
use eventstore::wake::Wakeups;
use eventstore::{Checkpoints, Feed, Position};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation};
use tokio::sync::watch;

use crate::message::EventMessage;
use crate::{Broker, topology};

pub const NAME: &str = "relay";
const BATCH: i64 = 500;
/// How long the relay may publish without saving its checkpoint: a crash publishes at most this much again,
/// for one statement per interval instead of one per batch (a batch is a few events under a steady load).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("reading the feed failed: {0}")]
    Feed(#[from] eventstore::db::DbError),
    #[error("RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
    #[error("RabbitMQ refused to confirm a message")]
    NotConfirmed,
    #[error("encoding a message: {0}")]
    Encode(#[from] serde_json::Error),
}

pub struct Relay {
    feed: Feed,
    checkpoints: Checkpoints,
    pool: PgPool,
    broker: Broker,
    /// Where the next batch starts: what RabbitMQ confirmed last, or the checkpoint.
    position: Option<Position>,
    /// The position last saved as the checkpoint, and when.
    saved: Option<(Position, Instant)>,
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Published(usize),
    CaughtUp,
}

impl Relay {
    pub fn new(pool: PgPool, broker: Broker) -> Self {
        Self {
            feed: Feed::new(pool.clone()),
            checkpoints: Checkpoints::new(pool.clone()),
            pool,
            broker,
            position: None,
            saved: None,
        }
    }

    /// Reads `feed` (the process's shared tail of it, say) instead of the database directly.
    pub fn with_feed(mut self, feed: Feed) -> Self {
        self.feed = feed;
        self
    }

    /// A channel in confirm mode, with the whole topology declared: the consumers' queues must exist before
    /// the first publish, or RabbitMQ would drop events that no queue is bound for yet.
    pub async fn channel(&self, connection: &lapin::Connection) -> Result<Channel, RelayError> {
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        topology::declare(
            &channel,
            &self.broker,
            topology::SAGA,
            &topology::SAGA_BINDINGS,
        )
        .await?;
        Ok(channel)
    }

    /// Publishes the next batch and waits for every confirm before moving the checkpoint.
    pub async fn step(&mut self, channel: &Channel) -> Result<Step, RelayError> {
        let from = match self.position {
            Some(position) => position,
            None => {
                let checkpoint = self.checkpoints.load(NAME).await?;
                self.saved = Some((checkpoint, Instant::now()));
                checkpoint
            }
        };
        let events = self.feed.read_after(from, BATCH).await?;
        let Some(last) = events.last() else {
            self.position = Some(from);
            metrics::gauge!("shop_subscriber_lag_events", "subscriber" => NAME).set(0.0);
            metrics::gauge!("shop_subscriber_lag_seconds", "subscriber" => NAME).set(0.0);
            return Ok(Step::CaughtUp);
        };
        let mut confirms = Vec::with_capacity(events.len());
        for event in &events {
            let message = EventMessage::from(event);
            let mut headers = FieldTable::default();
            if let Some(correlation) = message.correlation_id() {
                headers.insert(
                    "correlation_id".into(),
                    AMQPValue::LongString(correlation.into()),
                );
            }
            headers.insert(
                "position".into(),
                AMQPValue::LongString(message.position.as_str().into()),
            );
            let properties = BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type("application/json".into())
                .with_message_id(event.event_id.to_string().into())
                .with_headers(headers);
            let body = serde_json::to_vec(&message)?;
            let confirm = channel
                .basic_publish(
                    self.broker.exchange().into(),
                    message.routing_key().into(),
                    BasicPublishOptions::default(),
                    &body,
                    properties,
                )
                .await?;
            confirms.push(confirm);
        }
        for confirm in confirms {
            match confirm.await? {
                Confirmation::Ack(_) => {}
                Confirmation::Nack(_) | Confirmation::NotRequested => {
                    return Err(RelayError::NotConfirmed);
                }
            }
        }
        let (last_position, recorded_at) = (last.position, last.recorded_at);
        self.position = Some(last_position);
        if self.checkpoint_due() == Some(Duration::ZERO) {
            self.save_checkpoint().await?;
        }
        metrics::counter!("shop_messages_published_total", "exchange" => "shop.events")
            .increment(events.len() as u64);
        metrics::counter!("shop_subscriber_events_total", "subscriber" => NAME)
            .increment(events.len() as u64);
        let behind = (Utc::now() - recorded_at).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::gauge!("shop_subscriber_lag_seconds", "subscriber" => NAME).set(behind);
        Ok(Step::Published(events.len()))
    }

    /// How long until the checkpoint is to be saved, if what was confirmed is past it: zero once
    /// [`CHECKPOINT_EVERY`] has passed since the last save.
    fn checkpoint_due(&self) -> Option<Duration> {
        let confirmed = self.position?;
        match self.saved {
            Some((saved, _)) if saved == confirmed => None,
            Some((_, at)) => Some(CHECKPOINT_EVERY.saturating_sub(at.elapsed())),
            None => Some(Duration::ZERO),
        }
    }

    /// Saves what RabbitMQ confirmed last as the checkpoint.
    async fn save_checkpoint(&mut self) -> Result<(), RelayError> {
        let Some(confirmed) = self.position else {
            return Ok(());
        };
        self.checkpoints.save(NAME, confirmed).await?;
        self.saved = Some((confirmed, Instant::now()));
        metrics::gauge!("shop_subscriber_checkpoint_position", "subscriber" => NAME)
            .set(confirmed.position as f64);
        Ok(())
    }

    /// Publishes until `shutdown`, reconnecting to RabbitMQ with back-off whenever it goes away. Only one
    /// process relays at a time (a PostgreSQL advisory lock); others stand by.
    pub async fn run(mut self, mut wakeups: Wakeups, mut shutdown: watch::Receiver<bool>) {
        metrics::counter!("shop_messages_published_total", "exchange" => "shop.events")
            .increment(0);
        metrics::counter!("shop_subscriber_events_total", "subscriber" => NAME).increment(0);
        let Some(lock) =
            eventstore::db::advisory_lock_or_stand_by(&self.pool, "relay", &mut shutdown).await
        else {
            return;
        };
        let mut backoff = Duration::from_millis(200);
        while !*shutdown.borrow() {
            let connected = async {
                let connection = self.broker.connect().await?;
                let channel = self.channel(&connection).await?;
                Ok::<_, RelayError>((connection, channel))
            };
            let (connection, channel) = match connected.await {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?backoff, "relay cannot reach RabbitMQ; events wait in the store");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {},
                        _ = shutdown.changed() => {},
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            backoff = Duration::from_millis(200);
            tracing::info!("relay publishing to RabbitMQ");
            while !*shutdown.borrow() {
                match self.step(&channel).await {
                    Ok(Step::Published(_)) => {}
                    Ok(Step::CaughtUp) => {
                        // What was published since the last save is saved once no event came for a while.
                        let due = self.checkpoint_due();
                        tokio::select! {
                            () = wakeups.wait() => {},
                            () = tokio::time::sleep(due.unwrap_or_default()), if due.is_some() => {
                                if let Err(error) = self.save_checkpoint().await {
                                    tracing::warn!(%error, "relay cannot save its checkpoint; will try again");
                                    tokio::time::sleep(CHECKPOINT_EVERY).await;
                                }
                            },
                            _ = shutdown.changed() => {},
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "relay step failed; reconnecting");
                        // What was not confirmed is published again from the checkpoint.
                        self.position = None;
                        break;
                    }
                }
            }
            let _ = connection.close(200, "relay stopping".into()).await;
        }
        if self.checkpoint_due().is_some()
            && let Err(error) = self.save_checkpoint().await
        {
            tracing::warn!(%error, "relay could not save its checkpoint on the way out; it will publish again from the last one");
        }
        drop(lock);
    }
}
