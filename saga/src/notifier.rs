//! The notifier: emails customers when their account is created and when their order is confirmed,
//! cancelled (with the reason), shipped (with the tracking number) and delivered. Each message is sent once
//! per order (or user) and kind: a `notification` aggregate records it, and a message for a notification
//! already recorded is not sent again. A failing SMTP server only delays mail — its messages are retried
//! from the notifier's own queue — and never blocks or undoes an order. A process that dies between sending
//! and recording sends the mail again on redelivery; its Message-ID, derived from the order (or user) and
//! kind, lets the recipient's mail client recognise the copy.

use std::sync::Arc;

use chrono::Utc;
use domain::notification::{Notification, NotificationCommand, NotificationKind};
use domain::order::{Order, OrderEvent};
use domain::user::User;
use domain::{OrderId, UserId};
use eventstore::{CommandBus, CommandMetadata, Stored};
use lettre::Address;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::consumer::{Arrival, Handler, HandlerError};
use crate::message::EventMessage;

pub const NOTIFIER: &str = "notifier";
pub const NOTIFIER_BINDINGS: [&str; 5] = [
    "user.UserRegistered",
    "order.OrderConfirmed",
    "order.OrderCancelled",
    "order.OrderShipped",
    "order.OrderDelivered",
];

/// Sends mail over SMTP, on connections kept open and used again (at most ten; one idle for a minute is
/// closed, and one found closed is replaced): a mail costs no connection, greeting and goodbye of its own.
/// Made on the Tokio runtime, which keeps the pool.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// From `smtp://host:port` (a local relay or mail catcher, without authentication or TLS).
    pub fn from_url(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("SMTP_URL must start with smtp://, got {url:?}"))?;
        let authority = rest.split('/').next().unwrap_or(rest);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("bad SMTP port in {url:?}"))?,
            ),
            None => (authority, 25),
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .build();
        let from = "Shop <orders@shop.example>"
            .parse()
            .map_err(|e| format!("sender address: {e}"))?;
        Ok(Self { transport, from })
    }

    /// Sends one mail. A recipient that is not an address fails permanently; anything the SMTP server says
    /// is retried, since a misconfigured relay recovers once it is fixed.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        body: String,
        message_id: String,
    ) -> Result<(), HandlerError> {
        let message = self.compose(to, subject, body, message_id)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| HandlerError::Transient(format!("SMTP: {e}")))
    }

    fn compose(
        &self,
        to: &str,
        subject: &str,
        body: String,
        message_id: String,
    ) -> Result<Message, HandlerError> {
        // A bare address, never a mailbox with a display name: the mail goes exactly where the stored
        // address says.
        let to = Mailbox::new(
            None,
            to.parse::<Address>()
                .map_err(|e| HandlerError::Permanent(format!("recipient {to:?}: {e}")))?,
        );
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id))
            .body(body)
            .map_err(|e| HandlerError::Permanent(e.to_string()))
    }
}

pub struct Notifier {
    bus: Arc<CommandBus>,
    mailer: Mailer,
}

/// The order events the notifier mails about; it acknowledges every other one unread.
const MAILS_ABOUT: [&str; 4] = [
    "OrderConfirmed",
    "OrderCancelled",
    "OrderShipped",
    "OrderDelivered",
];

/// The Message-ID of the mail of `kind` about an order (or, for a welcome, a user): the same every time it
/// is sent, so that a copy sent again after a crash is recognisable as the same message.
pub fn message_id(order_id: Option<OrderId>, user_id: UserId, kind: NotificationKind) -> String {
    match order_id {
        Some(order_id) => format!("<order-{order_id}.{}@shop.invalid>", kind.as_str()),
        None => format!("<user-{user_id}.{}@shop.invalid>", kind.as_str()),
    }
}

/// What to send, decided from one event.
struct Mail {
    key: String,
    kind: NotificationKind,
    user_id: UserId,
    order_id: Option<OrderId>,
    subject: String,
    body: String,
}

impl Notifier {
    pub fn new(bus: Arc<CommandBus>, mailer: Mailer) -> Self {
        Self { bus, mailer }
    }

    /// A fact that never changes once written (an order's owner, a user's address): from the state this
    /// process last saw of the aggregate when it still has it (the process that placed the order, or
    /// registered or logged in the user), else from the store; `None` while neither holds it.
    async fn settled<A: Stored, T>(
        &self,
        id: &str,
        fact: impl Fn(&A) -> Option<T>,
    ) -> Result<Option<T>, HandlerError> {
        let (seen, _) = self
            .bus
            .load_own::<A>(id)
            .await
            .map_err(HandlerError::transient)?;
        if let Some(known) = fact(&seen) {
            return Ok(Some(known));
        }
        let (stored, _) = self
            .bus
            .load::<A>(id)
            .await
            .map_err(HandlerError::transient)?;
        Ok(fact(&stored))
    }

    async fn order_owner(&self, order_id: OrderId) -> Result<UserId, HandlerError> {
        self.settled(&order_id.to_string(), Order::user_id)
            .await?
            .ok_or_else(|| HandlerError::Transient(format!("order {order_id} has no owner yet")))
    }

    async fn email_of(&self, user_id: UserId) -> Result<String, HandlerError> {
        self.settled(&user_id.to_string(), |user: &User| {
            user.email().map(|email| email.to_string())
        })
        .await?
        .ok_or_else(|| HandlerError::Transient("the user has no email yet".to_owned()))
    }

    async fn mail_for(&self, message: &EventMessage) -> Result<Option<Mail>, HandlerError> {
        if message.aggregate_type == "user" && message.event_type == "UserRegistered" {
            let user_id: UserId = message
                .aggregate_id
                .parse()
                .map_err(|_| HandlerError::Permanent("user id is not a UUID".to_owned()))?;
            return Ok(Some(Mail {
                key: format!("{user_id}:welcome"),
                kind: NotificationKind::Welcome,
                user_id,
                order_id: None,
                subject: "Welcome to the shop".to_owned(),
                body: "Your account is ready. Happy shopping!".to_owned(),
            }));
        }
        if message.aggregate_type != "order" || !MAILS_ABOUT.contains(&message.event_type.as_str())
        {
            return Ok(None);
        }
        let order_id: OrderId = message
            .aggregate_id
            .parse()
            .map_err(|_| HandlerError::Permanent("order id is not a UUID".to_owned()))?;
        let short = &message.aggregate_id[message.aggregate_id.len().saturating_sub(8)..];
        let event: OrderEvent = message.event()?;
        let (kind, subject, body) = match event {
            OrderEvent::OrderConfirmed { .. } => (
                NotificationKind::OrderConfirmed,
                format!("Order {short} is confirmed"),
                "We have your payment and are preparing your order.".to_owned(),
            ),
            OrderEvent::OrderCancelled { reason, .. } => (
                NotificationKind::OrderCancelled,
                format!("Order {short} was cancelled"),
                format!(
                    "Your order was cancelled: {}. Nothing was charged, or it was refunded.",
                    reason.as_str().replace('_', " ")
                ),
            ),
            OrderEvent::OrderShipped {
                tracking_number, ..
            } => (
                NotificationKind::OrderShipped,
                format!("Order {short} has shipped"),
                match tracking_number {
                    Some(t) => format!("Your order is on its way. Tracking number: {t}."),
                    None => "Your order is on its way.".to_owned(),
                },
            ),
            OrderEvent::OrderDelivered { .. } => (
                NotificationKind::OrderDelivered,
                format!("Order {short} was delivered"),
                "Your order was delivered. Enjoy!".to_owned(),
            ),
            OrderEvent::OrderPlaced { .. } => return Ok(None),
        };
        Ok(Some(Mail {
            key: format!("{order_id}:{}", kind.as_str()),
            kind,
            user_id: self.order_owner(order_id).await?,
            order_id: Some(order_id),
            subject,
            body,
        }))
    }
}

impl Handler for Notifier {
    /// Whatever the arrival, the notification is read from the store first: a copy the relay published
    /// again comes as a first delivery, and a mail cannot be taken back.
    async fn handle(&self, message: EventMessage, _: Arrival) -> Result<(), HandlerError> {
        let Some(mail) = self.mail_for(&message).await? else {
            return Ok(());
        };
        let (notification, _) = self
            .bus
            .load::<Notification>(&mail.key)
            .await
            .map_err(HandlerError::transient)?;
        if notification.is_sent() {
            return Ok(());
        }
        let to = self.email_of(mail.user_id).await?;
        let message_id = message_id(mail.order_id, mail.user_id, mail.kind);
        self.mailer
            .send(&to, &mail.subject, mail.body, message_id)
            .await?;
        let meta = CommandMetadata {
            correlation_id: message
                .correlation_id()
                .map_or_else(|| message.event_id.to_string(), str::to_owned),
            causation_id: Some(message.event_id.to_string()),
            ..CommandMetadata::default()
        };
        let record = NotificationCommand::RecordSent {
            kind: mail.kind,
            channel: "email".to_owned(),
            to,
            subject: mail.subject,
            user_id: mail.user_id,
            order_id: mail.order_id,
            at: Utc::now(),
        };
        // Sent but not recorded: a retry may send it once more (with the same Message-ID); better than never
        // recording it.
        self.bus
            .execute::<Notification>(&mail.key, record, &meta, None)
            .await
            .map(|_| ())
            .map_err(HandlerError::transient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> OrderId {
        "0190a5b2-7c3e-7d4f-8a6b-000000000100".parse().unwrap()
    }

    fn user() -> UserId {
        "0190a5b2-7c3e-7d4f-8a6b-000000000001".parse().unwrap()
    }

    // A mailer keeps its connections in a pool, whose upkeep runs on the Tokio runtime.
    #[tokio::test]
    async fn a_mail_goes_to_the_bare_stored_address_and_nothing_that_merely_contains_one() {
        let mailer = Mailer::from_url("smtp://127.0.0.1:2525").unwrap();
        let sent = mailer
            .compose(
                "ada@example.com",
                "Hi",
                "Body".to_owned(),
                "<m@x>".to_owned(),
            )
            .unwrap();
        let to: Vec<String> = sent.envelope().to().iter().map(|a| a.to_string()).collect();
        assert_eq!(to, ["ada@example.com"]);
        for forged in ["x<victim@b.c>", "Ada <victim@b.c>", "\"q\" <victim@b.c>"] {
            assert!(
                mailer
                    .compose(forged, "Hi", "Body".to_owned(), "<m@x>".to_owned())
                    .is_err(),
                "{forged}"
            );
        }
    }

    #[test]
    fn a_mail_about_an_order_has_the_same_message_id_each_time_it_is_sent() {
        let first = message_id(Some(order()), user(), NotificationKind::OrderConfirmed);
        assert_eq!(
            first,
            "<order-0190a5b2-7c3e-7d4f-8a6b-000000000100.order_confirmed@shop.invalid>"
        );
        assert_eq!(
            message_id(Some(order()), user(), NotificationKind::OrderConfirmed),
            first
        );
    }

    #[test]
    fn each_kind_of_mail_about_one_order_has_its_own_message_id() {
        let kinds = [
            NotificationKind::OrderConfirmed,
            NotificationKind::OrderCancelled,
            NotificationKind::OrderShipped,
            NotificationKind::OrderDelivered,
        ];
        let ids: std::collections::HashSet<_> = kinds
            .into_iter()
            .map(|kind| message_id(Some(order()), user(), kind))
            .collect();
        assert_eq!(ids.len(), kinds.len(), "{ids:?}");
    }

    #[test]
    fn a_welcome_mail_is_identified_by_its_user() {
        assert_eq!(
            message_id(None, user(), NotificationKind::Welcome),
            "<user-0190a5b2-7c3e-7d4f-8a6b-000000000001.welcome@shop.invalid>"
        );
    }

    #[tokio::test]
    async fn the_mail_carries_the_derived_message_id() {
        let mailer = Mailer::from_url("smtp://127.0.0.1:2525").unwrap();
        let id = message_id(Some(order()), user(), NotificationKind::OrderShipped);
        let mail = mailer
            .compose(
                "ada@example.com",
                "Shipped",
                "On its way.".to_owned(),
                id.clone(),
            )
            .unwrap();
        let text = String::from_utf8(mail.formatted()).unwrap();
        assert!(text.contains(&format!("Message-ID: {id}")), "{text}");
    }

    #[tokio::test]
    async fn a_recipient_that_is_not_an_address_is_a_permanent_failure() {
        let mailer = Mailer::from_url("smtp://127.0.0.1:2525").unwrap();
        let composed = mailer.compose("not an address", "Hi", String::new(), "<x@y>".to_owned());
        assert!(matches!(composed, Err(HandlerError::Permanent(_))));
    }
}
