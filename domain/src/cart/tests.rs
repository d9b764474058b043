use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};

use super::*;
use crate::{Currency, Money, OrderId, ProductId, Quantity, Refusal, RuleViolation, Sku};

type CartTest = TestFramework<Cart>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

fn product_id(n: u8) -> ProductId {
    format!("0190a5b2-7c3e-7d4f-8a6b-0000000000{n:02}")
        .parse()
        .unwrap()
}

fn order_id() -> OrderId {
    "0190a5b2-7c3e-7d4f-8a6b-000000000100".parse().unwrap()
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR).unwrap()
}

fn snapshot(n: u8, unit_price: Money) -> ProductSnapshot {
    ProductSnapshot {
        product_id: product_id(n),
        sku: Sku::parse(&format!("SKU-{n}")).unwrap(),
        name: format!("Product {n}"),
        unit_price,
        discontinued: false,
    }
}

fn add(product: ProductSnapshot, quantity: i64) -> CartCommand {
    CartCommand::AddItem {
        product,
        quantity: Quantity::new(quantity).unwrap(),
        at: at(),
    }
}

fn added(n: u8, unit_price: Money, quantity: u32, line_quantity: u32) -> CartEvent {
    CartEvent::ItemAdded {
        product_id: product_id(n),
        sku: Sku::parse(&format!("SKU-{n}")).unwrap(),
        name: format!("Product {n}"),
        unit_price,
        quantity,
        line_quantity,
        added_at: at(),
    }
}

fn line(n: u8, unit_price: Money, quantity: u32) -> CartLine {
    CartLine {
        product_id: product_id(n),
        sku: Sku::parse(&format!("SKU-{n}")).unwrap(),
        name: format!("Product {n}"),
        unit_price,
        quantity,
    }
}

fn change(n: u8, quantity: u32) -> CartCommand {
    CartCommand::ChangeQuantity {
        product_id: product_id(n),
        quantity,
        at: at(),
    }
}

// --- AddItem ---

#[test]
fn it_should_add_a_product_to_an_empty_cart() {
    CartTest::with(())
        .given_no_previous_events()
        .when(add(snapshot(1, eur(500)), 2))
        .then_expect_events(vec![added(1, eur(500), 2, 2)]);
}

#[test]
fn it_should_add_units_to_the_line_of_a_product_already_in_the_cart() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2)])
        .when(add(snapshot(1, eur(450)), 3))
        .then_expect_events(vec![added(1, eur(450), 3, 5)]);
}

#[test]
fn it_should_refuse_to_add_a_discontinued_product() {
    let product = ProductSnapshot {
        discontinued: true,
        ..snapshot(1, eur(500))
    };
    CartTest::with(())
        .given_no_previous_events()
        .when(add(product, 1))
        .then_expect_error(CartError::ProductDiscontinued);
}

#[test]
fn it_should_refuse_to_put_more_than_99_units_in_one_line() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 90, 90)])
        .when(add(snapshot(1, eur(500)), 10))
        .then_expect_error(CartError::LineLimitExceeded { max: 99 });
}

#[test]
fn it_should_refuse_a_product_priced_in_another_currency_than_the_cart() {
    let dollars = Money::new(500, Currency::USD).unwrap();
    CartTest::with(())
        .given(vec![added(1, eur(500), 1, 1)])
        .when(add(snapshot(2, dollars), 1))
        .then_expect_error(CartError::CurrencyMismatch);
}

#[test]
fn it_should_refuse_an_item_that_would_make_the_total_too_large() {
    CartTest::with(())
        .given(vec![added(1, eur(i64::MAX / 2), 1, 1)])
        .when(add(snapshot(2, eur(i64::MAX / 2)), 2))
        .then_expect_error(CartError::TotalTooLarge);
}

// --- ChangeQuantity ---

#[test]
fn it_should_change_the_quantity_of_a_line() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2)])
        .when(change(1, 7))
        .then_expect_events(vec![CartEvent::ItemQuantityChanged {
            product_id: product_id(1),
            quantity: 7,
            changed_at: at(),
        }]);
}

#[test]
fn it_should_remove_a_line_whose_quantity_is_set_to_zero() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2)])
        .when(change(1, 0))
        .then_expect_events(vec![CartEvent::ItemRemoved {
            product_id: product_id(1),
            removed_at: at(),
        }]);
}

#[test]
fn it_should_record_nothing_when_the_quantity_does_not_change() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2)])
        .when(change(1, 2))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_set_a_quantity_above_99() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2)])
        .when(change(1, 100))
        .then_expect_error(CartError::LineLimitExceeded { max: 99 });
}

#[test]
fn it_should_refuse_to_change_the_quantity_of_a_product_not_in_the_cart() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2)])
        .when(change(2, 3))
        .then_expect_error(CartError::LineNotFound);
}

#[test]
fn it_should_refuse_a_quantity_that_would_make_the_total_too_large() {
    CartTest::with(())
        .given(vec![added(1, eur(i64::MAX / 2), 1, 1)])
        .when(change(1, 3))
        .then_expect_error(CartError::TotalTooLarge);
}

// --- RemoveItem ---

#[test]
fn it_should_remove_a_line() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2)])
        .when(CartCommand::RemoveItem {
            product_id: product_id(1),
            at: at(),
        })
        .then_expect_events(vec![CartEvent::ItemRemoved {
            product_id: product_id(1),
            removed_at: at(),
        }]);
}

#[test]
fn it_should_refuse_to_remove_a_product_not_in_the_cart() {
    CartTest::with(())
        .given_no_previous_events()
        .when(CartCommand::RemoveItem {
            product_id: product_id(1),
            at: at(),
        })
        .then_expect_error(CartError::LineNotFound);
}

// --- CheckOut ---

#[test]
fn it_should_check_out_every_line_into_the_order() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2), added(2, eur(300), 1, 1)])
        .when(CartCommand::CheckOut {
            order_id: order_id(),
            at: at(),
        })
        .then_expect_events(vec![CartEvent::CartCheckedOut {
            order_id: order_id(),
            lines: vec![line(1, eur(500), 2), line(2, eur(300), 1)],
            checked_out_at: at(),
        }]);
}

#[test]
fn it_should_refuse_to_check_out_an_empty_cart() {
    CartTest::with(())
        .given(vec![
            added(1, eur(500), 2, 2),
            CartEvent::CartCleared { cleared_at: at() },
        ])
        .when(CartCommand::CheckOut {
            order_id: order_id(),
            at: at(),
        })
        .then_expect_error(CartError::EmptyCart);
}

// --- Clear ---

#[test]
fn it_should_clear_a_cart() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 2, 2)])
        .when(CartCommand::Clear { at: at() })
        .then_expect_events(vec![CartEvent::CartCleared { cleared_at: at() }]);
}

#[test]
fn it_should_record_nothing_when_clearing_an_empty_cart() {
    CartTest::with(())
        .given_no_previous_events()
        .when(CartCommand::Clear { at: at() })
        .then_expect_events(vec![]);
}

// --- State, serialization and classification ---

#[test]
fn lines_keep_the_order_in_which_products_were_first_added() {
    let mut cart = Cart::default();
    assert!(cart.is_empty());
    assert_eq!(cart.total(), None);
    for event in [
        added(1, eur(500), 2, 2),
        added(2, eur(300), 1, 1),
        added(1, eur(450), 1, 3),
        CartEvent::ItemQuantityChanged {
            product_id: product_id(2),
            quantity: 4,
            changed_at: at(),
        },
    ] {
        cart.apply(event);
    }
    assert_eq!(cart.lines(), [line(1, eur(450), 3), line(2, eur(300), 4)]);
    assert_eq!(cart.total(), Some(eur(3 * 450 + 4 * 300)));
    assert_eq!(cart.line(product_id(2)).map(|l| l.quantity), Some(4));
}

#[test]
fn checking_out_empties_the_cart() {
    let mut cart = Cart::default();
    cart.apply(added(1, eur(500), 2, 2));
    cart.apply(CartEvent::CartCheckedOut {
        order_id: order_id(),
        lines: vec![line(1, eur(500), 2)],
        checked_out_at: at(),
    });
    assert!(cart.is_empty());
}

#[test]
fn a_cart_snapshot_round_trips_through_json() {
    let mut cart = Cart::default();
    cart.apply(added(1, eur(500), 2, 2));
    let json = serde_json::to_string(&cart).unwrap();
    assert_eq!(serde_json::from_str::<Cart>(&json).unwrap(), cart);
}

#[test]
fn events_are_named_after_their_variant_at_version_one() {
    let events = [
        (added(1, eur(1), 1, 1), "ItemAdded"),
        (
            CartEvent::ItemQuantityChanged {
                product_id: product_id(1),
                quantity: 2,
                changed_at: at(),
            },
            "ItemQuantityChanged",
        ),
        (
            CartEvent::ItemRemoved {
                product_id: product_id(1),
                removed_at: at(),
            },
            "ItemRemoved",
        ),
        (
            CartEvent::CartCheckedOut {
                order_id: order_id(),
                lines: vec![line(1, eur(1), 1)],
                checked_out_at: at(),
            },
            "CartCheckedOut",
        ),
        (CartEvent::CartCleared { cleared_at: at() }, "CartCleared"),
    ];
    for (event, name) in events {
        assert_eq!(event.event_type(), name);
        assert_eq!(event.event_version(), "1.0");
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<CartEvent>(&json).unwrap(), event);
    }
}

#[test]
fn errors_say_how_to_refuse() {
    assert_eq!(CartError::LineNotFound.refusal(), Refusal::NotFound);
    assert_eq!(CartError::EmptyCart.refusal(), Refusal::Rule);
    assert_eq!(
        CartError::LineLimitExceeded { max: 99 }.code().as_str(),
        "line_limit_exceeded"
    );
    assert_eq!(
        CartError::LineLimitExceeded { max: 99 }.to_string(),
        "a cart line can hold at most 99 units"
    );
}

// --- ApplyDiscount / RemoveDiscount ---

fn code() -> AppliedCode {
    AppliedCode {
        promotion_id: "0190a5b2-7c3e-7d4f-8a6b-000000000200".parse().unwrap(),
        code: "SPRING10".to_owned(),
    }
}

fn applied() -> CartEvent {
    CartEvent::DiscountApplied {
        promotion_id: code().promotion_id,
        code: code().code,
        applied_at: at(),
    }
}

#[test]
fn it_should_apply_a_code_once_and_remove_it() {
    CartTest::with(())
        .given(vec![added(1, eur(500), 1, 1)])
        .when(CartCommand::ApplyDiscount {
            code: code(),
            at: at(),
        })
        .then_expect_events(vec![applied()]);
    CartTest::with(())
        .given(vec![added(1, eur(500), 1, 1), applied()])
        .when(CartCommand::ApplyDiscount {
            code: code(),
            at: at(),
        })
        .then_expect_events(vec![]);
    CartTest::with(())
        .given(vec![added(1, eur(500), 1, 1), applied()])
        .when(CartCommand::RemoveDiscount { at: at() })
        .then_expect_events(vec![CartEvent::DiscountRemoved { removed_at: at() }]);
    CartTest::with(())
        .given(vec![added(1, eur(500), 1, 1)])
        .when(CartCommand::RemoveDiscount { at: at() })
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_a_code_on_an_empty_cart_and_drop_it_at_checkout() {
    CartTest::with(())
        .given_no_previous_events()
        .when(CartCommand::ApplyDiscount {
            code: code(),
            at: at(),
        })
        .then_expect_error(CartError::EmptyCart);
    let mut cart = Cart::default();
    for event in [
        added(1, eur(500), 1, 1),
        applied(),
        CartEvent::CartCheckedOut {
            order_id: order_id(),
            lines: vec![line(1, eur(500), 1)],
            checked_out_at: at(),
        },
    ] {
        cart.apply(event);
    }
    assert_eq!(cart.discount(), None);
    assert!(cart.is_empty());
}
