use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::{OrderId, ProblemCode, RuleViolation, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Welcome,
    OrderConfirmed,
    OrderCancelled,
    OrderShipped,
    OrderDelivered,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::OrderConfirmed => "order_confirmed",
            Self::OrderCancelled => "order_cancelled",
            Self::OrderShipped => "order_shipped",
            Self::OrderDelivered => "order_delivered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NotificationCommand {
    /// Records that the message went out. Recording it again changes nothing.
    RecordSent {
        kind: NotificationKind,
        channel: String,
        to: String,
        subject: String,
        user_id: UserId,
        order_id: Option<OrderId>,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NotificationEvent {
    NotificationSent {
        kind: NotificationKind,
        channel: String,
        to: String,
        subject: String,
        user_id: UserId,
        order_id: Option<OrderId>,
        sent_at: DateTime<Utc>,
    },
}

impl DomainEvent for NotificationEvent {
    fn event_type(&self) -> String {
        "NotificationSent".to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("a notification needs a recipient")]
    NoRecipient,
}

impl RuleViolation for NotificationError {
    fn code(&self) -> ProblemCode {
        ProblemCode::NoRecipient
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    sent: bool,
}

impl Notification {
    pub fn is_sent(&self) -> bool {
        self.sent
    }
}

impl Aggregate for Notification {
    const TYPE: &'static str = "notification";
    type Command = NotificationCommand;
    type Event = NotificationEvent;
    type Error = NotificationError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let NotificationCommand::RecordSent {
            kind,
            channel,
            to,
            subject,
            user_id,
            order_id,
            at,
        } = command;
        if self.sent {
            return Ok(());
        }
        if to.trim().is_empty() {
            return Err(NotificationError::NoRecipient);
        }
        let event = NotificationEvent::NotificationSent {
            kind,
            channel,
            to,
            subject,
            user_id,
            order_id,
            sent_at: at,
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            NotificationEvent::NotificationSent { .. } => self.sent = true,
        }
    }
}
