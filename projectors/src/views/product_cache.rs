//! Product details (Redis): what `GET /products/{id}` and the cart show about a product, without its stock,
//! which changes far more often and lives in [`super::stock`].

use chrono::{DateTime, Utc};
use domain::Money;
use domain::product::ProductEvent;
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};

use crate::view::{StoreKind, View, ViewError, decode};
use crate::views::DetailFields;
use crate::views::images::{self, ShownImage};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductDetails {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Option<Money>,
    pub discontinued: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// First image first.
    #[serde(default)]
    pub images: Vec<ShownImage>,
}

impl ProductDetails {
    pub const NAME_STR: &'static str = "product_details";
}

impl View for ProductDetails {
    const NAME: &'static str = Self::NAME_STR;
    const STORE: StoreKind = StoreKind::Redis;

    fn key(event: &StoredEvent) -> Option<String> {
        let relevant = matches!(
            event.event_type.as_str(),
            "ProductCreated"
                | "ProductDetailsUpdated"
                | "ProductDiscontinued"
                | "ProductImageAdded"
                | "ProductImagesReordered"
                | "ProductImageRemoved"
        );
        (event.aggregate_type == "product" && relevant).then(|| event.aggregate_id.clone())
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
                created_at,
                ..
            } => {
                *self = Self {
                    id: product_id.to_string(),
                    sku: sku.to_string(),
                    name,
                    description,
                    category,
                    price: Some(price),
                    discontinued: false,
                    created_at: Some(created_at),
                    updated_at: Some(created_at),
                    images: vec![],
                };
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
            }
            ProductEvent::ProductDiscontinued { discontinued_at } => {
                self.discontinued = true;
                self.updated_at = Some(discontinued_at);
            }
            _ => {}
        }
        Ok(())
    }
}
