//! A copy of `OrderPlaced` that the relay published again (it died between publishing and saving its
//! checkpoint) comes as a first delivery, perhaps to a saga process that keeps nothing of the checkout. The
//! saga decides a first delivery of `OrderPlaced` on a checkout and payment presumed new, without reading
//! them (docs/adr/0006): the checkout's first append proves the presumption, and a copy changes nothing.

use std::sync::Arc;

use chrono::Utc;
use domain::order::{Order, OrderCommand, OrderLine};
use domain::product::{Product, ProductCommand};
use domain::{Currency, Money, OrderId, PaymentMethod, ProductId, Quantity, Sku, UserId};
use eventstore::testing::fresh_database;
use eventstore::{CommandBus, CommandMetadata, Feed, Position};
use saga::checkout::CheckoutSaga;
use saga::consumer::{Arrival, Handler};
use saga::gateway::SimulatedGateway;
use saga::message::EventMessage;
use serde_json::json;
use uuid::Uuid;

async fn count(pool: &sqlx::PgPool, event_type: Option<&str>) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE $1::text IS NULL OR event_type = $1")
        .bind(event_type)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_copy_of_order_placed_delivered_first_to_another_saga_process_changes_nothing() {
    let (pool, _) = fresh_database().await;
    let bus = Arc::new(CommandBus::new(pool.clone()));
    let meta = CommandMetadata::new_chain();
    let price = Money::new(2500, Currency::EUR).unwrap();
    let product = ProductId::new(Uuid::now_v7());
    let create = ProductCommand::Create {
        product_id: product,
        sku: Sku::parse("COPY-1").unwrap(),
        name: "Lamp".to_owned(),
        description: "Made for tests".to_owned(),
        category: "Home".to_owned(),
        price,
        stock: 5,
        at: Utc::now(),
    };
    bus.execute::<Product>(&product.to_string(), create, &meta, None)
        .await
        .unwrap();
    let order = OrderId::new(Uuid::now_v7());
    let line = OrderLine::new(
        product,
        Sku::parse("COPY-1").unwrap(),
        "Lamp".to_owned(),
        price,
        Quantity::new(2).unwrap(),
    )
    .unwrap();
    let place = OrderCommand::Place {
        order_id: order,
        user_id: UserId::new(Uuid::now_v7()),
        lines: vec![line],
        shipping_address: serde_json::from_value(json!({
            "name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "DE"
        }))
        .unwrap(),
        payment_method: PaymentMethod::parse("pm_card_visa").unwrap(),
        discount: None,
        at: Utc::now(),
    };
    bus.execute::<Order>(&order.to_string(), place, &meta, None)
        .await
        .unwrap();
    let placed = Feed::new(pool.clone())
        .read_after(Position::START, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|event| event.event_type == "OrderPlaced")
        .unwrap();
    let message = EventMessage::from(&placed);

    // The first delivery takes the checkout all the way (the simulated provider answers at once).
    let saga = CheckoutSaga::new(bus.clone(), Arc::new(SimulatedGateway::new()), pool.clone());
    saga.handle(message.clone(), Arrival::First).await.unwrap();
    assert_eq!(count(&pool, Some("CheckoutCompleted")).await, 1);
    let written = count(&pool, None).await;

    // The copy, as a first delivery, to the same process and to one that keeps nothing of the checkout.
    saga.handle(message.clone(), Arrival::First).await.unwrap();
    let other = CheckoutSaga::new(
        Arc::new(CommandBus::new(pool.clone())),
        Arc::new(SimulatedGateway::new()),
        pool.clone(),
    );
    other
        .handle(message, Arrival::First)
        .await
        .expect("the copy is handled: its presumption conflicts, and the store's checkout has nothing to do");
    assert_eq!(count(&pool, None).await, written, "nothing more appended");
    assert_eq!(
        other.gateway().authorizations(),
        0,
        "the copy asked the payment provider nothing"
    );
    assert_eq!(count(&pool, Some("StockReserved")).await, 1);
    assert_eq!(count(&pool, Some("PaymentAuthorized")).await, 1);
    let audit = eventstore::audit::verify(&pool).await.unwrap();
    assert!(audit.ok, "{audit:?}");
}
