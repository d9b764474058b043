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

/// Two processes (two buses on one store) and a cart that each wrote to.
struct Processes {
    pool: sqlx::PgPool,
    first: CommandBus,
    second: CommandBus,
    meta: CommandMetadata,
    cart: String,
}

/// The first process adds item 1 and keeps the cart (version 1) in memory; the second then adds item 2
/// (version 2), which the first has not seen.
async fn a_cart_two_processes_wrote() -> Processes {
    let (pool, _) = fresh_database().await;
    let first = CommandBus::new(pool.clone());
    let second = CommandBus::new(pool.clone());
    let meta = CommandMetadata::new_chain();
    let cart = Uuid::now_v7().to_string();
    first
        .execute::<Cart>(&cart, add(1), &meta, None)
        .await
        .unwrap();
    second
        .execute::<Cart>(&cart, add(2), &meta, None)
        .await
        .unwrap();
    Processes {
        pool,
        first,
        second,
        meta,
        cart,
    }
}

#[tokio::test]
async fn a_stale_aggregate_in_memory_never_decides() {
    let Processes {
        pool,
        first,
        second,
        meta,
        cart,
    } = a_cart_two_processes_wrote().await;

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

#[tokio::test]
async fn a_unit_on_its_own_writes_conflicts_when_they_are_stale_and_then_decides_on_the_store() {
    let Processes {
        pool,
        first,
        second,
        meta,
        cart,
    } = a_cart_two_processes_wrote().await;

    // Two commands on the same cart in one unit: the second starts where the first leaves it. Decided on
    // the first process's stale cart (version 1), the commit conflicts and writes nothing.
    let mut unit = first.unit(&meta);
    assert_eq!(unit.decide_own::<Cart>(&cart, add(3)).await.unwrap(), 2);
    assert_eq!(unit.decide_own::<Cart>(&cart, add(4)).await.unwrap(), 3);
    let stale = unit.commit().await;
    assert!(matches!(stale, Err(BusError::Conflict)), "{stale:?}");
    // The failed unit made the bus forget the cart: the same unit again is decided on the store's.
    let mut unit = first.unit(&meta);
    assert_eq!(unit.decide_own::<Cart>(&cart, add(3)).await.unwrap(), 3);
    assert_eq!(unit.decide_own::<Cart>(&cart, add(4)).await.unwrap(), 4);
    unit.commit().await.unwrap();

    // A refusal decided on a stale cart proves nothing: item 5, added by the other process, is removed.
    second
        .execute::<Cart>(&cart, add(5), &meta, None)
        .await
        .unwrap();
    let mut unit = first.unit(&meta);
    assert_eq!(unit.decide_own::<Cart>(&cart, remove(5)).await.unwrap(), 6);
    unit.commit().await.unwrap();

    let (stored, version) = CommandBus::new(pool.clone())
        .load::<Cart>(&cart)
        .await
        .unwrap();
    assert_eq!(version, 6);
    let text = serde_json::to_string(&stored).unwrap();
    let id = |n: u128| Uuid::from_u128(n).to_string();
    for n in 1..=4 {
        assert!(text.contains(&id(n)), "item {n}: {text}");
    }
    assert!(!text.contains(&id(5)), "{text}");
    let audit = eventstore::audit::verify(&pool).await.unwrap();
    assert!(audit.ok, "{audit:?}");
}

#[tokio::test]
async fn a_unit_presuming_an_aggregate_new_commits_only_if_it_is_and_decides_a_refusal_on_the_store()
 {
    let Processes {
        pool,
        first,
        meta,
        cart,
        ..
    } = a_cart_two_processes_wrote().await;

    // A cart nobody wrote: decided on no events, and committed without a read.
    let new = Uuid::now_v7().to_string();
    let mut unit = first.unit(&meta);
    assert_eq!(unit.decide_new::<Cart>(&new, add(1)).await.unwrap(), 1);
    unit.commit().await.unwrap();

    // Carts with events presumed new: their appends at sequence 1 conflict, and nothing is written.
    let mut unit = first.unit(&meta);
    assert_eq!(unit.decide_new::<Cart>(&cart, add(3)).await.unwrap(), 1);
    assert_eq!(unit.decide_new::<Cart>(&new, add(2)).await.unwrap(), 1);
    let presumed = unit.commit().await;
    assert!(matches!(presumed, Err(BusError::Conflict)), "{presumed:?}");

    // Removing an item from no events is a no-op, which proves nothing: decided on the stored cart, it
    // removes the item the other process added.
    let mut unit = first.unit(&meta);
    assert_eq!(unit.decide_new::<Cart>(&cart, remove(2)).await.unwrap(), 3);
    unit.commit().await.unwrap();

    let fresh = CommandBus::new(pool.clone());
    let (stored, version) = fresh.load::<Cart>(&cart).await.unwrap();
    assert_eq!(version, 3);
    let text = serde_json::to_string(&stored).unwrap();
    assert!(!text.contains(&Uuid::from_u128(2).to_string()), "{text}");
    assert!(!text.contains(&Uuid::from_u128(3).to_string()), "{text}");
    assert_eq!(fresh.load::<Cart>(&new).await.unwrap().1, 1);
    let audit = eventstore::audit::verify(&pool).await.unwrap();
    assert!(audit.ok, "{audit:?}");
}

#[tokio::test]
async fn an_aggregate_presumed_new_is_answered_without_a_read_and_an_append_on_it_proves_it() {
    let Processes {
        pool,
        first,
        second,
        meta,
        cart,
    } = a_cart_two_processes_wrote().await;

    // A cart the first process keeps is not presumed new: what it keeps stays.
    first.presume_new::<Cart>(&cart);
    assert_eq!(first.load_own::<Cart>(&cart).await.unwrap().1, 1);

    // A third process keeps nothing of the cart the other two wrote: presumed new, it is answered with no
    // events (a read would have found two), and an append decided on that conflicts and writes nothing.
    let third = CommandBus::new(pool.clone());
    third.presume_new::<Cart>(&cart);
    assert_eq!(third.load_own::<Cart>(&cart).await.unwrap().1, 0);
    let mut unit = third.unit(&meta);
    assert_eq!(unit.decide_own::<Cart>(&cart, add(3)).await.unwrap(), 1);
    let presumed = unit.commit().await;
    assert!(matches!(presumed, Err(BusError::Conflict)), "{presumed:?}");
    // The conflict made it forget the presumption: the store's cart is read and decided on.
    assert_eq!(third.load_own::<Cart>(&cart).await.unwrap().1, 2);
    let mut unit = third.unit(&meta);
    assert_eq!(unit.decide_own::<Cart>(&cart, add(3)).await.unwrap(), 3);
    unit.commit().await.unwrap();

    // A cart that is new: presumed, decided and committed.
    let new = Uuid::now_v7().to_string();
    second.presume_new::<Cart>(&new);
    let mut unit = second.unit(&meta);
    assert_eq!(unit.decide_own::<Cart>(&new, add(1)).await.unwrap(), 1);
    unit.commit().await.unwrap();
    assert_eq!(
        CommandBus::new(pool.clone())
            .load::<Cart>(&new)
            .await
            .unwrap()
            .1,
        1
    );
    let audit = eventstore::audit::verify(&pool).await.unwrap();
    assert!(audit.ok, "{audit:?}");
}
