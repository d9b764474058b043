//! The notifier: emails customers when their account is created and when their order is confirmed,
//! cancelled (with the reason), shipped (with the tracking number) and delivered. Each message is sent once
//! per order (or user) and kind: a `notification` aggregate records it, and a message for a notification
//! already recorded is not sent again. A failing SMTP server only delays mail — its messages are retried
//! from the notifier's own queue — and never blocks or undoes an order.

use std::sync::Arc;

use chrono::Utc;
use domain::notification::{Notification, NotificationCommand, NotificationKind};
use domain::order::{Order, OrderEvent};
use domain::user::User;
use domain::{OrderId, UserId};
use eventstore::{BusError, CommandBus, CommandMetadata};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::consumer::Handler;
use crate::message::EventMessage;

pub const NOTIFIER: &str = "notifier";
pub const NOTIFIER_BINDINGS: [&str; 5] = [
    "user.UserRegistered",
    "order.OrderConfirmed",
    "order.OrderCancelled",
    "order.OrderShipped",
    "order.OrderDelivered",
];

/// Sends mail over SMTP.
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

    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body)
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

pub struct Notifier {
    bus: Arc<CommandBus>,
    mailer: Mailer,
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

    async fn order_owner(&self, order_id: OrderId) -> Result<UserId, String> {
        let (order, _) = self
            .bus
            .load::<Order>(&order_id.to_string())
            .await
            .map_err(|e| e.to_string())?;
        order
            .user_id()
            .ok_or_else(|| format!("order {order_id} has no owner yet"))
    }

    async fn mail_for(&self, message: &EventMessage) -> Result<Option<Mail>, String> {
        if message.aggregate_type == "user" && message.event_type == "UserRegistered" {
            let user_id: UserId = message
                .aggregate_id
                .parse()
                .map_err(|_| "user id is not a UUID".to_owned())?;
            return Ok(Some(Mail {
                key: format!("{user_id}:welcome"),
                kind: NotificationKind::Welcome,
                user_id,
                order_id: None,
                subject: "Welcome to the shop".to_owned(),
                body: "Your account is ready. Happy shopping!".to_owned(),
            }));
        }
        if message.aggregate_type != "order" {
            return Ok(None);
        }
        let order_id: OrderId = message
            .aggregate_id
            .parse()
            .map_err(|_| "order id is not a UUID".to_owned())?;
        let short = &message.aggregate_id[message.aggregate_id.len().saturating_sub(8)..];
        let event: OrderEvent = serde_json::from_value(message.domain_payload())
            .map_err(|e| format!("{} cannot be read: {e}", message.event_type))?;
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
    async fn handle(&self, message: EventMessage) -> Result<(), String> {
        let Some(mail) = self.mail_for(&message).await? else {
            return Ok(());
        };
        let (notification, _) = self
            .bus
            .load::<Notification>(&mail.key)
            .await
            .map_err(|e| e.to_string())?;
        if notification.is_sent() {
            return Ok(());
        }
        let (user, _) = self
            .bus
            .load::<User>(&mail.user_id.to_string())
            .await
            .map_err(|e| e.to_string())?;
        let to = user
            .email()
            .map(|e| e.to_string())
            .ok_or_else(|| "the user has no email yet".to_owned())?;
        self.mailer.send(&to, &mail.subject, mail.body).await?;
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
        match self
            .bus
            .execute::<Notification>(&mail.key, record, &meta, None)
            .await
        {
            Ok(_) => Ok(()),
            Err(BusError::Rejected(e)) => Err(e.to_string()),
            // Sent but not recorded: a retry may send it once more; better than never recording it.
            Err(e) => Err(e.to_string()),
        }
    }
}
