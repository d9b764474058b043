use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};

use super::*;
use crate::{Currency, Money, OrderId, ProductId, Quantity, Refusal, RuleViolation, Sku};

type ProductTest = TestFramework<Product>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

fn expires() -> DateTime<Utc> {
    at() + Duration::minutes(15)
}

fn product_id() -> ProductId {
    "0190a5b2-7c3e-7d4f-8a6b-000000000010".parse().unwrap()
}

fn order(n: u8) -> OrderId {
    format!("0190a5b2-7c3e-7d4f-8a6b-0000000001{n:02}")
        .parse()
        .unwrap()
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR).unwrap()
}

fn qty(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn create(name: &str, description: &str, category: &str) -> ProductCommand {
    ProductCommand::Create {
        product_id: product_id(),
        sku: Sku::parse("MUG-1").unwrap(),
        name: name.to_owned(),
        description: description.to_owned(),
        category: category.to_owned(),
        price: eur(1299),
        stock: 10,
        at: at(),
    }
}

fn created(stock: u32) -> ProductEvent {
    ProductEvent::ProductCreated {
        product_id: product_id(),
        sku: Sku::parse("MUG-1").unwrap(),
        name: "Blue mug".to_owned(),
        description: "Holds tea.".to_owned(),
        category: "Kitchen".to_owned(),
        price: eur(1299),
        stock,
        created_at: at(),
    }
}

fn reserved(order_id: OrderId, quantity: u32, available: u32) -> ProductEvent {
    ProductEvent::StockReserved {
        order_id,
        quantity,
        expires_at: expires(),
        available,
        reserved_at: at(),
    }
}

fn committed(order_id: OrderId, quantity: u32, on_hand: u32, available: u32) -> ProductEvent {
    ProductEvent::ReservationCommitted {
        order_id,
        quantity,
        on_hand,
        available,
        committed_at: at(),
    }
}

fn released(order_id: OrderId, quantity: u32, on_hand: u32, available: u32) -> ProductEvent {
    ProductEvent::ReservationReleased {
        order_id,
        quantity,
        reason: ReleaseReason::OrderCancelled,
        returned_to_stock: false,
        on_hand,
        available,
        released_at: at(),
    }
}

fn update(
    name: Option<&str>,
    description: Option<&str>,
    category: Option<&str>,
    price: Option<Money>,
) -> ProductCommand {
    ProductCommand::UpdateDetails {
        name: name.map(str::to_owned),
        description: description.map(str::to_owned),
        category: category.map(str::to_owned),
        price,
        at: at(),
    }
}

fn adjust(delta: i64) -> ProductCommand {
    ProductCommand::AdjustStock { delta, at: at() }
}

fn reserve(order_id: OrderId, quantity: i64) -> ProductCommand {
    ProductCommand::Reserve {
        order_id,
        quantity: qty(quantity),
        expires_at: expires(),
        at: at(),
    }
}

fn commit(order_id: OrderId) -> ProductCommand {
    ProductCommand::CommitReservation { order_id, at: at() }
}

fn release(order_id: OrderId) -> ProductCommand {
    ProductCommand::ReleaseReservation {
        order_id,
        reason: ReleaseReason::OrderCancelled,
        at: at(),
    }
}

fn expire(order_id: OrderId, now: DateTime<Utc>) -> ProductCommand {
    ProductCommand::ExpireReservation { order_id, now }
}

// --- Create ---

#[test]
fn it_should_create_a_product() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(create(" Blue mug ", "Holds tea. ", " Kitchen"))
        .then_expect_events(vec![created(10)]);
}

#[test]
fn it_should_allow_a_product_without_a_description() {
    let result = ProductTest::with(())
        .given_no_previous_events()
        .when(create("Blue mug", "", "Kitchen"))
        .inspect_result()
        .unwrap();
    assert!(matches!(
        &result[..],
        [ProductEvent::ProductCreated { description, .. }] if description.is_empty()
    ));
}

#[test]
fn it_should_refuse_to_create_a_product_twice() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(create("Blue mug", "Holds tea.", "Kitchen"))
        .then_expect_error(ProductError::AlreadyCreated);
}

#[test]
fn it_should_refuse_to_create_a_product_with_an_empty_name() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(create("  ", "Holds tea.", "Kitchen"))
        .then_expect_error(ProductError::InvalidName);
}

#[test]
fn it_should_refuse_to_create_a_product_with_a_name_longer_than_200_characters() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(create(&"n".repeat(MAX_NAME_CHARS + 1), "", "Kitchen"))
        .then_expect_error(ProductError::InvalidName);
}

#[test]
fn it_should_refuse_to_create_a_product_with_a_description_longer_than_5000_characters() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(create(
            "Blue mug",
            &"d".repeat(MAX_DESCRIPTION_CHARS + 1),
            "Kitchen",
        ))
        .then_expect_error(ProductError::InvalidDescription);
}

#[test]
fn it_should_refuse_to_create_a_product_without_a_category() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(create("Blue mug", "", ""))
        .then_expect_error(ProductError::InvalidCategory);
}

#[test]
fn it_should_refuse_to_create_a_product_with_a_category_longer_than_100_characters() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(create("Blue mug", "", &"c".repeat(MAX_CATEGORY_CHARS + 1)))
        .then_expect_error(ProductError::InvalidCategory);
}

// --- UpdateDetails ---

#[test]
fn it_should_update_only_the_details_given() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(update(Some(" Big blue mug "), None, None, Some(eur(1499))))
        .then_expect_events(vec![ProductEvent::ProductDetailsUpdated {
            name: Some("Big blue mug".to_owned()),
            description: None,
            category: None,
            price: Some(eur(1499)),
            updated_at: at(),
        }]);
}

#[test]
fn it_should_refuse_to_update_a_product_that_does_not_exist() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(update(Some("Mug"), None, None, None))
        .then_expect_error(ProductError::NotFound);
}

#[test]
fn it_should_refuse_an_update_that_changes_nothing() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(update(None, None, None, None))
        .then_expect_error(ProductError::NothingToUpdate);
}

#[test]
fn it_should_refuse_to_change_the_currency_of_the_price() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(update(
            None,
            None,
            None,
            Some(Money::new(1299, Currency::USD).unwrap()),
        ))
        .then_expect_error(ProductError::CurrencyChange);
}

#[test]
fn it_should_refuse_to_update_to_an_empty_name() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(update(Some(" "), None, None, None))
        .then_expect_error(ProductError::InvalidName);
}

#[test]
fn it_should_refuse_to_update_to_a_description_that_is_too_long() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(update(
            None,
            Some(&"d".repeat(MAX_DESCRIPTION_CHARS + 1)),
            None,
            None,
        ))
        .then_expect_error(ProductError::InvalidDescription);
}

#[test]
fn it_should_refuse_to_update_to_an_empty_category() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(update(None, None, Some(""), None))
        .then_expect_error(ProductError::InvalidCategory);
}

// --- AdjustStock ---

#[test]
fn it_should_add_delivered_units_to_the_stock() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(adjust(5))
        .then_expect_events(vec![ProductEvent::StockAdjusted {
            delta: 5,
            on_hand: 15,
            available: 11,
            adjusted_at: at(),
        }]);
}

#[test]
fn it_should_write_off_units_that_are_not_reserved() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(adjust(-6))
        .then_expect_events(vec![ProductEvent::StockAdjusted {
            delta: -6,
            on_hand: 4,
            available: 0,
            adjusted_at: at(),
        }]);
}

#[test]
fn it_should_refuse_a_stock_adjustment_of_zero() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(adjust(0))
        .then_expect_error(ProductError::ZeroAdjustment);
}

#[test]
fn it_should_refuse_to_write_off_units_that_are_reserved() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(adjust(-7))
        .then_expect_error(ProductError::BelowReserved {
            on_hand: 10,
            reserved: 4,
            delta: -7,
        });
}

#[test]
fn it_should_refuse_to_leave_a_negative_stock() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(adjust(-11))
        .then_expect_error(ProductError::BelowReserved {
            on_hand: 10,
            reserved: 0,
            delta: -11,
        });
}

#[test]
fn it_should_refuse_a_stock_larger_than_a_u32() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(adjust(i64::from(u32::MAX)))
        .then_expect_error(ProductError::StockLimitExceeded { max: u32::MAX });
    ProductTest::with(())
        .given(vec![created(10)])
        .when(adjust(i64::MAX))
        .then_expect_error(ProductError::StockLimitExceeded { max: u32::MAX });
}

#[test]
fn it_should_refuse_to_adjust_the_stock_of_a_product_that_does_not_exist() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(adjust(1))
        .then_expect_error(ProductError::NotFound);
}

// --- Discontinue ---

#[test]
fn it_should_discontinue_a_product() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(ProductCommand::Discontinue { at: at() })
        .then_expect_events(vec![ProductEvent::ProductDiscontinued {
            discontinued_at: at(),
        }]);
}

#[test]
fn it_should_refuse_to_discontinue_a_product_twice() {
    ProductTest::with(())
        .given(vec![
            created(10),
            ProductEvent::ProductDiscontinued {
                discontinued_at: at(),
            },
        ])
        .when(ProductCommand::Discontinue { at: at() })
        .then_expect_error(ProductError::AlreadyDiscontinued);
}

#[test]
fn it_should_refuse_to_discontinue_a_product_that_does_not_exist() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(ProductCommand::Discontinue { at: at() })
        .then_expect_error(ProductError::NotFound);
}

// --- Reserve ---

#[test]
fn it_should_reserve_available_units() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(reserve(order(2), 6))
        .then_expect_events(vec![reserved(order(2), 6, 0)]);
}

#[test]
fn it_should_treat_a_repeated_reservation_as_already_done() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(reserve(order(1), 4))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_reserve_more_than_is_available() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(reserve(order(2), 7))
        .then_expect_error(ProductError::OutOfStock {
            requested: 7,
            available: 6,
        });
}

#[test]
fn it_should_refuse_to_reserve_a_discontinued_product() {
    ProductTest::with(())
        .given(vec![
            created(10),
            ProductEvent::ProductDiscontinued {
                discontinued_at: at(),
            },
        ])
        .when(reserve(order(1), 1))
        .then_expect_error(ProductError::Discontinued);
}

#[test]
fn it_should_refuse_a_second_reservation_for_an_order_with_a_different_quantity() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(reserve(order(1), 5))
        .then_expect_error(ProductError::ReservationExists);
}

#[test]
fn it_should_refuse_to_reserve_again_for_an_order_whose_reservation_was_released() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            released(order(1), 4, 10, 10),
        ])
        .when(reserve(order(1), 4))
        .then_expect_error(ProductError::ReservationExists);
}

#[test]
fn it_should_refuse_to_reserve_again_for_an_order_whose_reservation_was_committed() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            committed(order(1), 4, 6, 6),
        ])
        .when(reserve(order(1), 4))
        .then_expect_error(ProductError::ReservationExists);
}

#[test]
fn it_should_refuse_to_reserve_a_product_that_does_not_exist() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(reserve(order(1), 1))
        .then_expect_error(ProductError::NotFound);
}

// --- CommitReservation ---

#[test]
fn it_should_commit_a_held_reservation() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            reserved(order(2), 1, 5),
        ])
        .when(commit(order(1)))
        .then_expect_events(vec![committed(order(1), 4, 6, 5)]);
}

#[test]
fn it_should_treat_a_repeated_commit_as_already_done() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            committed(order(1), 4, 6, 6),
        ])
        .when(commit(order(1)))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_commit_a_released_reservation() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            released(order(1), 4, 10, 10),
        ])
        .when(commit(order(1)))
        .then_expect_error(ProductError::ReservationReleased);
}

#[test]
fn it_should_refuse_to_commit_a_reservation_that_does_not_exist() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(commit(order(1)))
        .then_expect_error(ProductError::NoSuchReservation);
}

#[test]
fn it_should_refuse_to_commit_a_reservation_of_a_product_that_does_not_exist() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(commit(order(1)))
        .then_expect_error(ProductError::NotFound);
}

// --- ReleaseReservation ---

#[test]
fn it_should_release_a_held_reservation_without_touching_the_shelf() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            reserved(order(2), 1, 5),
        ])
        .when(release(order(1)))
        .then_expect_events(vec![released(order(1), 4, 10, 9)]);
}

#[test]
fn it_should_return_committed_units_to_stock_when_releasing() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            committed(order(1), 4, 6, 6),
        ])
        .when(ProductCommand::ReleaseReservation {
            order_id: order(1),
            reason: ReleaseReason::PaymentDeclined,
            at: at(),
        })
        .then_expect_events(vec![ProductEvent::ReservationReleased {
            order_id: order(1),
            quantity: 4,
            reason: ReleaseReason::PaymentDeclined,
            returned_to_stock: true,
            on_hand: 10,
            available: 10,
            released_at: at(),
        }]);
}

#[test]
fn it_should_record_nothing_when_releasing_a_released_reservation() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            released(order(1), 4, 10, 10),
        ])
        .when(release(order(1)))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_record_nothing_when_releasing_a_reservation_that_never_existed() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(release(order(1)))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_release_a_reservation_of_a_product_that_does_not_exist() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(release(order(1)))
        .then_expect_error(ProductError::NotFound);
}

// --- ExpireReservation ---

#[test]
fn it_should_expire_a_held_reservation_once_its_time_is_up() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(expire(order(1), expires()))
        .then_expect_events(vec![ProductEvent::ReservationReleased {
            order_id: order(1),
            quantity: 4,
            reason: ReleaseReason::Expired,
            returned_to_stock: false,
            on_hand: 10,
            available: 10,
            released_at: expires(),
        }]);
}

#[test]
fn it_should_refuse_to_expire_a_reservation_before_its_time() {
    ProductTest::with(())
        .given(vec![created(10), reserved(order(1), 4, 6)])
        .when(expire(order(1), expires() - Duration::seconds(1)))
        .then_expect_error(ProductError::NotExpired);
}

#[test]
fn it_should_record_nothing_when_expiring_a_committed_reservation() {
    ProductTest::with(())
        .given(vec![
            created(10),
            reserved(order(1), 4, 6),
            committed(order(1), 4, 6, 6),
        ])
        .when(expire(order(1), expires() + Duration::hours(1)))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_record_nothing_when_expiring_a_reservation_that_never_existed() {
    ProductTest::with(())
        .given(vec![created(10)])
        .when(expire(order(1), expires()))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_expire_a_reservation_of_a_product_that_does_not_exist() {
    ProductTest::with(())
        .given_no_previous_events()
        .when(expire(order(1), expires()))
        .then_expect_error(ProductError::NotFound);
}

// --- State, serialization and classification ---

#[test]
fn stock_counts_follow_reservations() {
    let mut product = Product::default();
    assert!(!product.exists());
    for event in [
        created(10),
        reserved(order(1), 4, 6),
        reserved(order(2), 3, 3),
        committed(order(1), 4, 6, 3),
        released(order(2), 3, 6, 6),
        reserved(order(3), 2, 4),
    ] {
        product.apply(event);
    }
    assert!(product.exists());
    assert!(!product.is_discontinued());
    assert_eq!(product.on_hand(), 6);
    assert_eq!(product.reserved(), 2);
    assert_eq!(product.available(), 4);
    assert_eq!(product.sku().map(Sku::as_str), Some("MUG-1"));
    assert_eq!(product.name(), "Blue mug");
    assert_eq!(product.price(), Some(eur(1299)));
    assert_eq!(
        product.reservation(order(1)).map(|r| r.state),
        Some(ReservationState::Committed)
    );
}

#[test]
fn a_product_snapshot_with_reservations_round_trips_through_json() {
    let mut product = Product::default();
    product.apply(created(10));
    product.apply(reserved(order(1), 4, 6));
    let json = serde_json::to_string(&product).unwrap();
    assert_eq!(serde_json::from_str::<Product>(&json).unwrap(), product);
}

#[test]
fn release_reasons_serialize_in_snake_case() {
    assert_eq!(
        serde_json::to_string(&ReleaseReason::PaymentTimeout).unwrap(),
        "\"payment_timeout\""
    );
    assert_eq!(ReleaseReason::OrderCancelled.as_str(), "order_cancelled");
}

#[test]
fn events_are_named_after_their_variant_at_version_one() {
    let events = [
        (created(1), "ProductCreated"),
        (
            ProductEvent::ProductDetailsUpdated {
                name: None,
                description: None,
                category: None,
                price: Some(eur(1)),
                updated_at: at(),
            },
            "ProductDetailsUpdated",
        ),
        (
            ProductEvent::StockAdjusted {
                delta: 1,
                on_hand: 2,
                available: 2,
                adjusted_at: at(),
            },
            "StockAdjusted",
        ),
        (
            ProductEvent::ProductDiscontinued {
                discontinued_at: at(),
            },
            "ProductDiscontinued",
        ),
        (reserved(order(1), 1, 0), "StockReserved"),
        (committed(order(1), 1, 0, 0), "ReservationCommitted"),
        (released(order(1), 1, 1, 1), "ReservationReleased"),
    ];
    for (event, name) in events {
        assert_eq!(event.event_type(), name);
        assert_eq!(event.event_version(), "1.0");
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<ProductEvent>(&json).unwrap(), event);
    }
}

#[test]
fn errors_say_how_to_refuse() {
    assert_eq!(ProductError::NotFound.refusal(), Refusal::NotFound);
    assert_eq!(ProductError::NoSuchReservation.refusal(), Refusal::NotFound);
    assert_eq!(ProductError::AlreadyCreated.refusal(), Refusal::Conflict);
    let out_of_stock = ProductError::OutOfStock {
        requested: 3,
        available: 1,
    };
    assert_eq!(out_of_stock.refusal(), Refusal::Rule);
    assert_eq!(out_of_stock.code().as_str(), "out_of_stock");
    assert_eq!(out_of_stock.to_string(), "only 1 available, 3 requested");
}
