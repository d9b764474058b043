//! The event store keeps postgres-es's tables and snapshot format: aggregates written by the `CommandBus`
//! load through postgres-es's own event store, and the other way round.

use chrono::Utc;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{CqrsFramework, EventStore};
use domain::cart::{Cart, CartCommand, ProductSnapshot};
use domain::{Currency, Money, ProductId, Quantity, Sku};
use eventstore::testing::fresh_database;
use eventstore::{CommandBus, CommandMetadata};
use postgres_es::PostgresEventRepository;
use uuid::Uuid;

fn add(product: u128) -> CartCommand {
    CartCommand::AddItem {
        product: ProductSnapshot {
            product_id: ProductId::new(Uuid::from_u128(product)),
            sku: Sku::parse(&format!("SKU-{product}")).unwrap(),
            name: format!("Product {product}"),
            unit_price: Money::new(100, Currency::parse("EUR").unwrap()).unwrap(),
            discontinued: false,
        },
        quantity: Quantity::new(1).unwrap(),
        at: Utc::now(),
    }
}

#[tokio::test]
async fn what_the_bus_writes_postgres_es_reads_and_the_other_way_round() {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    // 25 events: a snapshot at 20 and five events after it.
    for product in 0..25 {
        bus.execute::<Cart>("cart-1", add(product), &CommandMetadata::new_chain(), None)
            .await
            .unwrap();
    }
    let theirs = PersistedEventStore::<_, Cart>::new_snapshot_store(
        PostgresEventRepository::new(pool.clone()),
        20,
    );
    let mut context = theirs.load_aggregate("cart-1").await.unwrap();
    assert_eq!(context.current_sequence, 25);
    assert_eq!(context.aggregate.lines().len(), 25);
    let (ours, version) = bus.load::<Cart>("cart-1").await.unwrap();
    assert_eq!(
        (&ours, version),
        (&std::mem::take(&mut context.aggregate), 25)
    );

    // postgres-es appends; the bus loads and continues.
    let framework = CqrsFramework::new(
        PersistedEventStore::<_, Cart>::new_event_store(PostgresEventRepository::new(pool.clone())),
        vec![],
        (),
    );
    framework.execute("cart-2", add(1)).await.unwrap();
    let executed = bus
        .execute::<Cart>("cart-2", add(2), &CommandMetadata::new_chain(), Some(1))
        .await
        .unwrap();
    assert_eq!(executed.version, 2);
    let audit = eventstore::audit::verify(&pool).await.unwrap();
    assert!(audit.ok, "{audit:?}");
}
