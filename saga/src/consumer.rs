//! A queue consumer with manual acks. A message whose handling fails transiently goes to the retry queue with
//! a growing expiration, from where RabbitMQ dead-letters it back to the main queue; after the last attempt it
//! is parked. A message that can never be handled is parked at once. A message delivered again (RabbitMQ's
//! redelivery, or a retry) that was already handled (by event id) is acknowledged without handling it again;
//! a first delivery is handled without looking.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use eventstore::db::PgPool;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Confirmation};
use tokio::sync::watch;
use tracing::Instrument;

use crate::Broker;
use crate::message::EventMessage;
pub use crate::message::HandlerError;
use crate::topology::{Queues, declare};

/// Attempts before a message is parked.
pub const MAX_ATTEMPTS: i64 = 5;
/// Messages handled at once per consumer process.
const PREFETCH: u16 = 32;
const ATTEMPT_HEADER: &str = "x-attempt";

/// What a consumer does with one event. An event it does not react to is `Ok`: acknowledged and forgotten,
/// so that new event types never fill the parked queue.
pub trait Handler: Send + Sync + 'static {
    /// Whether `message` asks anything of this handler. One that does not is acknowledged unread, without
    /// looking up or recording it as handled (two statements per message saved).
    fn wants(&self, _message: &EventMessage) -> bool {
        true
    }

    fn handle(
        &self,
        message: EventMessage,
        arrival: Arrival,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Whether a message may have been handled before, as far as the broker can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Its first delivery. Still possibly a copy: the relay publishes again what followed its last checkpoint
    /// after a crash, and such a copy comes as a first delivery too.
    First,
    /// Delivered again by RabbitMQ (a consumer left before acknowledging it), or back from the retries.
    Again,
}

fn attempt(delivery: &Delivery) -> i64 {
    attempt_in(delivery.properties.headers().as_ref())
}

/// The attempts a message's headers count, held to `0..=MAX_ATTEMPTS`: a header anyone could have set
/// (−1, `i64::MAX`) can neither overflow the next count nor skip the retries.
fn attempt_in(headers: Option<&FieldTable>) -> i64 {
    headers
        .and_then(|h| h.inner().get(ATTEMPT_HEADER))
        .and_then(|v| match v {
            AMQPValue::LongLongInt(n) => Some(*n),
            AMQPValue::LongInt(n) => Some(i64::from(*n)),
            _ => None,
        })
        .unwrap_or(0)
        .clamp(0, MAX_ATTEMPTS)
}

/// How `delivery` arrived: again when it may repeat one that was handled already (RabbitMQ delivers it
/// again, a consumer having left before acknowledging it, or it comes back from the retry queue). Only these
/// are looked up in the ledger, a statement spared on every other message. A copy the relay published twice (it died between publishing and
/// saving its checkpoint) comes as a first delivery and is handled again: every handler is idempotent (the
/// saga's first append proves its checkout new, the notifier finds its notification recorded).
fn arrival(delivery: &Delivery) -> Arrival {
    if delivery.redelivered || attempt(delivery) > 0 {
        Arrival::Again
    } else {
        Arrival::First
    }
}

async fn already_handled(pool: &PgPool, consumer: &str, message: &EventMessage) -> bool {
    sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM saga_handled WHERE consumer = $1 AND event_id = $2)",
    )
    .bind(consumer)
    .bind(message.event_id)
    .fetch_one(pool)
    .await
    .unwrap_or(false)
}

async fn mark_handled(pool: &PgPool, consumer: &str, message: &EventMessage) {
    let marked = sqlx::query(
        "INSERT INTO saga_handled (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(message.event_id)
    .execute(pool)
    .await;
    if let Err(error) = marked {
        // Harmless: a redelivery will be handled again, and handling is idempotent.
        tracing::warn!(%error, "could not record a handled message");
    }
}

/// Whether a message that failed with `error` on its `attempt`th delivery goes to the parked queue. Retrying a
/// permanent failure would only delay it.
fn parks(error: &HandlerError, attempt: i64) -> bool {
    matches!(error, HandlerError::Permanent(_)) || attempt >= MAX_ATTEMPTS
}

/// Sends a failed message on to the retry queue (with back-off) or, when it is permanent or after the last
/// attempt, to the parked queue; waits for RabbitMQ's confirm before the original is acknowledged.
async fn retry_or_park(
    retry_base: std::time::Duration,
    publisher: &Channel,
    queues: &Queues,
    consumer: &str,
    delivery: &Delivery,
    error: &HandlerError,
) -> Result<(), String> {
    let next = attempt(delivery) + 1;
    let park = parks(error, next);
    let mut headers = delivery.properties.headers().clone().unwrap_or_default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongLongInt(next));
    let error: String = error.to_string().chars().take(500).collect();
    headers.insert(
        "x-last-error".into(),
        AMQPValue::LongString(error.as_str().into()),
    );
    let mut properties = delivery
        .properties
        .clone()
        .with_headers(headers)
        .with_delivery_mode(2);
    let target = if park {
        metrics::counter!("shop_messages_parked_total", "queue" => consumer.to_owned())
            .increment(1);
        metrics::counter!("shop_messages_consumed_total", "queue" => consumer.to_owned(), "outcome" => "park")
            .increment(1);
        tracing::error!(consumer, attempts = next, %error, "message parked");
        &queues.parked
    } else {
        let backoff = retry_base.as_millis() as u64 * 4u64.pow(next as u32 - 1);
        properties = properties.with_expiration(backoff.to_string().into());
        metrics::counter!("shop_messages_retried_total", "queue" => consumer.to_owned())
            .increment(1);
        metrics::counter!("shop_messages_consumed_total", "queue" => consumer.to_owned(), "outcome" => "retry")
            .increment(1);
        tracing::warn!(consumer, attempt = next, %error, retry_in_ms = backoff, "message will be retried");
        &queues.retry
    };
    let confirm = publisher
        .basic_publish(
            "".into(),
            target.as_str().into(),
            BasicPublishOptions::default(),
            &delivery.data,
            properties,
        )
        .await
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    match confirm {
        Confirmation::Ack(_) => Ok(()),
        _ => Err("RabbitMQ did not confirm the retry".to_owned()),
    }
}

/// Handles one delivery inside a span that names the message and the request behind it, so that every log
/// line about it carries its correlation and request ids.
async fn process<H: Handler>(
    retry_base: std::time::Duration,
    delivery: Delivery,
    handler: Arc<H>,
    pool: PgPool,
    publisher: Channel,
    queues: Queues,
    consumer: String,
) {
    let parsed = serde_json::from_slice::<EventMessage>(&delivery.data);
    let message = parsed.as_ref().ok();
    let span = tracing::info_span!(
        "message",
        consumer = %consumer,
        message_id = delivery.properties.message_id().as_ref().map(|id| id.as_str()),
        event_type = message.map(|m| m.routing_key()),
        correlation_id = message.and_then(EventMessage::correlation_id),
        request_id = message.and_then(EventMessage::request_id),
    );
    settle(
        retry_base, delivery, parsed, handler, pool, publisher, queues, consumer,
    )
    .instrument(span)
    .await;
}

#[allow(clippy::too_many_arguments)]
async fn settle<H: Handler>(
    retry_base: std::time::Duration,
    delivery: Delivery,
    parsed: Result<EventMessage, serde_json::Error>,
    handler: Arc<H>,
    pool: PgPool,
    publisher: Channel,
    queues: Queues,
    consumer: String,
) {
    let arrival = arrival(&delivery);
    let outcome = match parsed {
        // Not even an envelope: nothing says which event it was meant to be, so it takes the ordinary retries
        // before it is parked, as before. Only a known event whose payload does not decode is surely permanent.
        Err(error) => Err(HandlerError::Transient(format!(
            "not an event message: {error}"
        ))),
        Ok(message) if !handler.wants(&message) => {
            tracing::debug!("message not for this consumer; acknowledged");
            Ok(None)
        }
        Ok(message)
            if arrival == Arrival::Again && already_handled(&pool, &consumer, &message).await =>
        {
            tracing::debug!("message already handled; acknowledged");
            Ok(None)
        }
        Ok(message) => handler
            .handle(message.clone(), arrival)
            .await
            .map(|()| Some(message)),
    };
    let result = match outcome {
        Ok(handled) => {
            if let Some(message) = handled {
                mark_handled(&pool, &consumer, &message).await;
                tracing::debug!("message handled");
            }
            metrics::counter!("shop_messages_consumed_total", "queue" => consumer.clone(), "outcome" => "ack").increment(1);
            delivery.ack(BasicAckOptions::default()).await.map(|_| ())
        }
        Err(error) => {
            match retry_or_park(
                retry_base, &publisher, &queues, &consumer, &delivery, &error,
            )
            .await
            {
                Ok(()) => delivery.ack(BasicAckOptions::default()).await.map(|_| ()),
                // Not acknowledged: RabbitMQ delivers it again once this channel is gone.
                Err(e) => {
                    tracing::warn!(error = %e, consumer, "could not retry or park a message");
                    Ok(())
                }
            }
        }
    };
    if let Err(error) = result.map_err(|e| e.to_string()) {
        tracing::warn!(%error, consumer, "could not settle a message; it will be redelivered");
    }
}

/// Consumes `consumer`'s queue until `shutdown`, reconnecting with back-off when RabbitMQ goes away.
pub async fn run<H: Handler>(
    broker: Broker,
    consumer: &'static str,
    bindings: &'static [&'static str],
    handler: Arc<H>,
    pool: PgPool,
    mut shutdown: watch::Receiver<bool>,
) {
    // Every series this consumer may report exists from the start, at zero.
    for outcome in ["ack", "retry", "park"] {
        metrics::counter!("shop_messages_consumed_total", "queue" => consumer, "outcome" => outcome)
            .increment(0);
    }
    metrics::counter!("shop_messages_retried_total", "queue" => consumer).increment(0);
    metrics::counter!("shop_messages_parked_total", "queue" => consumer).increment(0);
    let mut backoff = Duration::from_millis(200);
    while !*shutdown.borrow() {
        let session = async {
            let connection = broker.connect().await?;
            let channel = connection.create_channel().await?;
            let queues = declare(&channel, &broker, consumer, bindings).await?;
            channel
                .basic_qos(PREFETCH, BasicQosOptions::default())
                .await?;
            let publisher = connection.create_channel().await?;
            publisher
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            let deliveries = channel
                .basic_consume(
                    queues.main.as_str().into(),
                    format!("{consumer}-{}", uuid::Uuid::now_v7()).into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            Ok::<_, lapin::Error>((connection, channel, publisher, queues, deliveries))
        };
        let (connection, _channel, publisher, queues, mut deliveries) = match session.await {
            Ok(session) => session,
            Err(error) => {
                tracing::warn!(%error, consumer, retry_in = ?backoff, "cannot consume from RabbitMQ");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {},
                    _ = shutdown.changed() => {},
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        tracing::info!(consumer, queue = %queues.main, "consuming");
        let depth = tokio::spawn(report_parked(
            publisher.clone(),
            queues.parked.clone(),
            consumer,
        ));
        loop {
            let next = tokio::select! {
                next = deliveries.next() => next,
                _ = shutdown.changed() => None,
            };
            match next {
                Some(Ok(delivery)) => {
                    tokio::spawn(process(
                        broker.retry_base,
                        delivery,
                        handler.clone(),
                        pool.clone(),
                        publisher.clone(),
                        queues.clone(),
                        consumer.to_owned(),
                    ));
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, consumer, "consumer lost its connection; reconnecting");
                    break;
                }
                None => break,
            }
        }
        depth.abort();
        let _ = connection.close(200, "consumer stopping".into()).await;
    }
}

/// Reports how many messages wait in the parked queue, every ten seconds while the channel is open.
async fn report_parked(channel: Channel, parked: String, consumer: &'static str) {
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    loop {
        match channel
            .queue_declare(parked.as_str().into(), durable, FieldTable::default())
            .await
        {
            Ok(queue) => {
                metrics::gauge!("shop_messages_parked", "queue" => consumer)
                    .set(f64::from(queue.message_count()));
            }
            Err(_) => return,
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_header_out_of_range_is_held_to_the_retries() {
        let with = |value: AMQPValue| {
            let mut headers = FieldTable::default();
            headers.insert(ATTEMPT_HEADER.into(), value);
            attempt_in(Some(&headers))
        };
        assert_eq!(with(AMQPValue::LongLongInt(-1)), 0);
        assert_eq!(with(AMQPValue::LongLongInt(i64::MAX)), MAX_ATTEMPTS);
        assert_eq!(with(AMQPValue::LongInt(i32::MIN)), 0);
        assert_eq!(with(AMQPValue::LongLongInt(2)), 2);
        assert_eq!(attempt_in(None), 0);
        assert_eq!(with(AMQPValue::LongLongInt(i64::MAX)) + 1, MAX_ATTEMPTS + 1);
    }

    #[test]
    fn a_permanent_failure_is_parked_on_its_first_attempt() {
        assert!(parks(&HandlerError::Permanent("unreadable".into()), 1));
    }

    #[test]
    fn a_transient_failure_is_retried_until_the_last_attempt_then_parked() {
        let busy = HandlerError::Transient("store unavailable".into());
        assert!((1..MAX_ATTEMPTS).all(|attempt| !parks(&busy, attempt)));
        assert!(parks(&busy, MAX_ATTEMPTS));
    }
}
