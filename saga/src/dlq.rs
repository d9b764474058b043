//! Parked messages: listing them and putting them back on their queue (`shop dlq list|requeue`).

use lapin::Confirmation;
use lapin::options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::AMQPValue;

use crate::Broker;
use crate::topology::{SAGA, SAGA_BINDINGS, declare};

/// A parked message as `shop dlq list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parked {
    pub message_id: String,
    pub routing_key: String,
    pub attempts: i64,
    pub last_error: String,
    pub body: String,
}

/// Reads every parked message without removing it: they are taken unacknowledged and go back to the queue
/// when the channel closes.
pub async fn list(broker: &Broker) -> Result<Vec<Parked>, lapin::Error> {
    let connection = broker.connect().await?;
    let channel = connection.create_channel().await?;
    let queues = declare(&channel, broker, SAGA, &SAGA_BINDINGS).await?;
    let mut parked = Vec::new();
    while let Some(message) = channel
        .basic_get(queues.parked.as_str().into(), BasicGetOptions::default())
        .await?
    {
        let delivery = &message.delivery;
        let header = |name: &str| {
            delivery
                .properties
                .headers()
                .as_ref()
                .and_then(|h| h.inner().get(name).cloned())
        };
        parked.push(Parked {
            message_id: delivery
                .properties
                .message_id()
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_default(),
            routing_key: delivery.routing_key.to_string(),
            attempts: match header("x-attempt") {
                Some(AMQPValue::LongLongInt(n)) => n,
                _ => 0,
            },
            last_error: match header("x-last-error") {
                Some(AMQPValue::LongString(s)) => s.to_string(),
                _ => String::new(),
            },
            body: String::from_utf8_lossy(&delivery.data)
                .chars()
                .take(200)
                .collect(),
        });
    }
    let _ = channel.close(200, "listed".into()).await;
    let _ = connection.close(200, "listed".into()).await;
    Ok(parked)
}

/// Moves parked messages (one by message id, or all) back to the saga's queue with a fresh attempt count.
/// Returns how many were requeued.
pub async fn requeue(broker: &Broker, message_id: Option<&str>) -> Result<usize, lapin::Error> {
    let connection = broker.connect().await?;
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let queues = declare(&channel, broker, SAGA, &SAGA_BINDINGS).await?;
    let mut requeued = 0;
    while let Some(message) = channel
        .basic_get(queues.parked.as_str().into(), BasicGetOptions::default())
        .await?
    {
        let delivery = &message.delivery;
        let id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_default();
        if message_id.is_some_and(|wanted| wanted != id) {
            continue;
        }
        let mut headers = delivery.properties.headers().clone().unwrap_or_default();
        headers.insert("x-attempt".into(), AMQPValue::LongLongInt(0));
        let properties = delivery.properties.clone().with_headers(headers);
        let confirm = channel
            .basic_publish(
                "".into(),
                queues.main.as_str().into(),
                BasicPublishOptions::default(),
                &delivery.data,
                properties,
            )
            .await?
            .await?;
        if matches!(confirm, Confirmation::Ack(_)) {
            delivery.ack(BasicAckOptions::default()).await?;
            requeued += 1;
        }
    }
    let _ = channel.close(200, "requeued".into()).await;
    let _ = connection.close(200, "requeued".into()).await;
    Ok(requeued)
}
