//! The checkout's decisions, given its events (and its payment's), when an input arrives, then these steps.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::checkout::{Checkout, CheckoutCommand, CheckoutEvent, ReservedLine};
use domain::order::{CancellationReason, OrderEvent, OrderLine, OrderStatus};
use domain::payment::{Payment, PaymentCommand, PaymentEvent};
use domain::product::ReleaseReason;
use domain::{Currency, Money, OrderId, PaymentId, PaymentMethod, ProductId, Quantity, Sku};
use eventstore::Stored;

use super::*;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

fn seconds_later(seconds: i64) -> DateTime<Utc> {
    at() + Duration::seconds(seconds)
}

/// The payment deadline of the checkouts below: ten seconds after they started.
fn deadline() -> DateTime<Utc> {
    seconds_later(10)
}

fn order_id() -> OrderId {
    "0190a5b2-7c3e-7d4f-8a6b-000000000100".parse().unwrap()
}

fn product(n: u8) -> ProductId {
    format!("0190a5b2-7c3e-7d4f-8a6b-0000000000{n:02}")
        .parse()
        .unwrap()
}

fn products() -> Vec<ProductId> {
    vec![product(1), product(2)]
}

fn lines() -> Vec<ReservedLine> {
    vec![
        ReservedLine {
            product_id: product(1),
            quantity: 2,
        },
        ReservedLine {
            product_id: product(2),
            quantity: 1,
        },
    ]
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR).unwrap()
}

fn card() -> PaymentMethod {
    PaymentMethod::parse("pm_card_visa").unwrap()
}

const REFERENCE: &str = "pi_1";

// The checkout's events.

fn started() -> CheckoutEvent {
    CheckoutEvent::CheckoutStarted {
        promotion: None,
        order_id: order_id(),
        lines: lines(),
        amount: eur(3000),
        method: card(),
        payment_deadline: deadline(),
        started_at: at(),
    }
}

fn stock_reserved() -> CheckoutEvent {
    CheckoutEvent::CheckoutStockReserved { reserved_at: at() }
}

fn paid() -> CheckoutEvent {
    CheckoutEvent::CheckoutPaymentCaptured {
        gateway_reference: REFERENCE.to_owned(),
        captured_at: at(),
    }
}

fn completed() -> CheckoutEvent {
    CheckoutEvent::CheckoutCompleted { completed_at: at() }
}

fn failed(reason: CancellationReason) -> CheckoutEvent {
    CheckoutEvent::CheckoutFailed {
        reason,
        failed_at: at(),
    }
}

fn compensated() -> CheckoutEvent {
    CheckoutEvent::CheckoutCompensated {
        refunded: false,
        compensated_at: at(),
    }
}

// The payment's events.

fn payment_started() -> PaymentEvent {
    PaymentEvent::PaymentStarted {
        payment_id: PaymentId::for_order(order_id()),
        order_id: order_id(),
        amount: eur(3000),
        method: card(),
        started_at: at(),
    }
}

fn authorized() -> PaymentEvent {
    PaymentEvent::PaymentAuthorized {
        gateway_reference: REFERENCE.to_owned(),
        authorized_at: at(),
    }
}

fn captured() -> PaymentEvent {
    PaymentEvent::PaymentCaptured {
        amount: eur(3000),
        captured_at: at(),
    }
}

fn refunded() -> PaymentEvent {
    PaymentEvent::PaymentRefunded {
        amount: eur(3000),
        refunded_at: at(),
    }
}

// The steps, all taken at the time of the decision.

fn record(command: CheckoutCommand) -> Step {
    Step::Record(command)
}

fn fail(reason: CancellationReason) -> Step {
    record(CheckoutCommand::Fail { reason, at: at() })
}

fn release(reason: ReleaseReason) -> Step {
    Step::Release {
        promotion: None,
        products: products(),
        reason,
        at: at(),
    }
}

fn cancel(reason: CancellationReason) -> Step {
    Step::CancelOrder { reason, at: at() }
}

fn close(refunded: bool) -> Step {
    record(CheckoutCommand::RecordCompensated { refunded, at: at() })
}

fn authorize() -> Step {
    Step::Authorize {
        amount: eur(3000),
        method: card(),
        until: deadline(),
    }
}

fn capture() -> Step {
    Step::Capture {
        gateway_reference: REFERENCE.to_owned(),
    }
}

fn confirm_and_complete() -> [Step; 2] {
    [
        Step::Confirm {
            promotion: None,
            products: products(),
            at: at(),
        },
        record(CheckoutCommand::Complete { at: at() }),
    ]
}

fn order_placed() -> Input {
    Input::OrderPlaced {
        promotion: None,
        lines: lines(),
        amount: eur(3000),
        method: card(),
    }
}

// Given / when / then.

fn replay<A: Stored>(events: &[A::Event]) -> A {
    let mut aggregate = A::default();
    for event in events {
        aggregate.apply(event.clone());
    }
    aggregate
}

struct Given(Facts);

fn given(checkout: &[CheckoutEvent]) -> Given {
    Given(Facts {
        order_id: order_id(),
        checkout: replay::<Checkout>(checkout),
        payment: Payment::default(),
        now: at(),
        payment_window: Duration::seconds(10),
    })
}

impl Given {
    fn and_payment(mut self, events: &[PaymentEvent]) -> Self {
        self.0.payment = replay::<Payment>(events);
        self
    }

    fn and_now(mut self, now: DateTime<Utc>) -> Self {
        self.0.now = now;
        self
    }

    fn when(self, input: Input) -> Then {
        Then(decide(&self.0, input))
    }
}

struct Then(Vec<Step>);

impl Then {
    fn then(self, expected: impl IntoIterator<Item = Step>) {
        assert_eq!(self.0, expected.into_iter().collect::<Vec<_>>());
    }

    fn then_nothing(self) {
        self.then([]);
    }
}

// An order is placed.

#[test]
fn it_should_start_the_checkout_arm_its_deadline_and_reserve_the_stock_when_an_order_is_placed() {
    given(&[]).when(order_placed()).then([
        record(CheckoutCommand::Start {
            promotion: None,
            order_id: order_id(),
            lines: lines(),
            amount: eur(3000),
            method: card(),
            payment_deadline: deadline(),
            at: at(),
        }),
        Step::ScheduleDeadline {
            at: deadline() + DEADLINE_GRACE,
        },
        Step::Reserve {
            lines: lines(),
            expires_at: at() + RESERVATION_TTL,
            at: at(),
        },
    ]);
}

#[test]
fn it_should_capture_without_reserving_or_authorizing_again_when_an_order_placed_is_delivered_again_mid_way()
 {
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started(), authorized()])
        .when(order_placed())
        .then([capture()]);
}

#[test]
fn it_should_do_nothing_when_an_order_placed_is_delivered_again_after_the_checkout_completed() {
    given(&[started(), stock_reserved(), paid(), completed()])
        .and_payment(&[payment_started(), authorized(), captured()])
        .when(order_placed())
        .then_nothing();
}

#[test]
fn it_should_do_nothing_when_an_order_placed_is_delivered_again_after_the_compensation() {
    given(&[
        started(),
        failed(CancellationReason::OutOfStock),
        compensated(),
    ])
    .when(order_placed())
    .then_nothing();
}

#[test]
fn it_should_reserve_again_when_a_started_checkout_is_resumed() {
    given(&[started()])
        .when(Input::Resume)
        .then([Step::Reserve {
            lines: lines(),
            expires_at: at() + RESERVATION_TTL,
            at: at(),
        }]);
}

// The stock answers.

#[test]
fn it_should_record_the_reservation_start_the_payment_and_authorize_it_when_the_stock_is_reserved()
{
    given(&[started()]).when(Input::StockReserved).then([
        record(CheckoutCommand::RecordStockReserved { at: at() }),
        Step::Pay(PaymentCommand::Start {
            payment_id: PaymentId::for_order(order_id()),
            order_id: order_id(),
            amount: eur(3000),
            method: card(),
            at: at(),
        }),
        authorize(),
    ]);
}

#[test]
fn it_should_time_out_instead_of_paying_when_the_stock_is_reserved_after_the_deadline() {
    given(&[started()])
        .and_now(deadline())
        .when(Input::StockReserved)
        .then([
            record(CheckoutCommand::RecordStockReserved { at: deadline() }),
            record(CheckoutCommand::Fail {
                reason: CancellationReason::PaymentTimeout,
                at: deadline(),
            }),
            Step::Release {
                promotion: None,
                products: products(),
                reason: ReleaseReason::PaymentTimeout,
                at: deadline(),
            },
            Step::CancelOrder {
                reason: CancellationReason::PaymentTimeout,
                at: deadline(),
            },
            record(CheckoutCommand::RecordCompensated {
                refunded: false,
                at: deadline(),
            }),
        ]);
}

#[test]
fn it_should_fail_release_what_was_held_and_cancel_when_a_line_is_out_of_stock() {
    given(&[started()]).when(Input::OutOfStock).then([
        fail(CancellationReason::OutOfStock),
        release(ReleaseReason::OutOfStock),
        cancel(CancellationReason::OutOfStock),
        close(false),
    ]);
}

#[test]
fn it_should_release_the_stock_just_reserved_when_the_checkout_was_cancelled_meanwhile() {
    given(&[started(), failed(CancellationReason::CancelledByCustomer)])
        .when(Input::StockReserved)
        .then([
            release(ReleaseReason::OrderCancelled),
            cancel(CancellationReason::CancelledByCustomer),
            close(false),
        ]);
}

// The payment provider answers.

#[test]
fn it_should_ask_the_provider_again_with_the_same_key_when_a_pending_payment_is_resumed() {
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started()])
        .when(Input::Resume)
        .then([authorize()]);
}

#[test]
fn it_should_record_the_authorization_and_capture_it() {
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started()])
        .when(Input::Authorized {
            gateway_reference: REFERENCE.to_owned(),
        })
        .then([
            Step::Pay(PaymentCommand::Authorize {
                gateway_reference: REFERENCE.to_owned(),
                at: at(),
            }),
            capture(),
        ]);
}

#[test]
fn it_should_record_the_decline_and_fail_release_and_cancel_without_voiding_when_the_card_is_declined()
 {
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started()])
        .when(Input::AuthorizationDeclined {
            reason: "card_declined".to_owned(),
        })
        .then([
            Step::Pay(PaymentCommand::Decline {
                reason: "card_declined".to_owned(),
                at: at(),
            }),
            fail(CancellationReason::PaymentDeclined),
            release(ReleaseReason::PaymentDeclined),
            cancel(CancellationReason::PaymentDeclined),
            close(false),
        ]);
}

#[test]
fn it_should_fail_release_and_cancel_when_the_provider_does_not_answer_before_the_deadline() {
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started()])
        .when(Input::AuthorizationTimedOut)
        .then([
            fail(CancellationReason::PaymentTimeout),
            release(ReleaseReason::PaymentTimeout),
            cancel(CancellationReason::PaymentTimeout),
            close(false),
        ]);
}

#[test]
fn it_should_record_the_capture_commit_the_stock_confirm_and_complete_when_the_payment_is_captured()
{
    let mut expected = vec![
        Step::Pay(PaymentCommand::Capture { at: at() }),
        record(CheckoutCommand::RecordPaymentCaptured {
            gateway_reference: REFERENCE.to_owned(),
            at: at(),
        }),
    ];
    expected.extend(confirm_and_complete());
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started(), authorized()])
        .when(Input::Captured)
        .then(expected);
}

#[test]
fn it_should_fail_release_and_void_the_authorization_when_the_capture_is_refused() {
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started(), authorized()])
        .when(Input::CaptureRefused {
            reason: "the authorization expired".to_owned(),
        })
        .then([
            fail(CancellationReason::PaymentDeclined),
            release(ReleaseReason::PaymentDeclined),
            Step::Void {
                gateway_reference: REFERENCE.to_owned(),
            },
        ]);
}

#[test]
fn it_should_confirm_a_payment_captured_before_the_process_died_without_capturing_again() {
    let mut expected = vec![record(CheckoutCommand::RecordPaymentCaptured {
        gateway_reference: REFERENCE.to_owned(),
        at: at(),
    })];
    expected.extend(confirm_and_complete());
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started(), authorized(), captured()])
        .when(Input::Resume)
        .then(expected);
}

#[test]
fn it_should_confirm_and_complete_a_paid_checkout_when_resumed() {
    given(&[started(), stock_reserved(), paid()])
        .and_payment(&[payment_started(), authorized(), captured()])
        .when(Input::Resume)
        .then(confirm_and_complete());
}

#[test]
fn it_should_only_record_an_authorization_that_arrives_after_the_checkout_failed() {
    given(&[
        started(),
        stock_reserved(),
        failed(CancellationReason::CancelledByCustomer),
    ])
    .and_payment(&[payment_started()])
    .when(Input::Authorized {
        gateway_reference: REFERENCE.to_owned(),
    })
    .then([Step::Pay(PaymentCommand::Authorize {
        gateway_reference: REFERENCE.to_owned(),
        at: at(),
    })]);
}

#[test]
fn it_should_void_an_authorization_recorded_after_the_checkout_failed() {
    given(&[
        started(),
        stock_reserved(),
        failed(CancellationReason::CancelledByCustomer),
    ])
    .and_payment(&[payment_started(), authorized()])
    .when(Input::Resume)
    .then([
        release(ReleaseReason::OrderCancelled),
        Step::Void {
            gateway_reference: REFERENCE.to_owned(),
        },
    ]);
}

// The payment deadline passes.

#[test]
fn it_should_fail_release_and_cancel_when_the_deadline_passes_after_the_reservation() {
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started()])
        .and_now(deadline() + DEADLINE_GRACE)
        .when(Input::DeadlinePassed)
        .then([
            record(CheckoutCommand::Fail {
                reason: CancellationReason::PaymentTimeout,
                at: deadline() + DEADLINE_GRACE,
            }),
            Step::Release {
                promotion: None,
                products: products(),
                reason: ReleaseReason::PaymentTimeout,
                at: deadline() + DEADLINE_GRACE,
            },
            Step::CancelOrder {
                reason: CancellationReason::PaymentTimeout,
                at: deadline() + DEADLINE_GRACE,
            },
            record(CheckoutCommand::RecordCompensated {
                refunded: false,
                at: deadline() + DEADLINE_GRACE,
            }),
        ]);
}

#[test]
fn it_should_fail_when_the_deadline_passes_before_the_stock_is_reserved() {
    given(&[started()]).when(Input::DeadlinePassed).then([
        fail(CancellationReason::PaymentTimeout),
        release(ReleaseReason::PaymentTimeout),
        cancel(CancellationReason::PaymentTimeout),
        close(false),
    ]);
}

#[test]
fn it_should_void_the_authorization_when_the_deadline_passes_after_it() {
    given(&[started(), stock_reserved()])
        .and_payment(&[payment_started(), authorized()])
        .when(Input::DeadlinePassed)
        .then([
            fail(CancellationReason::PaymentTimeout),
            release(ReleaseReason::PaymentTimeout),
            Step::Void {
                gateway_reference: REFERENCE.to_owned(),
            },
        ]);
}

#[test]
fn it_should_record_the_void_cancel_the_order_and_close_the_compensation_once_the_provider_voided()
{
    given(&[
        started(),
        stock_reserved(),
        failed(CancellationReason::PaymentTimeout),
    ])
    .and_payment(&[payment_started(), authorized()])
    .when(Input::Voided)
    .then([
        Step::Pay(PaymentCommand::Void { at: at() }),
        cancel(CancellationReason::PaymentTimeout),
        close(false),
    ]);
}

#[test]
fn it_should_ignore_the_deadline_of_a_checkout_that_was_paid_in_time() {
    given(&[started(), stock_reserved(), paid()])
        .and_payment(&[payment_started(), authorized(), captured()])
        .when(Input::DeadlinePassed)
        .then_nothing();
}

#[test]
fn it_should_ignore_the_deadline_of_a_completed_checkout() {
    given(&[started(), stock_reserved(), paid(), completed()])
        .when(Input::DeadlinePassed)
        .then_nothing();
}

// The order is cancelled.

#[test]
fn it_should_refund_when_a_cancellation_races_the_confirmation() {
    given(&[started(), stock_reserved(), paid()])
        .and_payment(&[payment_started(), authorized(), captured()])
        .when(Input::OrderCancelled {
            reason: CancellationReason::CancelledByCustomer,
        })
        .then([
            fail(CancellationReason::CancelledByCustomer),
            release(ReleaseReason::OrderCancelled),
            Step::Refund {
                gateway_reference: REFERENCE.to_owned(),
            },
        ]);
}

#[test]
fn it_should_return_the_stock_and_refund_when_a_completed_order_is_cancelled() {
    given(&[started(), stock_reserved(), paid(), completed()])
        .and_payment(&[payment_started(), authorized(), captured()])
        .when(Input::OrderCancelled {
            reason: CancellationReason::CancelledByAdmin,
        })
        .then([
            fail(CancellationReason::CancelledByAdmin),
            release(ReleaseReason::OrderCancelled),
            Step::Refund {
                gateway_reference: REFERENCE.to_owned(),
            },
        ]);
}

#[test]
fn it_should_record_the_refund_and_close_the_compensation_as_refunded_once_the_provider_refunded() {
    given(&[
        started(),
        stock_reserved(),
        paid(),
        completed(),
        failed(CancellationReason::CancelledByAdmin),
    ])
    .and_payment(&[payment_started(), authorized(), captured()])
    .when(Input::Refunded)
    .then([
        Step::Pay(PaymentCommand::Refund { at: at() }),
        cancel(CancellationReason::CancelledByAdmin),
        close(true),
    ]);
}

#[test]
fn it_should_close_as_refunded_a_compensation_whose_refund_was_recorded_before_the_process_died() {
    given(&[
        started(),
        stock_reserved(),
        paid(),
        failed(CancellationReason::CancelledByCustomer),
    ])
    .and_payment(&[payment_started(), authorized(), captured(), refunded()])
    .when(Input::Resume)
    .then([
        release(ReleaseReason::OrderCancelled),
        cancel(CancellationReason::CancelledByCustomer),
        close(true),
    ]);
}

#[test]
fn it_should_finish_a_compensation_under_way_with_its_first_reason_when_the_order_is_cancelled() {
    given(&[started(), failed(CancellationReason::OutOfStock)])
        .when(Input::OrderCancelled {
            reason: CancellationReason::OutOfStock,
        })
        .then([
            release(ReleaseReason::OutOfStock),
            cancel(CancellationReason::OutOfStock),
            close(false),
        ]);
}

#[test]
fn it_should_do_nothing_when_the_order_is_cancelled_again_after_the_compensation() {
    given(&[
        started(),
        failed(CancellationReason::OutOfStock),
        compensated(),
    ])
    .when(Input::OrderCancelled {
        reason: CancellationReason::OutOfStock,
    })
    .then_nothing();
}

#[test]
fn it_should_defer_a_cancellation_that_comes_before_its_checkout_started() {
    given(&[])
        .when(Input::OrderCancelled {
            reason: CancellationReason::CancelledByCustomer,
        })
        .then([Step::Defer {
            why: "the order was cancelled before its checkout started",
        }]);
}

// Which order events are inputs.

#[test]
fn it_should_take_an_order_placed_as_the_lines_to_reserve_and_the_amount_to_charge() {
    let line = OrderLine::new(
        product(1),
        Sku::parse("SKU-1").unwrap(),
        "Vase".to_owned(),
        eur(1500),
        Quantity::new(2).unwrap(),
    )
    .unwrap();
    let placed = OrderEvent::OrderPlaced {
        discount: None,
        order_id: order_id(),
        user_id: "0190a5b2-7c3e-7d4f-8a6b-000000000001".parse().unwrap(),
        lines: vec![line],
        total: eur(3000),
        shipping_address: domain::Address::parse("Ada", "Street 1", None, "Berlin", "10115", "DE")
            .unwrap(),
        payment_method: card(),
        placed_at: at(),
    };
    assert_eq!(
        Input::from_order_event(placed),
        Some(Input::OrderPlaced {
            promotion: None,
            lines: vec![ReservedLine {
                product_id: product(1),
                quantity: 2,
            }],
            amount: eur(3000),
            method: card(),
        })
    );
}

#[test]
fn it_should_not_react_to_an_order_being_confirmed_shipped_or_delivered() {
    let events = [
        OrderEvent::OrderConfirmed { confirmed_at: at() },
        OrderEvent::OrderShipped {
            tracking_number: None,
            shipped_at: at(),
        },
        OrderEvent::OrderDelivered { delivered_at: at() },
    ];
    for event in events {
        assert_eq!(Input::from_order_event(event), None);
    }
}

#[test]
fn it_should_take_an_order_cancelled_with_its_reason() {
    let cancelled = OrderEvent::OrderCancelled {
        reason: CancellationReason::CancelledByCustomer,
        previous_status: OrderStatus::Pending,
        cancelled_at: at(),
    };
    assert_eq!(
        Input::from_order_event(cancelled),
        Some(Input::OrderCancelled {
            reason: CancellationReason::CancelledByCustomer
        })
    );
}

// An order placed with a discount code.

fn promotion() -> domain::PromotionId {
    "0190a5b2-7c3e-7d4f-8a6b-000000000200".parse().unwrap()
}

fn started_with_code() -> CheckoutEvent {
    let mut event = started();
    if let CheckoutEvent::CheckoutStarted { promotion: p, .. } = &mut event {
        *p = Some(promotion());
    }
    event
}

#[test]
fn it_should_remember_the_code_of_an_order_placed_with_one() {
    let Input::OrderPlaced {
        lines,
        amount,
        method,
        ..
    } = order_placed()
    else {
        unreachable!()
    };
    let steps = decide(
        &given(&[]).0,
        Input::OrderPlaced {
            lines,
            amount,
            method,
            promotion: Some(promotion()),
        },
    );
    let Some(Step::Record(CheckoutCommand::Start {
        promotion: kept, ..
    })) = steps.first()
    else {
        panic!("{steps:?}")
    };
    assert_eq!(*kept, Some(promotion()));
}

#[test]
fn it_should_count_the_code_with_the_confirmation_and_give_it_back_with_the_stock() {
    let confirmed = decide(
        &given(&[started_with_code(), stock_reserved(), paid()]).0,
        Input::Resume,
    );
    assert_eq!(
        confirmed.first(),
        Some(&Step::Confirm {
            promotion: Some(promotion()),
            products: products(),
            at: at(),
        })
    );
    given(&[started_with_code()]).when(Input::OutOfStock).then([
        fail(CancellationReason::OutOfStock),
        Step::Release {
            promotion: Some(promotion()),
            products: products(),
            reason: ReleaseReason::OutOfStock,
            at: at(),
        },
        cancel(CancellationReason::OutOfStock),
        close(false),
    ]);
}

// An order whose discount took its whole total.

fn started_free() -> CheckoutEvent {
    let mut event = started();
    if let CheckoutEvent::CheckoutStarted { amount, .. } = &mut event {
        *amount = eur(0);
    }
    event
}

#[test]
fn it_should_confirm_an_order_with_nothing_to_pay_without_asking_the_provider() {
    let mut expected = vec![
        record(CheckoutCommand::RecordStockReserved { at: at() }),
        record(CheckoutCommand::RecordNothingToPay { at: at() }),
    ];
    expected.extend(confirm_and_complete());
    given(&[started_free()])
        .when(Input::StockReserved)
        .then(expected);
}

#[test]
fn it_should_release_the_stock_of_a_free_order_cancelled_later_without_a_refund() {
    let paid = CheckoutEvent::CheckoutNothingToPay { paid_at: at() };
    given(&[started_free(), stock_reserved(), paid, completed()])
        .when(Input::OrderCancelled {
            reason: CancellationReason::CancelledByCustomer,
        })
        .then([
            fail(CancellationReason::CancelledByCustomer),
            release(ReleaseReason::OrderCancelled),
            cancel(CancellationReason::CancelledByCustomer),
            close(false),
        ]);
}
