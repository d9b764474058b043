use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};

use super::*;
use crate::{Currency, Money, OrderId, PaymentId, PaymentMethod, Refusal, RuleViolation};

type PaymentTest = TestFramework<Payment>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

fn order_id() -> OrderId {
    "0190a5b2-7c3e-7d4f-8a6b-000000000100".parse().unwrap()
}

fn amount() -> Money {
    Money::new(1300, Currency::EUR).unwrap()
}

fn card() -> PaymentMethod {
    PaymentMethod::parse("pm_card_visa").unwrap()
}

fn start() -> PaymentCommand {
    PaymentCommand::Start {
        payment_id: PaymentId::for_order(order_id()),
        order_id: order_id(),
        amount: amount(),
        method: card(),
        at: at(),
    }
}

fn started() -> PaymentEvent {
    PaymentEvent::PaymentStarted {
        payment_id: PaymentId::for_order(order_id()),
        order_id: order_id(),
        amount: amount(),
        method: card(),
        started_at: at(),
    }
}

fn authorize(reference: &str) -> PaymentCommand {
    PaymentCommand::Authorize {
        gateway_reference: reference.to_owned(),
        at: at(),
    }
}

fn authorized() -> PaymentEvent {
    PaymentEvent::PaymentAuthorized {
        gateway_reference: "auth_1".to_owned(),
        authorized_at: at(),
    }
}

fn captured() -> PaymentEvent {
    PaymentEvent::PaymentCaptured {
        amount: amount(),
        captured_at: at(),
    }
}

fn decline() -> PaymentCommand {
    PaymentCommand::Decline {
        reason: "insufficient funds".to_owned(),
        at: at(),
    }
}

fn declined() -> PaymentEvent {
    PaymentEvent::PaymentDeclined {
        reason: "insufficient funds".to_owned(),
        declined_at: at(),
    }
}

fn refunded() -> PaymentEvent {
    PaymentEvent::PaymentRefunded {
        amount: amount(),
        refunded_at: at(),
    }
}

fn voided() -> PaymentEvent {
    PaymentEvent::PaymentVoided { voided_at: at() }
}

fn invalid(from: PaymentStatus, action: &'static str) -> PaymentError {
    PaymentError::InvalidTransition { from, action }
}

// --- Start ---

#[test]
fn it_should_start_a_payment() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(start())
        .then_expect_events(vec![started()]);
}

#[test]
fn it_should_refuse_to_start_a_payment_twice() {
    PaymentTest::with(())
        .given(vec![started()])
        .when(start())
        .then_expect_error(PaymentError::AlreadyStarted);
}

// --- Authorize ---

#[test]
fn it_should_authorize_a_pending_payment() {
    PaymentTest::with(())
        .given(vec![started()])
        .when(authorize("auth_1"))
        .then_expect_events(vec![authorized()]);
}

#[test]
fn it_should_record_nothing_when_the_same_authorization_arrives_twice() {
    PaymentTest::with(())
        .given(vec![started(), authorized()])
        .when(authorize("auth_1"))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_a_second_authorization_with_another_reference() {
    PaymentTest::with(())
        .given(vec![started(), authorized()])
        .when(authorize("auth_2"))
        .then_expect_error(invalid(PaymentStatus::Authorized, "authorize"));
}

#[test]
fn it_should_refuse_to_authorize_a_declined_payment() {
    PaymentTest::with(())
        .given(vec![started(), declined()])
        .when(authorize("auth_1"))
        .then_expect_error(invalid(PaymentStatus::Declined, "authorize"));
}

#[test]
fn it_should_refuse_to_authorize_a_payment_that_was_never_started() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(authorize("auth_1"))
        .then_expect_error(PaymentError::NotFound);
}

// --- Capture ---

#[test]
fn it_should_capture_the_full_amount_of_an_authorized_payment() {
    PaymentTest::with(())
        .given(vec![started(), authorized()])
        .when(PaymentCommand::Capture { at: at() })
        .then_expect_events(vec![captured()]);
}

#[test]
fn it_should_record_nothing_when_capturing_a_captured_payment() {
    PaymentTest::with(())
        .given(vec![started(), authorized(), captured()])
        .when(PaymentCommand::Capture { at: at() })
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_capture_a_payment_that_is_not_authorized() {
    PaymentTest::with(())
        .given(vec![started()])
        .when(PaymentCommand::Capture { at: at() })
        .then_expect_error(invalid(PaymentStatus::Pending, "capture"));
}

#[test]
fn it_should_refuse_to_capture_a_payment_that_was_never_started() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(PaymentCommand::Capture { at: at() })
        .then_expect_error(PaymentError::NotFound);
}

// --- Decline ---

#[test]
fn it_should_decline_a_pending_payment() {
    PaymentTest::with(())
        .given(vec![started()])
        .when(decline())
        .then_expect_events(vec![declined()]);
}

#[test]
fn it_should_decline_an_authorized_payment_whose_capture_failed() {
    PaymentTest::with(())
        .given(vec![started(), authorized()])
        .when(decline())
        .then_expect_events(vec![declined()]);
}

#[test]
fn it_should_record_nothing_when_declining_a_declined_payment() {
    PaymentTest::with(())
        .given(vec![started(), declined()])
        .when(decline())
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_decline_a_captured_payment() {
    PaymentTest::with(())
        .given(vec![started(), authorized(), captured()])
        .when(decline())
        .then_expect_error(invalid(PaymentStatus::Captured, "decline"));
}

#[test]
fn it_should_refuse_to_decline_a_payment_that_was_never_started() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(decline())
        .then_expect_error(PaymentError::NotFound);
}

// --- Refund ---

#[test]
fn it_should_refund_a_captured_payment() {
    PaymentTest::with(())
        .given(vec![started(), authorized(), captured()])
        .when(PaymentCommand::Refund { at: at() })
        .then_expect_events(vec![refunded()]);
}

#[test]
fn it_should_record_nothing_when_refunding_a_refunded_payment() {
    PaymentTest::with(())
        .given(vec![started(), authorized(), captured(), refunded()])
        .when(PaymentCommand::Refund { at: at() })
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_refund_a_payment_that_was_not_captured() {
    PaymentTest::with(())
        .given(vec![started(), authorized()])
        .when(PaymentCommand::Refund { at: at() })
        .then_expect_error(invalid(PaymentStatus::Authorized, "refund"));
}

#[test]
fn it_should_refuse_to_refund_a_payment_that_was_never_started() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(PaymentCommand::Refund { at: at() })
        .then_expect_error(PaymentError::NotFound);
}

// --- Void ---

#[test]
fn it_should_void_an_authorized_payment() {
    PaymentTest::with(())
        .given(vec![started(), authorized()])
        .when(PaymentCommand::Void { at: at() })
        .then_expect_events(vec![voided()]);
}

#[test]
fn it_should_record_nothing_when_voiding_a_voided_payment() {
    PaymentTest::with(())
        .given(vec![started(), authorized(), voided()])
        .when(PaymentCommand::Void { at: at() })
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_void_a_captured_payment() {
    PaymentTest::with(())
        .given(vec![started(), authorized(), captured()])
        .when(PaymentCommand::Void { at: at() })
        .then_expect_error(invalid(PaymentStatus::Captured, "void"));
}

#[test]
fn it_should_refuse_to_void_a_payment_that_was_never_started() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(PaymentCommand::Void { at: at() })
        .then_expect_error(PaymentError::NotFound);
}

// --- State, serialization and classification ---

#[test]
fn a_payment_exposes_what_the_saga_needs() {
    let mut payment = Payment::default();
    assert_eq!(payment.status(), None);
    for event in [started(), authorized(), declined()] {
        payment.apply(event);
    }
    assert_eq!(payment.id(), Some(PaymentId::for_order(order_id())));
    assert_eq!(payment.order_id(), Some(order_id()));
    assert_eq!(payment.amount(), Some(amount()));
    assert_eq!(payment.method(), Some(&card()));
    assert_eq!(payment.status(), Some(PaymentStatus::Declined));
    assert_eq!(payment.gateway_reference(), Some("auth_1"));
    assert_eq!(payment.decline_reason(), Some("insufficient funds"));
}

#[test]
fn a_payment_snapshot_round_trips_through_json() {
    let mut payment = Payment::default();
    payment.apply(started());
    payment.apply(authorized());
    let json = serde_json::to_string(&payment).unwrap();
    assert_eq!(serde_json::from_str::<Payment>(&json).unwrap(), payment);
}

#[test]
fn statuses_serialize_in_lower_case() {
    for status in [
        PaymentStatus::Pending,
        PaymentStatus::Authorized,
        PaymentStatus::Captured,
        PaymentStatus::Declined,
        PaymentStatus::Refunded,
        PaymentStatus::Voided,
    ] {
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(json, format!("\"{status}\""));
        assert_eq!(
            serde_json::from_str::<PaymentStatus>(&json).unwrap(),
            status
        );
    }
}

#[test]
fn events_are_named_after_their_variant_at_version_one() {
    let events = [
        (started(), "PaymentStarted"),
        (authorized(), "PaymentAuthorized"),
        (captured(), "PaymentCaptured"),
        (declined(), "PaymentDeclined"),
        (refunded(), "PaymentRefunded"),
        (voided(), "PaymentVoided"),
    ];
    for (event, name) in events {
        assert_eq!(event.event_type(), name);
        assert_eq!(event.event_version(), "1.0");
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<PaymentEvent>(&json).unwrap(), event);
    }
}

#[test]
fn errors_say_how_to_refuse() {
    assert_eq!(PaymentError::NotFound.refusal(), Refusal::NotFound);
    assert_eq!(PaymentError::AlreadyStarted.refusal(), Refusal::Conflict);
    let refused = invalid(PaymentStatus::Captured, "void");
    assert_eq!(refused.refusal(), Refusal::Rule);
    assert_eq!(refused.code().as_str(), "invalid_transition");
    assert_eq!(
        refused.to_string(),
        "cannot void a payment that is captured"
    );
}
