//! Notifications (MongoDB): the messages the notifier sent, listed by `GET /notifications`.

use chrono::{DateTime, Utc};
use domain::notification::NotificationEvent;
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};

use crate::view::{Index, StoreKind, View, ViewError, decode};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub user_id: String,
    pub order_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Sort key for "newest first".
    pub sent_key: i64,
}

impl NotificationView {
    pub const NAME_STR: &'static str = "notifications";
}

impl View for NotificationView {
    const NAME: &'static str = Self::NAME_STR;
    const STORE: StoreKind = StoreKind::Mongo;
    // A customer's notifications, or everyone's, newest first.
    const INDEXES: &'static [Index] = &[
        &[("user_id", 1), ("sent_key", -1), ("_id", 1)],
        &[("sent_key", -1), ("_id", 1)],
    ];

    fn key(event: &StoredEvent) -> Option<String> {
        (event.aggregate_type == "notification").then(|| event.aggregate_id.clone())
    }

    fn update(&mut self, event: &StoredEvent) -> Result<(), ViewError> {
        let NotificationEvent::NotificationSent {
            kind,
            channel,
            to,
            subject,
            user_id,
            order_id,
            sent_at,
        } = decode(event)?;
        *self = Self {
            id: event.aggregate_id.clone(),
            kind: kind.as_str().to_owned(),
            channel,
            to,
            subject,
            user_id: user_id.to_string(),
            order_id: order_id.map(|o| o.to_string()),
            sent_at: Some(sent_at),
            sent_key: sent_at.timestamp_micros(),
        };
        Ok(())
    }
}
