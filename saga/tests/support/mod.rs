//! What the saga's tests against the real RabbitMQ share: a broker under names of their own, with the saga's
//! queues declared, and the cleaning up after them.

use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use saga::Broker;
use saga::topology::{SAGA, SAGA_BINDINGS, declare};
use uuid::Uuid;

/// A broker whose names no other test uses, connected, with the saga's exchange and queues declared (before
/// anything is published, so that nothing is dropped for want of a queue). A retried message would not come
/// back within a test: parking one never waits for retries.
pub async fn broker_with_saga_queues() -> (Broker, Connection, Channel) {
    let broker = Broker {
        url: std::env::var("AMQP_URL")
            .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned()),
        prefix: format!("test-{}.", Uuid::now_v7().simple()),
        retry_base: Duration::from_secs(600),
    };
    let connection = Connection::connect(&broker.url, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    declare(&channel, &broker, SAGA, &SAGA_BINDINGS)
        .await
        .unwrap();
    (broker, connection, channel)
}

/// How many messages wait in `queue`, ready for a consumer.
pub async fn waiting(channel: &Channel, queue: &str) -> u32 {
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap()
        .message_count()
}

/// Deletes the saga's queues of `broker`, and `others`.
pub async fn delete_queues(channel: &Channel, broker: &Broker, others: &[String]) {
    let queues = broker.queues(SAGA);
    for queue in [queues.main, queues.retry, queues.parked]
        .iter()
        .chain(others)
    {
        let _ = channel
            .queue_delete(queue.as_str().into(), Default::default())
            .await;
    }
}
