//! The catalog's documents: one per product, as `GET /products` lists it. The in-process catalog index
//! (`crate::search`, docs/adr/0013) holds them and searches, filters, sorts and counts them; no projector
//! writes them to MongoDB any more (the view's definition stays for the replay benchmark). Discontinued
//! products stay as documents, flagged, so that the listing can hide them.

use chrono::{DateTime, Utc};
use domain::Money;
use domain::product::ProductEvent;
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};

use crate::view::{Index, StoreKind, View, ViewError, decode};
use crate::views::DetailFields;
use crate::views::images::{self, ShownImage};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogProduct {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Option<Money>,
    pub available: i64,
    pub in_stock: bool,
    pub discontinued: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// First image first.
    #[serde(default)]
    pub images: Vec<ShownImage>,
    /// Sort keys: numbers sort exactly, unlike formatted text.
    pub price_key: i64,
    pub created_key: i64,
}

impl CatalogProduct {
    pub const NAME_STR: &'static str = "catalog";

    fn set_available(&mut self, available: u32, at: DateTime<Utc>) {
        self.available = i64::from(available);
        self.in_stock = available > 0;
        self.updated_at = Some(at);
    }

    fn reindex(&mut self) {
        self.price_key = self.price.map_or(0, |p| p.amount());
    }
}

impl View for CatalogProduct {
    const NAME: &'static str = Self::NAME_STR;
    const STORE: StoreKind = StoreKind::Mongo;
    // Listings filter on `discontinued` and sort by one key (`_id` breaks ties).
    const INDEXES: &'static [Index] = &[
        &[("discontinued", 1), ("price_key", 1), ("_id", 1)],
        &[("discontinued", 1), ("created_key", -1), ("_id", 1)],
    ];

    fn key(event: &StoredEvent) -> Option<String> {
        (event.aggregate_type == "product").then(|| event.aggregate_id.clone())
    }

    fn update(&mut self, event: &StoredEvent) -> Result<(), ViewError> {
        let event = decode::<ProductEvent>(event)?;
        if let Some(at) = images::update(&mut self.images, &event) {
            self.updated_at = Some(at);
            return Ok(());
        }
        match event {
            ProductEvent::ProductCreated {
                product_id,
                sku,
                name,
                description,
                category,
                price,
                stock,
                created_at,
            } => {
                *self = Self {
                    id: product_id.to_string(),
                    sku: sku.to_string(),
                    name,
                    description,
                    category,
                    price: Some(price),
                    created_at: Some(created_at),
                    created_key: created_at.timestamp_micros(),
                    ..Self::default()
                };
                self.set_available(stock, created_at);
                self.reindex();
            }
            ProductEvent::ProductDetailsUpdated {
                name,
                description,
                category,
                price,
                updated_at,
            } => {
                DetailFields {
                    name: &mut self.name,
                    description: &mut self.description,
                    category: &mut self.category,
                    price: &mut self.price,
                }
                .update(name, description, category, price);
                self.updated_at = Some(updated_at);
                self.reindex();
            }
            ProductEvent::ProductDiscontinued { discontinued_at } => {
                self.discontinued = true;
                self.updated_at = Some(discontinued_at);
            }
            ProductEvent::StockAdjusted {
                available,
                adjusted_at: at,
                ..
            }
            | ProductEvent::StockReserved {
                available,
                reserved_at: at,
                ..
            }
            | ProductEvent::ReservationCommitted {
                available,
                committed_at: at,
                ..
            }
            | ProductEvent::ReservationReleased {
                available,
                released_at: at,
                ..
            } => self.set_available(available, at),
            // Applied above.
            ProductEvent::ProductImageAdded { .. }
            | ProductEvent::ProductImagesReordered { .. }
            | ProductEvent::ProductImageRemoved { .. } => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::product::ProductEvent;
    use domain::{Currency, Money, OrderId, ProductId, Sku};
    use uuid::Uuid;

    use super::*;
    use crate::views::test_events::stored;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::parse("EUR").unwrap()).unwrap()
    }

    fn created() -> ProductEvent {
        ProductEvent::ProductCreated {
            product_id: ProductId::new(Uuid::from_u128(7)),
            sku: Sku::parse("BLUE-SHIRT").unwrap(),
            name: "Blue Shirt".to_owned(),
            description: "Soft cotton".to_owned(),
            category: "Shirts".to_owned(),
            price: eur(1999),
            stock: 3,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_created_product_is_listed_with_its_price_and_stock() {
        let mut view = CatalogProduct::default();
        view.update(&stored("product", "p", 1, &created())).unwrap();
        assert_eq!(view.available, 3);
        assert!(view.in_stock);
        assert_eq!(view.price_key, 1999);
    }

    #[test]
    fn stock_events_set_availability_and_in_stock() {
        let mut view = CatalogProduct::default();
        view.update(&stored("product", "p", 1, &created())).unwrap();
        let reserved = ProductEvent::StockReserved {
            order_id: OrderId::new(Uuid::from_u128(1)),
            quantity: 3,
            expires_at: Utc::now(),
            available: 0,
            reserved_at: Utc::now(),
        };
        view.update(&stored("product", "p", 2, &reserved)).unwrap();
        assert_eq!((view.available, view.in_stock), (0, false));
    }

    #[test]
    fn edits_change_only_what_they_name_and_reindex() {
        let mut view = CatalogProduct::default();
        view.update(&stored("product", "p", 1, &created())).unwrap();
        let edit = ProductEvent::ProductDetailsUpdated {
            name: Some("Red Shirt".to_owned()),
            description: None,
            category: None,
            price: Some(eur(2499)),
            updated_at: Utc::now(),
        };
        view.update(&stored("product", "p", 2, &edit)).unwrap();
        assert_eq!(view.name, "Red Shirt");
        assert_eq!(view.description, "Soft cotton");
        assert_eq!(view.price_key, 2499);
    }

    #[test]
    fn a_discontinued_product_is_flagged() {
        let mut view = CatalogProduct::default();
        view.update(&stored("product", "p", 1, &created())).unwrap();
        let gone = ProductEvent::ProductDiscontinued {
            discontinued_at: Utc::now(),
        };
        view.update(&stored("product", "p", 2, &gone)).unwrap();
        assert!(view.discontinued);
    }
}
