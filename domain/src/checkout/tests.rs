use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::order::CancellationReason;
use crate::{Currency, Money, OrderId, PaymentMethod, ProductId};

type Given = TestFramework<Checkout>;

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn started() -> CheckoutEvent {
    CheckoutEvent::CheckoutStarted {
        promotion: None,
        order_id: OrderId::new(Uuid::from_u128(1)),
        lines: vec![ReservedLine {
            product_id: ProductId::new(Uuid::from_u128(2)),
            quantity: 2,
        }],
        amount: Money::new(1000, Currency::parse("EUR").unwrap()).unwrap(),
        method: PaymentMethod::parse("pm_card_visa").unwrap(),
        payment_deadline: at(),
        started_at: at(),
    }
}

fn start() -> CheckoutCommand {
    let CheckoutEvent::CheckoutStarted {
        order_id,
        lines,
        amount,
        method,
        payment_deadline,
        ..
    } = started()
    else {
        unreachable!()
    };
    CheckoutCommand::Start {
        promotion: None,
        order_id,
        lines,
        amount,
        method,
        payment_deadline,
        at: at(),
    }
}

#[test]
fn it_should_start_a_checkout_once() {
    Given::with(())
        .given_no_previous_events()
        .when(start())
        .then_expect_events(vec![started()]);
    Given::with(())
        .given(vec![started()])
        .when(start())
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_steps_of_a_checkout_never_started() {
    Given::with(())
        .given_no_previous_events()
        .when(CheckoutCommand::Complete { at: at() })
        .then_expect_error(CheckoutError::NotStarted);
}

#[test]
fn it_should_go_through_reserved_paid_and_completed() {
    let reserved = CheckoutEvent::CheckoutStockReserved { reserved_at: at() };
    let paid = CheckoutEvent::CheckoutPaymentCaptured {
        gateway_reference: "ch_1".to_owned(),
        captured_at: at(),
    };
    Given::with(())
        .given(vec![started()])
        .when(CheckoutCommand::RecordStockReserved { at: at() })
        .then_expect_events(vec![reserved.clone()]);
    Given::with(())
        .given(vec![started(), reserved.clone()])
        .when(CheckoutCommand::RecordPaymentCaptured {
            gateway_reference: "ch_1".to_owned(),
            at: at(),
        })
        .then_expect_events(vec![paid.clone()]);
    Given::with(())
        .given(vec![started(), reserved, paid])
        .when(CheckoutCommand::Complete { at: at() })
        .then_expect_events(vec![CheckoutEvent::CheckoutCompleted {
            completed_at: at(),
        }]);
}

#[test]
fn it_should_refuse_to_complete_before_payment() {
    Given::with(())
        .given(vec![started()])
        .when(CheckoutCommand::Complete { at: at() })
        .then_expect_error(CheckoutError::OutOfOrder {
            state: CheckoutState::Started,
            step: "complete",
        });
}

#[test]
fn it_should_fail_once_then_record_its_compensation_once() {
    let failed = CheckoutEvent::CheckoutFailed {
        reason: CancellationReason::OutOfStock,
        failed_at: at(),
    };
    Given::with(())
        .given(vec![started()])
        .when(CheckoutCommand::Fail {
            reason: CancellationReason::OutOfStock,
            at: at(),
        })
        .then_expect_events(vec![failed.clone()]);
    Given::with(())
        .given(vec![started(), failed.clone()])
        .when(CheckoutCommand::Fail {
            reason: CancellationReason::PaymentDeclined,
            at: at(),
        })
        .then_expect_events(vec![]);
    Given::with(())
        .given(vec![started(), failed])
        .when(CheckoutCommand::RecordCompensated {
            refunded: false,
            at: at(),
        })
        .then_expect_events(vec![CheckoutEvent::CheckoutCompensated {
            refunded: false,
            compensated_at: at(),
        }]);
}

#[test]
fn it_should_refuse_a_compensation_of_a_checkout_that_did_not_fail() {
    Given::with(())
        .given(vec![started()])
        .when(CheckoutCommand::RecordCompensated {
            refunded: true,
            at: at(),
        })
        .then_expect_error(CheckoutError::OutOfOrder {
            state: CheckoutState::Started,
            step: "record a compensation",
        });
}

#[test]
fn it_should_pass_over_the_payment_only_of_an_order_with_nothing_to_pay() {
    let reserved = CheckoutEvent::CheckoutStockReserved { reserved_at: at() };
    let mut free = started();
    if let CheckoutEvent::CheckoutStarted { amount, .. } = &mut free {
        *amount = Money::new(0, Currency::EUR).unwrap();
    }
    Given::with(())
        .given(vec![free.clone(), reserved.clone()])
        .when(CheckoutCommand::RecordNothingToPay { at: at() })
        .then_expect_events(vec![CheckoutEvent::CheckoutNothingToPay { paid_at: at() }]);
    Given::with(())
        .given(vec![
            free,
            reserved.clone(),
            CheckoutEvent::CheckoutNothingToPay { paid_at: at() },
        ])
        .when(CheckoutCommand::Complete { at: at() })
        .then_expect_events(vec![CheckoutEvent::CheckoutCompleted {
            completed_at: at(),
        }]);
    // An order with money due is never let through without its payment.
    Given::with(())
        .given(vec![started(), reserved])
        .when(CheckoutCommand::RecordNothingToPay { at: at() })
        .then_expect_error(CheckoutError::OutOfOrder {
            state: CheckoutState::StockReserved,
            step: "pass over a payment",
        });
}
