use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{ProductImage, ReleaseReason};
use crate::{ImageId, Money, OrderId, ProductId, Sku};

/// What happened to a product.
///
/// Stock events carry the resulting `on_hand` and `available` counts, so a stock projection
/// can store them as they are instead of replaying reservations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProductEvent {
    ProductCreated {
        product_id: ProductId,
        sku: Sku,
        name: String,
        description: String,
        category: String,
        price: Money,
        stock: u32,
        created_at: DateTime<Utc>,
    },
    /// Only the fields that changed are `Some`.
    ProductDetailsUpdated {
        name: Option<String>,
        description: Option<String>,
        category: Option<String>,
        price: Option<Money>,
        updated_at: DateTime<Utc>,
    },
    StockAdjusted {
        delta: i64,
        on_hand: u32,
        available: u32,
        adjusted_at: DateTime<Utc>,
    },
    ProductDiscontinued {
        discontinued_at: DateTime<Utc>,
    },
    StockReserved {
        order_id: OrderId,
        quantity: u32,
        expires_at: DateTime<Utc>,
        available: u32,
        reserved_at: DateTime<Utc>,
    },
    ReservationCommitted {
        order_id: OrderId,
        quantity: u32,
        on_hand: u32,
        available: u32,
        committed_at: DateTime<Utc>,
    },
    /// `returned_to_stock` is true when a committed reservation was undone, i.e. `on_hand` rose.
    ReservationReleased {
        order_id: OrderId,
        quantity: u32,
        reason: ReleaseReason,
        returned_to_stock: bool,
        on_hand: u32,
        available: u32,
        released_at: DateTime<Utc>,
    },
    /// An image's files were stored; it is shown after the product's other images.
    ProductImageAdded {
        image: ProductImage,
        added_at: DateTime<Utc>,
    },
    /// Every image of the product, in the order to show them.
    ProductImagesReordered {
        order: Vec<ImageId>,
        reordered_at: DateTime<Utc>,
    },
    /// The image is no longer shown; its files go to the media sweep unless another image has them.
    ProductImageRemoved {
        image_id: ImageId,
        removed_at: DateTime<Utc>,
    },
}

impl DomainEvent for ProductEvent {
    fn event_type(&self) -> String {
        let name = match self {
            ProductEvent::ProductCreated { .. } => "ProductCreated",
            ProductEvent::ProductDetailsUpdated { .. } => "ProductDetailsUpdated",
            ProductEvent::StockAdjusted { .. } => "StockAdjusted",
            ProductEvent::ProductDiscontinued { .. } => "ProductDiscontinued",
            ProductEvent::StockReserved { .. } => "StockReserved",
            ProductEvent::ReservationCommitted { .. } => "ReservationCommitted",
            ProductEvent::ReservationReleased { .. } => "ReservationReleased",
            ProductEvent::ProductImageAdded { .. } => "ProductImageAdded",
            ProductEvent::ProductImagesReordered { .. } => "ProductImagesReordered",
            ProductEvent::ProductImageRemoved { .. } => "ProductImageRemoved",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
