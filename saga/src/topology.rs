//! The RabbitMQ topology, declared idempotently at start-up by every process that uses it.
//!
//! ```text
//! shop.events (topic) ──order.# payment.#──► shop.saga ◄── dead-lettered after its TTL ── shop.saga.retry
//!                                              │ failed handling, with back-off ─────────────────▲
//!                                              └─ after the last retry ──► shop.saga.parked
//! ```

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use crate::Broker;

/// Names of one consumer's queues.
#[derive(Debug, Clone)]
pub struct Queues {
    pub main: String,
    pub retry: String,
    pub parked: String,
}

impl Broker {
    pub fn exchange(&self) -> String {
        format!("{}shop.events", self.prefix)
    }

    pub fn queues(&self, consumer: &str) -> Queues {
        Queues {
            main: format!("{}shop.{consumer}", self.prefix),
            retry: format!("{}shop.{consumer}.retry", self.prefix),
            parked: format!("{}shop.{consumer}.parked", self.prefix),
        }
    }
}

/// The checkout saga's queue and what it listens to.
pub const SAGA: &str = "saga";
pub const SAGA_BINDINGS: [&str; 1] = ["order.*"];

pub async fn declare(
    channel: &Channel,
    broker: &Broker,
    consumer: &str,
    bindings: &[&str],
) -> Result<Queues, lapin::Error> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .exchange_declare(
            broker.exchange().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    let queues = broker.queues(consumer);
    channel
        .queue_declare(queues.main.as_str().into(), durable, FieldTable::default())
        .await?;
    for binding in bindings {
        channel
            .queue_bind(
                queues.main.as_str().into(),
                broker.exchange().into(),
                (*binding).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    // A message waits here for its own expiration (the back-off), then goes back to the main queue.
    let mut retry_arguments = FieldTable::default();
    retry_arguments.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString("".into()),
    );
    retry_arguments.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(queues.main.as_str().into()),
    );
    channel
        .queue_declare(queues.retry.as_str().into(), durable, retry_arguments)
        .await?;
    channel
        .queue_declare(
            queues.parked.as_str().into(),
            durable,
            FieldTable::default(),
        )
        .await?;
    Ok(queues)
}
