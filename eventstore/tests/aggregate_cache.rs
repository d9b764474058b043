//! The bus's in-memory aggregates (docs/adr/0009): two buses on one store stand for two processes. Each
//! keeps the aggregates it wrote; what the other wrote meanwhile must never be lost or ignored.

use chrono::Utc;
use domain::ProductId;
use domain::cart::{Cart, CartCommand, ProductSnapshot};
use domain::{Currency, Money, Quantity, Sku};
use eventstore::testing::fresh_database;
use eventstore::{BusError, CommandBus, CommandMetadata};
use uuid::Uuid;

fn product(n: u128) -> ProductSnapshot {
    ProductSnapshot {
        product_id: ProductId::new(Uuid::from_u128(n)),
        sku: Sku::parse(&format!("SKU-{n}")).unwrap(),
        name: format!("Product {n}"),
        unit_price: Money::new(100, Currency::EUR).unwrap(),
        discontinued: false,
    }
}

fn add(n: u128) -> CartCommand {
    CartCommand::AddItem {
        product: product(n),
        quantity: Quantity::new(1).unwrap(),
        at: Utc::now(),
    }
}

fn remove(n: u128) -> CartCommand {
    CartCommand::RemoveItem {
        product_id: ProductId::new(Uuid::from_u128(n)),
        at: Utc::now(),
    }
}

#[tokio::test]
async fn a_stale_aggregate_in_memory_never_decides() {
    let (pool, _) = fresh_database().await;
    let first = CommandBus::new(pool.clone());
    let second = CommandBus::new(pool.clone());
    let meta = CommandMetadata::new_chain();
    let cart = Uuid::now_v7().to_string();

    // The first process adds item 1 and keeps the cart (version 1) in memory.
    first
        .execute::<Cart>(&cart, add(1), &meta, None)
        .await
        .unwrap();
    // The second adds item 2 (version 2), which the first has not seen.
    second
        .execute::<Cart>(&cart, add(2), &meta, None)
        .await
        .unwrap();

    // A refusal decided on the stale cart (item 2 absent) is decided again on the store's: accepted.
    let removed = first
        .execute::<Cart>(&cart, remove(2), &meta, None)
        .await
        .unwrap();
    assert_eq!(removed.version, 3);
    // An append from a stale cart meets the optimistic lock and is decided again: item 1 is gone in the
    // store (removed by the second process), so removing it again is refused, not appended.
    second
        .execute::<Cart>(&cart, remove(1), &meta, None)
        .await
        .unwrap();
    let refused = first.execute::<Cart>(&cart, remove(1), &meta, None).await;
    assert!(matches!(refused, Err(BusError::Rejected(_))), "{refused:?}");
    // If-Match is checked against the store's version, not a stale one in memory.
    let (_, version) = second.load::<Cart>(&cart).await.unwrap();
    assert_eq!(version, 4);
    first
        .execute::<Cart>(&cart, add(3), &meta, Some(version))
        .await
        .unwrap();

    let (stored, version) = CommandBus::new(pool.clone())
        .load::<Cart>(&cart)
        .await
        .unwrap();
    assert_eq!(version, 5);
    let text = serde_json::to_string(&stored).unwrap();
    let id = |n: u128| Uuid::from_u128(n).to_string();
    assert!(text.contains(&id(3)), "{text}");
    assert!(!text.contains(&id(1)) && !text.contains(&id(2)), "{text}");
    let audit = eventstore::audit::verify(&pool).await.unwrap();
    assert!(audit.ok, "{audit:?}");
}
