use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};

use super::*;
use crate::cart::CartLine;
use crate::{
    Address, Currency, Money, OrderId, PaymentMethod, ProductId, Quantity, Refusal, RuleViolation,
    Sku, UserId, ValueError,
};

type OrderTest = TestFramework<Order>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

fn order_id() -> OrderId {
    "0190a5b2-7c3e-7d4f-8a6b-000000000100".parse().unwrap()
}

fn user_id() -> UserId {
    "0190a5b2-7c3e-7d4f-8a6b-000000000001".parse().unwrap()
}

fn product_id(n: u8) -> ProductId {
    format!("0190a5b2-7c3e-7d4f-8a6b-0000000000{n:02}")
        .parse()
        .unwrap()
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR).unwrap()
}

fn order_line(n: u8, unit_price: Money, quantity: i64) -> OrderLine {
    OrderLine::new(
        product_id(n),
        Sku::parse(&format!("SKU-{n}")).unwrap(),
        format!("Product {n}"),
        unit_price,
        Quantity::new(quantity).unwrap(),
    )
    .unwrap()
}

fn address() -> Address {
    Address::parse("Ada Lovelace", "Street 1", None, "Berlin", "10115", "DE").unwrap()
}

fn card() -> PaymentMethod {
    PaymentMethod::parse("pm_card_visa").unwrap()
}

fn place(lines: Vec<OrderLine>) -> OrderCommand {
    OrderCommand::Place {
        discount: None,
        order_id: order_id(),
        user_id: user_id(),
        lines,
        shipping_address: address(),
        payment_method: card(),
        at: at(),
    }
}

fn placed() -> OrderEvent {
    OrderEvent::OrderPlaced {
        discount: None,
        order_id: order_id(),
        user_id: user_id(),
        lines: vec![order_line(1, eur(500), 2), order_line(2, eur(300), 1)],
        total: eur(1300),
        shipping_address: address(),
        payment_method: card(),
        placed_at: at(),
    }
}

fn confirmed() -> OrderEvent {
    OrderEvent::OrderConfirmed { confirmed_at: at() }
}

fn cancelled(previous_status: OrderStatus) -> OrderEvent {
    OrderEvent::OrderCancelled {
        reason: CancellationReason::CancelledByCustomer,
        previous_status,
        cancelled_at: at(),
    }
}

fn shipped() -> OrderEvent {
    OrderEvent::OrderShipped {
        tracking_number: Some("1Z999".to_owned()),
        shipped_at: at(),
    }
}

fn delivered() -> OrderEvent {
    OrderEvent::OrderDelivered { delivered_at: at() }
}

fn cancel(reason: CancellationReason) -> OrderCommand {
    OrderCommand::Cancel { reason, at: at() }
}

fn ship(tracking_number: Option<&str>) -> OrderCommand {
    OrderCommand::Ship {
        tracking_number: tracking_number.map(str::to_owned),
        at: at(),
    }
}

// --- Place ---

#[test]
fn it_should_place_an_order_with_the_sum_of_its_lines_as_total() {
    OrderTest::with(())
        .given_no_previous_events()
        .when(place(vec![
            order_line(1, eur(500), 2),
            order_line(2, eur(300), 1),
        ]))
        .then_expect_events(vec![placed()]);
}

#[test]
fn it_should_recompute_a_line_total_that_does_not_match_its_price() {
    let mut tampered = order_line(1, eur(500), 2);
    tampered.line_total = eur(1);
    let result = OrderTest::with(())
        .given_no_previous_events()
        .when(place(vec![tampered]))
        .inspect_result()
        .unwrap();
    let [OrderEvent::OrderPlaced { lines, total, .. }] = &result[..] else {
        panic!("expected one OrderPlaced, got {result:?}");
    };
    assert_eq!(lines[0].line_total, eur(1000));
    assert_eq!(*total, eur(1000));
}

#[test]
fn it_should_refuse_to_place_an_order_twice() {
    OrderTest::with(())
        .given(vec![placed()])
        .when(place(vec![order_line(1, eur(500), 2)]))
        .then_expect_error(OrderError::AlreadyPlaced);
}

#[test]
fn it_should_refuse_to_place_an_order_without_lines() {
    OrderTest::with(())
        .given_no_previous_events()
        .when(place(vec![]))
        .then_expect_error(OrderError::NoLines);
}

#[test]
fn it_should_refuse_to_place_an_order_with_lines_in_different_currencies() {
    OrderTest::with(())
        .given_no_previous_events()
        .when(place(vec![
            order_line(1, eur(500), 1),
            order_line(2, Money::new(500, Currency::USD).unwrap(), 1),
        ]))
        .then_expect_error(OrderError::CurrencyMismatch);
}

#[test]
fn it_should_refuse_to_place_an_order_whose_total_is_too_large() {
    OrderTest::with(())
        .given_no_previous_events()
        .when(place(vec![
            order_line(1, eur(i64::MAX / 2), 1),
            order_line(2, eur(i64::MAX / 2), 2),
        ]))
        .then_expect_error(OrderError::TotalTooLarge);
}

// --- Confirm ---

#[test]
fn it_should_confirm_a_pending_order() {
    OrderTest::with(())
        .given(vec![placed()])
        .when(OrderCommand::Confirm { at: at() })
        .then_expect_events(vec![confirmed()]);
}

#[test]
fn it_should_refuse_to_confirm_an_order_that_is_not_pending() {
    OrderTest::with(())
        .given(vec![placed(), cancelled(OrderStatus::Pending)])
        .when(OrderCommand::Confirm { at: at() })
        .then_expect_error(OrderError::NotPending {
            status: OrderStatus::Cancelled,
        });
}

#[test]
fn it_should_refuse_to_confirm_an_order_that_was_never_placed() {
    OrderTest::with(())
        .given_no_previous_events()
        .when(OrderCommand::Confirm { at: at() })
        .then_expect_error(OrderError::NotFound);
}

// --- Cancel ---

#[test]
fn it_should_cancel_a_pending_order() {
    OrderTest::with(())
        .given(vec![placed()])
        .when(cancel(CancellationReason::PaymentDeclined))
        .then_expect_events(vec![OrderEvent::OrderCancelled {
            reason: CancellationReason::PaymentDeclined,
            previous_status: OrderStatus::Pending,
            cancelled_at: at(),
        }]);
}

#[test]
fn it_should_cancel_a_confirmed_order_and_say_it_was_confirmed() {
    OrderTest::with(())
        .given(vec![placed(), confirmed()])
        .when(cancel(CancellationReason::CancelledByCustomer))
        .then_expect_events(vec![cancelled(OrderStatus::Confirmed)]);
}

#[test]
fn it_should_refuse_to_cancel_a_shipped_order() {
    OrderTest::with(())
        .given(vec![placed(), confirmed(), shipped()])
        .when(cancel(CancellationReason::CancelledByAdmin))
        .then_expect_error(OrderError::NotCancellable {
            status: OrderStatus::Shipped,
        });
}

#[test]
fn it_should_refuse_to_cancel_an_order_twice() {
    OrderTest::with(())
        .given(vec![placed(), cancelled(OrderStatus::Pending)])
        .when(cancel(CancellationReason::CancelledByCustomer))
        .then_expect_error(OrderError::NotCancellable {
            status: OrderStatus::Cancelled,
        });
}

#[test]
fn it_should_refuse_to_cancel_an_order_that_was_never_placed() {
    OrderTest::with(())
        .given_no_previous_events()
        .when(cancel(CancellationReason::CancelledByCustomer))
        .then_expect_error(OrderError::NotFound);
}

// --- Ship ---

#[test]
fn it_should_ship_a_confirmed_order() {
    OrderTest::with(())
        .given(vec![placed(), confirmed()])
        .when(ship(Some(" 1Z999 ")))
        .then_expect_events(vec![shipped()]);
}

#[test]
fn it_should_ship_without_a_tracking_number_when_it_is_blank() {
    OrderTest::with(())
        .given(vec![placed(), confirmed()])
        .when(ship(Some("  ")))
        .then_expect_events(vec![OrderEvent::OrderShipped {
            tracking_number: None,
            shipped_at: at(),
        }]);
}

#[test]
fn it_should_refuse_to_ship_an_order_that_is_not_confirmed() {
    OrderTest::with(())
        .given(vec![placed()])
        .when(ship(None))
        .then_expect_error(OrderError::NotConfirmed {
            status: OrderStatus::Pending,
        });
}

#[test]
fn it_should_refuse_a_tracking_number_longer_than_100_characters() {
    OrderTest::with(())
        .given(vec![placed(), confirmed()])
        .when(ship(Some(&"9".repeat(MAX_TRACKING_NUMBER_CHARS + 1))))
        .then_expect_error(OrderError::TrackingNumberTooLong { max: 100 });
}

#[test]
fn it_should_refuse_to_ship_an_order_that_was_never_placed() {
    OrderTest::with(())
        .given_no_previous_events()
        .when(ship(None))
        .then_expect_error(OrderError::NotFound);
}

// --- Deliver ---

#[test]
fn it_should_deliver_a_shipped_order() {
    OrderTest::with(())
        .given(vec![placed(), confirmed(), shipped()])
        .when(OrderCommand::Deliver { at: at() })
        .then_expect_events(vec![delivered()]);
}

#[test]
fn it_should_refuse_to_deliver_an_order_that_is_not_shipped() {
    OrderTest::with(())
        .given(vec![placed(), confirmed()])
        .when(OrderCommand::Deliver { at: at() })
        .then_expect_error(OrderError::NotShipped {
            status: OrderStatus::Confirmed,
        });
}

#[test]
fn it_should_refuse_to_deliver_an_order_twice() {
    OrderTest::with(())
        .given(vec![placed(), confirmed(), shipped(), delivered()])
        .when(OrderCommand::Deliver { at: at() })
        .then_expect_error(OrderError::NotShipped {
            status: OrderStatus::Delivered,
        });
}

#[test]
fn it_should_refuse_to_deliver_an_order_that_was_never_placed() {
    OrderTest::with(())
        .given_no_previous_events()
        .when(OrderCommand::Deliver { at: at() })
        .then_expect_error(OrderError::NotFound);
}

// --- Lines, state, serialization and classification ---

#[test]
fn an_order_line_computes_its_total() {
    let line = order_line(1, eur(1999), 3);
    assert_eq!(line.line_total, eur(5997));
}

#[test]
fn an_order_line_refuses_a_total_that_overflows() {
    let result = OrderLine::new(
        product_id(1),
        Sku::parse("SKU-1").unwrap(),
        "Product 1".to_owned(),
        eur(i64::MAX),
        Quantity::new(2).unwrap(),
    );
    assert_eq!(result, Err(ValueError::Overflow));
}

#[test]
fn an_order_line_can_be_made_from_a_cart_line() {
    let cart_line = CartLine {
        product_id: product_id(1),
        sku: Sku::parse("SKU-1").unwrap(),
        name: "Product 1".to_owned(),
        unit_price: eur(500),
        quantity: 2,
    };
    assert_eq!(
        OrderLine::from_cart_line(&cart_line),
        Ok(order_line(1, eur(500), 2))
    );
}

#[test]
fn a_placed_order_exposes_what_readers_need() {
    let mut order = Order::default();
    assert_eq!(order.status(), None);
    for event in [placed(), confirmed(), shipped()] {
        order.apply(event);
    }
    assert_eq!(order.id(), Some(order_id()));
    assert_eq!(order.status(), Some(OrderStatus::Shipped));
    assert_eq!(order.user_id(), Some(user_id()));
    assert_eq!(order.total(), Some(eur(1300)));
    assert_eq!(order.lines().len(), 2);
    assert_eq!(order.payment_method(), Some(&card()));
    assert_eq!(order.shipping_address(), Some(&address()));
    assert_eq!(order.tracking_number(), Some("1Z999"));
    assert_eq!(order.placed_at(), Some(at()));
}

#[test]
fn a_cancelled_order_remembers_why() {
    let mut order = Order::default();
    order.apply(placed());
    order.apply(cancelled(OrderStatus::Pending));
    assert_eq!(
        order.cancellation_reason(),
        Some(CancellationReason::CancelledByCustomer)
    );
}

#[test]
fn an_order_snapshot_round_trips_through_json() {
    let mut order = Order::default();
    order.apply(placed());
    let json = serde_json::to_string(&order).unwrap();
    assert_eq!(serde_json::from_str::<Order>(&json).unwrap(), order);
}

#[test]
fn statuses_and_reasons_serialize_as_their_names() {
    for status in [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ] {
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(json, format!("\"{}\"", status.as_str()));
        assert_eq!(status.to_string(), status.as_str());
    }
    for reason in CancellationReason::ALL {
        let json = serde_json::to_string(&reason).unwrap();
        assert_eq!(json, format!("\"{}\"", reason.as_str()));
    }
    assert_eq!(
        CancellationReason::CancelledByCustomer.as_str(),
        "cancelled_by_customer"
    );
}

#[test]
fn events_are_named_after_their_variant_at_version_one() {
    let events = [
        (placed(), "OrderPlaced"),
        (confirmed(), "OrderConfirmed"),
        (cancelled(OrderStatus::Pending), "OrderCancelled"),
        (shipped(), "OrderShipped"),
        (delivered(), "OrderDelivered"),
    ];
    for (event, name) in events {
        assert_eq!(event.event_type(), name);
        assert_eq!(event.event_version(), "1.0");
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<OrderEvent>(&json).unwrap(), event);
    }
}

#[test]
fn errors_say_how_to_refuse() {
    assert_eq!(OrderError::NotFound.refusal(), Refusal::NotFound);
    assert_eq!(OrderError::AlreadyPlaced.refusal(), Refusal::Conflict);
    let not_pending = OrderError::NotPending {
        status: OrderStatus::Shipped,
    };
    assert_eq!(not_pending.refusal(), Refusal::Rule);
    assert_eq!(not_pending.code().as_str(), "not_pending");
    assert_eq!(
        not_pending.to_string(),
        "only a pending order can be confirmed, this one is shipped"
    );
}

// --- Discount codes ---

fn with_code(off: crate::promotion::discount::Off, categories: &[&str]) -> OrderCommand {
    use crate::promotion::discount::Offer;
    let lines = vec![
        order_line(1, eur(1000), 1).in_category("Books"),
        order_line(2, eur(2000), 1).in_category("Games"),
        order_line(3, eur(3000), 1).in_category("Books"),
    ];
    let OrderCommand::Place {
        order_id,
        user_id,
        shipping_address,
        payment_method,
        at,
        ..
    } = place(vec![])
    else {
        unreachable!()
    };
    OrderCommand::Place {
        order_id,
        user_id,
        lines,
        shipping_address,
        payment_method,
        discount: Some(CodeAtCheckout {
            promotion_id: "0190a5b2-7c3e-7d4f-8a6b-000000000200".parse().unwrap(),
            code: "BOOKS".to_owned(),
            held: true,
            offer: Offer {
                off,
                min_subtotal: None,
                categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            },
        }),
        at,
    }
}

fn decided(command: OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
    Order::default().decide(command)
}

#[test]
fn it_should_take_a_code_off_its_eligible_lines_and_charge_the_total_after_it() {
    use crate::promotion::discount::Off;
    let events = decided(with_code(Off::Percent(15), &["Books"])).unwrap();
    let [
        OrderEvent::OrderPlaced {
            lines,
            total,
            discount: Some(discount),
            ..
        },
    ] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    // 15 % of the books' 40.00 is 6.00, split 1.50 / 4.50; the game is not discounted.
    let per_line: Vec<Option<Money>> = lines.iter().map(|l| l.discount).collect();
    assert_eq!(per_line, [Some(eur(150)), None, Some(eur(450))]);
    assert_eq!(discount.amount, eur(600));
    assert_eq!(discount.code, "BOOKS");
    assert!(discount.redemption_held);
    assert_eq!(*total, eur(5400));
}

#[test]
fn it_should_refuse_a_code_that_applies_to_none_of_the_lines() {
    use crate::promotion::discount::{DiscountError, Off};
    let refused = decided(with_code(Off::Amount(eur(500)), &["Garden"])).unwrap_err();
    assert_eq!(refused, OrderError::Discount(DiscountError::NotApplicable));
    assert_eq!(refused.code(), crate::ProblemCode::DiscountNotApplicable);
}

#[test]
fn it_should_keep_the_discount_of_an_order_placed_with_one() {
    use crate::promotion::discount::Off;
    let mut order = Order::default();
    for event in decided(with_code(Off::Amount(eur(100_000)), &[])).unwrap() {
        order.apply(event);
    }
    // A fixed amount is capped at the subtotal: the order is free, never negative.
    assert_eq!(order.total(), Some(eur(0)));
    assert_eq!(order.discount().map(|d| d.amount), Some(eur(6000)));
}
