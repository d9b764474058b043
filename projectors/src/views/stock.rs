//! Available stock per product (Redis): on hand minus reserved, as the product's own events state it.

use domain::product::ProductEvent;
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};

use crate::view::{StoreKind, View, ViewError, decode};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stock {
    pub available: i64,
}

impl Stock {
    pub const NAME_STR: &'static str = "stock";
}

impl View for Stock {
    const NAME: &'static str = Self::NAME_STR;
    const STORE: StoreKind = StoreKind::Redis;

    fn key(event: &StoredEvent) -> Option<String> {
        let relevant = matches!(
            event.event_type.as_str(),
            "ProductCreated"
                | "StockAdjusted"
                | "StockReserved"
                | "ReservationCommitted"
                | "ReservationReleased"
        );
        (event.aggregate_type == "product" && relevant).then(|| event.aggregate_id.clone())
    }

    fn update(&mut self, event: &StoredEvent) -> Result<(), ViewError> {
        let available = match decode::<ProductEvent>(event)? {
            ProductEvent::ProductCreated { stock, .. } => stock,
            ProductEvent::StockAdjusted { available, .. }
            | ProductEvent::StockReserved { available, .. }
            | ProductEvent::ReservationCommitted { available, .. }
            | ProductEvent::ReservationReleased { available, .. } => available,
            ProductEvent::ProductDetailsUpdated { .. }
            | ProductEvent::ProductDiscontinued { .. }
            | ProductEvent::ProductImageAdded { .. }
            | ProductEvent::ProductImagesReordered { .. }
            | ProductEvent::ProductImageRemoved { .. } => {
                return Ok(());
            }
        };
        self.available = i64::from(available);
        Ok(())
    }
}
