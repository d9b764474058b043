//! The relay: a feed subscriber that publishes every event to the topic exchange, with publisher confirms,
//! and moves its checkpoint only after RabbitMQ confirmed the whole batch. The events table is the outbox:
//! a crash between commit and publish loses nothing, and a crash between publish and checkpoint publishes
//! again, which consumers treat as a redelivery.

use std::time::Duration;

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
    position: Option<Position>,
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
            None => self.checkpoints.load(NAME).await?,
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
        self.checkpoints.save(NAME, last_position).await?;
        self.position = Some(last_position);
        metrics::counter!("shop_messages_published_total", "exchange" => "shop.events")
            .increment(events.len() as u64);
        metrics::counter!("shop_subscriber_events_total", "subscriber" => NAME)
            .increment(events.len() as u64);
        metrics::gauge!("shop_subscriber_checkpoint_position", "subscriber" => NAME)
            .set(last_position.position as f64);
        let behind = (Utc::now() - recorded_at).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::gauge!("shop_subscriber_lag_seconds", "subscriber" => NAME).set(behind);
        Ok(Step::Published(events.len()))
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
                        tokio::select! {
                            () = wakeups.wait() => {},
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
        drop(lock);
    }
}
