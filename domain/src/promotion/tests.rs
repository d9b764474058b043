use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::discount::{Off, Offer};
use super::*;
use crate::{Currency, Money, OrderId, Refusal, RuleViolation, UserId};

type PromotionTest = TestFramework<Promotion>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn order(n: u32) -> OrderId {
    format!("0190a5b2-7c3e-7d4f-8a6b-0000000001{n:02}")
        .parse()
        .unwrap()
}

fn customer(n: u32) -> UserId {
    format!("0190a5b2-7c3e-7d4f-8a6b-0000000000{n:02}")
        .parse()
        .unwrap()
}

fn terms() -> Terms {
    Terms {
        code: "WINTER10".to_owned(),
        offer: Offer {
            off: Off::Percent(10),
            min_subtotal: None,
            categories: Vec::new(),
        },
        valid_from: Some(at() - Duration::days(1)),
        valid_until: Some(at() + Duration::days(30)),
        max_redemptions: Some(2),
        max_per_customer: Some(1),
    }
}

fn created() -> PromotionEvent {
    PromotionEvent::PromotionCreated {
        terms: terms(),
        created_at: at(),
    }
}

fn hold(order_n: u32, customer_n: u32) -> PromotionCommand {
    PromotionCommand::Hold {
        order_id: order(order_n),
        customer: customer(customer_n),
        at: at(),
    }
}

fn held(order_n: u32, customer_n: u32) -> PromotionEvent {
    PromotionEvent::RedemptionHeld {
        order_id: order(order_n),
        customer: customer(customer_n),
        at: at(),
    }
}

#[test]
fn it_should_create_a_code_kept_upper_case() {
    PromotionTest::with(())
        .given_no_previous_events()
        .when(PromotionCommand::Create {
            terms: Terms {
                code: " winter10 ".to_owned(),
                ..terms()
            },
            at: at(),
        })
        .then_expect_events(vec![created()]);
}

#[test]
fn it_should_refuse_terms_that_cannot_work() {
    let refused = |terms: Terms| {
        PromotionTest::with(())
            .given_no_previous_events()
            .when(PromotionCommand::Create { terms, at: at() })
    };
    refused(Terms {
        code: "X".to_owned(),
        ..terms()
    })
    .then_expect_error(PromotionError::InvalidCode);
    refused(Terms {
        offer: Offer {
            off: Off::Percent(0),
            ..terms().offer
        },
        ..terms()
    })
    .then_expect_error(PromotionError::InvalidOff);
    refused(Terms {
        offer: Offer {
            off: Off::Amount(Money::zero(Currency::EUR)),
            ..terms().offer
        },
        ..terms()
    })
    .then_expect_error(PromotionError::InvalidOff);
    refused(Terms {
        valid_until: Some(at() - Duration::days(2)),
        ..terms()
    })
    .then_expect_error(PromotionError::InvalidWindow);
}

#[test]
fn it_should_hold_redemptions_up_to_its_limit_and_refuse_the_next() {
    PromotionTest::with(())
        .given(vec![created(), held(1, 1), held(2, 2)])
        .when(hold(3, 3))
        .then_expect_error(PromotionError::UsedUp);
}

#[test]
fn it_should_refuse_a_customer_who_used_it_as_often_as_it_allows() {
    PromotionTest::with(())
        .given(vec![created(), held(1, 1)])
        .when(hold(2, 1))
        .then_expect_error(PromotionError::UsedUpByCustomer);
}

#[test]
fn it_should_hold_once_per_order_whatever_the_retries() {
    PromotionTest::with(())
        .given(vec![created(), held(1, 1)])
        .when(hold(1, 1))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_give_a_cancelled_orders_redemption_back() {
    let release = PromotionCommand::Release {
        order_id: order(1),
        at: at(),
    };
    PromotionTest::with(())
        .given(vec![created(), held(1, 1), held(2, 2)])
        .when(release)
        .then_expect_events(vec![PromotionEvent::RedemptionReleased {
            order_id: order(1),
            at: at(),
        }]);
    PromotionTest::with(())
        .given(vec![
            created(),
            held(1, 1),
            held(2, 2),
            PromotionEvent::RedemptionReleased {
                order_id: order(1),
                at: at(),
            },
        ])
        .when(hold(3, 3))
        .then_expect_events(vec![held(3, 3)]);
}

#[test]
fn it_should_count_a_confirmed_orders_redemption_once_and_give_it_back_if_the_order_is_cancelled() {
    let counted = PromotionEvent::RedemptionCounted {
        order_id: order(1),
        at: at(),
    };
    let count = || PromotionCommand::Count {
        order_id: order(1),
        at: at(),
    };
    PromotionTest::with(())
        .given(vec![created(), held(1, 1)])
        .when(count())
        .then_expect_events(vec![counted.clone()]);
    PromotionTest::with(())
        .given(vec![created(), held(1, 1), counted.clone()])
        .when(count())
        .then_expect_events(vec![]);
    PromotionTest::with(())
        .given(vec![created(), held(1, 1), counted])
        .when(PromotionCommand::Release {
            order_id: order(1),
            at: at(),
        })
        .then_expect_events(vec![PromotionEvent::RedemptionReleased {
            order_id: order(1),
            at: at(),
        }]);
}

#[test]
fn it_should_refuse_a_paused_an_ended_an_early_or_an_expired_code() {
    let early = PromotionCommand::Hold {
        order_id: order(1),
        customer: customer(1),
        at: at() - Duration::days(2),
    };
    PromotionTest::with(())
        .given(vec![created()])
        .when(early)
        .then_expect_error(PromotionError::NotYetValid);
    let late = PromotionCommand::Hold {
        order_id: order(1),
        customer: customer(1),
        at: at() + Duration::days(30),
    };
    PromotionTest::with(())
        .given(vec![created()])
        .when(late)
        .then_expect_error(PromotionError::Expired);
    PromotionTest::with(())
        .given(vec![
            created(),
            PromotionEvent::PromotionPaused { at: at() },
        ])
        .when(hold(1, 1))
        .then_expect_error(PromotionError::Paused);
    PromotionTest::with(())
        .given(vec![created(), PromotionEvent::PromotionEnded { at: at() }])
        .when(PromotionCommand::Resume { at: at() })
        .then_expect_error(PromotionError::Ended);
    PromotionTest::with(())
        .given_no_previous_events()
        .when(hold(1, 1))
        .then_expect_error(PromotionError::NotFound);
}

#[test]
fn it_should_pause_and_resume_and_end_once() {
    PromotionTest::with(())
        .given(vec![created()])
        .when(PromotionCommand::Pause { at: at() })
        .then_expect_events(vec![PromotionEvent::PromotionPaused { at: at() }]);
    PromotionTest::with(())
        .given(vec![
            created(),
            PromotionEvent::PromotionPaused { at: at() },
        ])
        .when(PromotionCommand::Resume { at: at() })
        .then_expect_events(vec![PromotionEvent::PromotionResumed { at: at() }]);
    PromotionTest::with(())
        .given(vec![created(), PromotionEvent::PromotionEnded { at: at() }])
        .when(PromotionCommand::End { at: at() })
        .then_expect_events(vec![]);
}

#[test]
fn its_refusals_are_rules_except_a_second_creation() {
    assert_eq!(PromotionError::AlreadyCreated.refusal(), Refusal::Conflict);
    assert_eq!(PromotionError::NotFound.refusal(), Refusal::Rule);
    assert_eq!(
        PromotionError::UsedUp.code().as_str(),
        "discount_code_used_up"
    );
}
