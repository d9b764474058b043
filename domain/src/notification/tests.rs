use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::{OrderId, UserId};

fn record(to: &str) -> NotificationCommand {
    NotificationCommand::RecordSent {
        kind: NotificationKind::OrderConfirmed,
        channel: "email".to_owned(),
        to: to.to_owned(),
        subject: "Your order is confirmed".to_owned(),
        user_id: UserId::new(Uuid::from_u128(1)),
        order_id: Some(OrderId::new(Uuid::from_u128(2))),
        at: Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
    }
}

fn sent() -> NotificationEvent {
    NotificationEvent::NotificationSent {
        kind: NotificationKind::OrderConfirmed,
        channel: "email".to_owned(),
        to: "ada@example.com".to_owned(),
        subject: "Your order is confirmed".to_owned(),
        user_id: UserId::new(Uuid::from_u128(1)),
        order_id: Some(OrderId::new(Uuid::from_u128(2))),
        sent_at: Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
    }
}

#[test]
fn it_should_record_a_sent_notification_once() {
    TestFramework::<Notification>::with(())
        .given_no_previous_events()
        .when(record("ada@example.com"))
        .then_expect_events(vec![sent()]);
    TestFramework::<Notification>::with(())
        .given(vec![sent()])
        .when(record("ada@example.com"))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_a_notification_without_a_recipient() {
    TestFramework::<Notification>::with(())
        .given_no_previous_events()
        .when(record(" "))
        .then_expect_error(NotificationError::NoRecipient);
}
