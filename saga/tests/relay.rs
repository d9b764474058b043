//! The relay against the real PostgreSQL and RabbitMQ: it saves its checkpoint once events stop coming, and
//! a relay that died before saving publishes again exactly what followed the checkpoint it had saved.

use std::time::Duration;

use chrono::Utc;
use domain::product::{Product, ProductCommand};
use domain::{Currency, Money, ProductId, Sku};
use eventstore::testing::{eventually, fresh_database};
use eventstore::wake::Wakeups;
use eventstore::{Checkpoints, CommandBus, CommandMetadata, Position};
use lapin::options::{QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use saga::Broker;
use saga::relay::{NAME, Relay};
use tokio::sync::watch;
use uuid::Uuid;

mod support;

/// Creates a product; the position of its event.
async fn product_created(bus: &CommandBus) -> Position {
    let id = Uuid::now_v7();
    let create = ProductCommand::Create {
        product_id: ProductId::new(id),
        sku: Sku::parse(&format!("REL-{}", &id.simple().to_string()[20..])).unwrap(),
        name: "Lantern".to_owned(),
        description: "Carries the light on.".to_owned(),
        category: "Light".to_owned(),
        price: Money::new(1200, Currency::EUR).unwrap(),
        stock: 1,
        at: Utc::now(),
    };
    bus.execute::<Product>(&id.to_string(), create, &CommandMetadata::new_chain(), None)
        .await
        .unwrap()
        .position
        .unwrap()
}

/// Runs a relay until the returned sender says stop.
fn relay(
    pool: &eventstore::db::PgPool,
    broker: &Broker,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopping) = watch::channel(false);
    let wakeups = Wakeups::start(pool.clone(), None, Duration::from_millis(20));
    let task = tokio::spawn(Relay::new(pool.clone(), broker.clone()).run(wakeups, stopping));
    (stop, task)
}

#[tokio::test]
async fn the_checkpoint_is_saved_once_events_stop_and_a_relay_that_died_publishes_again_what_followed_it()
 {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let checkpoints = Checkpoints::new(pool.clone());
    let (broker, _connection, channel) = support::broker_with_saga_queues().await;
    // Every product event, counted in a queue of the test's own.
    let products = format!("{}products", broker.prefix);
    channel
        .queue_declare(
            products.as_str().into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            products.as_str().into(),
            broker.exchange().into(),
            "product.*".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();

    let first = product_created(&bus).await;
    let (stop, task) = relay(&pool, &broker);
    let mut last = first;
    for _ in 0..4 {
        last = product_created(&bus).await;
    }
    eventually(
        "every event published",
        Duration::from_secs(10),
        async || (support::waiting(&channel, &products).await == 5).then_some(()),
    )
    .await;
    eventually(
        "the checkpoint saved once no event came",
        Duration::from_secs(10),
        async || (checkpoints.load(NAME).await.unwrap() == last).then_some(()),
    )
    .await;
    stop.send(true).unwrap();
    task.await.unwrap();

    // A relay that died after publishing the last four events, before saving them as its checkpoint.
    checkpoints.save(NAME, first).await.unwrap();
    let (stop, task) = relay(&pool, &broker);
    eventually(
        "the four events after the checkpoint published again",
        Duration::from_secs(10),
        async || (checkpoints.load(NAME).await.unwrap() == last).then_some(()),
    )
    .await;
    stop.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(support::waiting(&channel, &products).await, 5 + 4);

    support::delete_queues(&channel, &broker, &[products]).await;
}
