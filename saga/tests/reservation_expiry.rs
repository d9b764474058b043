//! Durable reservation expiries against the real PostgreSQL: a hold left open past its time is released
//! by the sweeper; a committed hold's expiry records nothing; an expiry not yet due waits.

use chrono::{DateTime, Duration, Utc};
use domain::product::{Product, ProductCommand};
use domain::{Currency, Money, OrderId, ProductId, Quantity, Sku};
use eventstore::testing::fresh_database;
use eventstore::{CommandBus, CommandMetadata};
use saga::checkout::expire_reservations;
use saga::timers;
use uuid::Uuid;

async fn product_with_stock(bus: &CommandBus, stock: u32) -> String {
    let id = Uuid::now_v7();
    let create = ProductCommand::Create {
        product_id: ProductId::new(id),
        sku: Sku::parse(&format!("EXP-{}", &id.simple().to_string()[20..])).unwrap(),
        name: "Hourglass".to_owned(),
        description: "Runs out.".to_owned(),
        category: "Time".to_owned(),
        price: Money::new(1500, Currency::EUR).unwrap(),
        stock,
        at: Utc::now(),
    };
    let id = id.to_string();
    bus.execute::<Product>(&id, create, &CommandMetadata::new_chain(), None)
        .await
        .unwrap();
    id
}

async fn hold(
    bus: &CommandBus,
    product: &str,
    order: OrderId,
    quantity: i64,
    expires_at: DateTime<Utc>,
) {
    timers::arm(
        bus.pool(),
        &order.to_string(),
        None,
        &[product.to_owned()],
        expires_at,
    )
    .await
    .unwrap();
    let reserve = ProductCommand::Reserve {
        order_id: order,
        quantity: Quantity::new(quantity).unwrap(),
        expires_at,
        at: Utc::now(),
    };
    bus.execute::<Product>(product, reserve, &CommandMetadata::new_chain(), None)
        .await
        .unwrap();
}

async fn available(bus: &CommandBus, product: &str) -> u32 {
    bus.load::<Product>(product).await.unwrap().0.available()
}

async fn pending_expiries(bus: &CommandBus) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM reservation_expiries")
        .fetch_one(bus.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_lapsed_hold_is_released_and_a_committed_one_is_left_alone() {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let product = product_with_stock(&bus, 10).await;
    let (abandoned, paid, later) = (
        OrderId::new(Uuid::now_v7()),
        OrderId::new(Uuid::now_v7()),
        OrderId::new(Uuid::now_v7()),
    );
    // The sweeper is handed the time: no test waits for a hold to lapse.
    let start = Utc::now();
    let (soon, after_that) = (start + Duration::minutes(1), start + Duration::minutes(2));
    hold(&bus, &product, abandoned, 3, soon).await;
    hold(&bus, &product, paid, 2, soon).await;
    hold(&bus, &product, later, 1, start + Duration::minutes(15)).await;
    let commit = ProductCommand::CommitReservation {
        order_id: paid,
        at: Utc::now(),
    };
    bus.execute::<Product>(&product, commit, &CommandMetadata::new_chain(), None)
        .await
        .unwrap();
    assert_eq!(available(&bus, &product).await, 4);
    // Before their time nothing is released.
    assert_eq!(expire_reservations(&bus, &pool, start).await.unwrap(), 0);

    // Two minutes on, two holds have lapsed.
    assert_eq!(
        expire_reservations(&bus, &pool, after_that).await.unwrap(),
        2
    );
    // The abandoned hold's 3 units are back; the committed 2 stay sold; the hold not yet due stays.
    assert_eq!(available(&bus, &product).await, 7);
    let released: Vec<String> = sqlx::query_scalar(
        "SELECT payload::text FROM events WHERE aggregate_id = $1 AND event_type = 'ReservationReleased'",
    )
    .bind(&product)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(released.len(), 1, "{released:?}");
    assert!(released[0].contains("expired"), "{released:?}");
    assert_eq!(
        pending_expiries(&bus).await,
        1,
        "only the hold not yet due remains"
    );

    // A second sweep finds nothing due and changes nothing.
    assert_eq!(
        expire_reservations(&bus, &pool, after_that).await.unwrap(),
        0
    );
    assert_eq!(available(&bus, &product).await, 7);
}
