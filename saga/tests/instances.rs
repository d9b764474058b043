//! The `shop_saga_instances` count against the real PostgreSQL: each checkout counts once, in the state its
//! last event led to.

use chrono::Utc;
use domain::checkout::{Checkout, CheckoutCommand, CheckoutState, ReservedLine};
use domain::order::CancellationReason;
use domain::{Currency, Money, OrderId, PaymentMethod, ProductId};
use eventstore::testing::fresh_database;
use eventstore::{CommandBus, CommandMetadata};
use saga::instances::count;
use uuid::Uuid;

/// Starts a checkout and takes it through `then`.
async fn checkout(bus: &CommandBus, then: Vec<CheckoutCommand>) {
    let order_id = OrderId::new(Uuid::now_v7());
    let start = CheckoutCommand::Start {
        promotion: None,
        order_id,
        lines: vec![ReservedLine {
            product_id: ProductId::new(Uuid::now_v7()),
            quantity: 1,
        }],
        amount: Money::new(1500, Currency::EUR).unwrap(),
        method: PaymentMethod::parse("pm_card_visa").unwrap(),
        payment_deadline: Utc::now(),
        at: Utc::now(),
    };
    for command in std::iter::once(start).chain(then) {
        bus.execute::<Checkout>(
            &order_id.to_string(),
            command,
            &CommandMetadata::new_chain(),
            None,
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn each_checkout_is_counted_once_in_the_state_of_its_last_event() {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    assert!(count(&pool).await.unwrap().is_empty());

    let at = Utc::now();
    let reserved = CheckoutCommand::RecordStockReserved { at };
    let captured = CheckoutCommand::RecordPaymentCaptured {
        gateway_reference: "pi_1".to_owned(),
        at,
    };
    let fail = CheckoutCommand::Fail {
        reason: CancellationReason::CancelledByCustomer,
        at,
    };
    checkout(&bus, vec![]).await;
    checkout(&bus, vec![reserved.clone()]).await;
    checkout(&bus, vec![reserved.clone()]).await;
    checkout(
        &bus,
        vec![
            reserved.clone(),
            captured.clone(),
            CheckoutCommand::Complete { at },
        ],
    )
    .await;
    checkout(
        &bus,
        vec![
            reserved,
            captured,
            CheckoutCommand::Complete { at },
            fail.clone(),
            CheckoutCommand::RecordCompensated { refunded: true, at },
        ],
    )
    .await;
    checkout(&bus, vec![fail]).await;

    let counts = count(&pool).await.unwrap();
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        vec![
            (CheckoutState::Started, 1),
            (CheckoutState::StockReserved, 2),
            (CheckoutState::Completed, 1),
            (CheckoutState::Failed, 1),
            (CheckoutState::Compensated, 1),
        ]
    );
}
