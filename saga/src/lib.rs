//! The checkout saga and its messaging: the relay that publishes the event log to RabbitMQ, the process
//! manager that drives order → stock → payment → confirmation (with compensations), the payment gateways,
//! durable timers, and dead-letter operations.
//!
//! # Layout
//!
//! - [`topology`]: exchange, queues, retry and parked queues, declared at start-up.
//! - [`message`]: an event as it travels over RabbitMQ.
//! - [`relay`]: feed → `shop.events`, with publisher confirms, checkpoint after the confirm.
//! - [`consumer`]: a queue consumer with manual acks, retry with back-off, then parking.
//! - [`checkout`]: the checkout process manager: its pure decisions, and the runner that performs them.
//! - [`instances`]: the `shop_saga_instances` gauge, counted from the checkouts' streams.
//! - [`notifier`]: email over SMTP, once per order (or user) and kind, recorded by a `notification` aggregate.
//! - [`gateway`]: the simulated payment gateway (the provider's test cards) and the configured choice.
//! - [`stripe`]: the Stripe adapter (Payment Intents API).
//! - [`timers`]: payment deadlines and the expiries of stock reservations, kept in PostgreSQL.
//! - [`dlq`]: listing and requeueing parked messages.

pub mod checkout;
pub mod consumer;
pub mod dlq;
pub mod gateway;
pub mod instances;
pub mod message;
pub mod notifier;
pub mod relay;
pub mod stripe;
pub mod timers;
pub mod topology;

use chrono::{DateTime, Utc};

/// Where the saga reads the time. `Utc::now` in production; a test passes a clock it moves by hand, so that no
/// test waits for a deadline to pass.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

impl<F: Fn() -> DateTime<Utc> + Send + Sync + 'static> Clock for F {
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

/// How the saga talks to RabbitMQ: the broker, and a prefix for every exchange and queue name so that
/// several environments (or tests) share one broker.
#[derive(Debug, Clone)]
pub struct Broker {
    pub url: String,
    pub prefix: String,
    /// The first retry's delay; each later one waits four times longer.
    pub retry_base: std::time::Duration,
}

impl Broker {
    pub async fn connect(&self) -> Result<lapin::Connection, lapin::Error> {
        lapin::Connection::connect(&self.url, lapin::ConnectionProperties::default()).await
    }

    /// Opens and closes a connection: the broker answers AMQP and accepts our credentials and vhost.
    pub async fn ping(&self) -> Result<(), lapin::Error> {
        self.connect()
            .await?
            .close(200, "readiness check".into())
            .await
    }
}
