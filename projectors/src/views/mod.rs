//! The views. Each is a document type with a pure `update`; see each module for what it answers.

pub mod carts;
pub mod catalog;
pub mod images;
pub mod notifications;
pub mod orders;
pub mod product_cache;
pub mod promotions;
pub mod stock;
pub mod users;

/// Names of every projector into MongoDB and Redis, for the CLI and health reports. The catalog is not one
/// of them: each query process builds its own index from the feed (`crate::search`).
pub const ALL: [&str; 7] = [
    users::UserProfile::NAME_STR,
    orders::OrderView::NAME_STR,
    product_cache::ProductDetails::NAME_STR,
    stock::Stock::NAME_STR,
    carts::CartView::NAME_STR,
    notifications::NotificationView::NAME_STR,
    promotions::PromotionView::NAME_STR,
];

/// The text and price of a product as its `ProductDetailsUpdated` events leave them: what an update names
/// replaces, what it leaves out stays. Shared by every view that shows a product's details.
pub(crate) struct DetailFields<'a> {
    pub name: &'a mut String,
    pub description: &'a mut String,
    pub category: &'a mut String,
    pub price: &'a mut Option<domain::Money>,
}

impl DetailFields<'_> {
    pub fn update(
        self,
        name: Option<String>,
        description: Option<String>,
        category: Option<String>,
        price: Option<domain::Money>,
    ) {
        if let Some(name) = name {
            *self.name = name;
        }
        if let Some(description) = description {
            *self.description = description;
        }
        if let Some(category) = category {
            *self.category = category;
        }
        if price.is_some() {
            *self.price = price;
        }
    }
}

#[cfg(test)]
pub(crate) mod test_events {
    //! Stored events for the views' unit tests.
    use chrono::{TimeZone, Utc};
    use eventstore::{Position, StoredEvent};
    use serde::Serialize;
    use uuid::Uuid;

    pub fn stored<E: Serialize + cqrs_like::Named>(
        aggregate_type: &str,
        id: &str,
        sequence: i64,
        event: &E,
    ) -> StoredEvent {
        StoredEvent {
            position: Position::new(1, sequence),
            event_id: Uuid::from_u128(sequence as u128),
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: id.to_owned(),
            sequence,
            event_type: event.name(),
            event_version: "1.0".to_owned(),
            payload: serde_json::to_value(event).unwrap(),
            metadata: serde_json::json!({}),
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
            hash: String::new(),
        }
    }

    pub mod cqrs_like {
        pub trait Named {
            fn name(&self) -> String;
        }
        impl<T: cqrs_es::DomainEvent> Named for T {
            fn name(&self) -> String {
                self.event_type()
            }
        }
    }
}
