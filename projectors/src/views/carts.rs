//! Carts (Redis): each user's lines and quantities, and the discount code applied. Names and prices are
//! joined from the product details at read time, so the cart always shows current prices, and the code's
//! discount is worked out then from its promotion's terms.

use domain::cart::CartEvent;
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};

use crate::view::{StoreKind, View, ViewError, decode};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CartView {
    /// In the order they were first added.
    pub lines: Vec<CartEntry>,
    /// The discount code applied, if any.
    #[serde(default)]
    pub discount: Option<CartCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartCode {
    pub promotion_id: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartEntry {
    pub product_id: String,
    pub quantity: u32,
}

impl CartView {
    pub const NAME_STR: &'static str = "carts";

    fn set(&mut self, product_id: String, quantity: u32) {
        match self.lines.iter_mut().find(|l| l.product_id == product_id) {
            Some(line) => line.quantity = quantity,
            None => self.lines.push(CartEntry {
                product_id,
                quantity,
            }),
        }
    }
}

impl View for CartView {
    const NAME: &'static str = Self::NAME_STR;
    const STORE: StoreKind = StoreKind::Redis;

    fn key(event: &StoredEvent) -> Option<String> {
        (event.aggregate_type == "cart").then(|| event.aggregate_id.clone())
    }

    fn update(&mut self, event: &StoredEvent) -> Result<(), ViewError> {
        match decode::<CartEvent>(event)? {
            CartEvent::ItemAdded {
                product_id,
                line_quantity,
                ..
            } => self.set(product_id.to_string(), line_quantity),
            CartEvent::ItemQuantityChanged {
                product_id,
                quantity,
                ..
            } => self.set(product_id.to_string(), quantity),
            CartEvent::ItemRemoved { product_id, .. } => {
                let id = product_id.to_string();
                self.lines.retain(|l| l.product_id != id);
            }
            CartEvent::CartCheckedOut { .. } | CartEvent::CartCleared { .. } => {
                self.lines.clear();
                self.discount = None;
            }
            CartEvent::DiscountApplied {
                promotion_id, code, ..
            } => {
                self.discount = Some(CartCode {
                    promotion_id: promotion_id.to_string(),
                    code,
                });
            }
            CartEvent::DiscountRemoved { .. } => self.discount = None,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::cart::CartEvent;
    use domain::{Currency, Money, OrderId, ProductId, Sku};
    use uuid::Uuid;

    use super::*;
    use crate::view::Versioned;
    use crate::views::test_events::stored;

    fn added(product: u128, line_quantity: u32) -> CartEvent {
        CartEvent::ItemAdded {
            product_id: ProductId::new(Uuid::from_u128(product)),
            sku: Sku::parse("X").unwrap(),
            name: "X".to_owned(),
            unit_price: Money::new(100, Currency::parse("EUR").unwrap()).unwrap(),
            quantity: 1,
            line_quantity,
            added_at: Utc::now(),
        }
    }

    #[test]
    fn lines_follow_adds_removals_and_checkout() {
        let mut view = CartView::default();
        view.update(&stored("cart", "u", 1, &added(1, 1))).unwrap();
        view.update(&stored("cart", "u", 2, &added(2, 1))).unwrap();
        view.update(&stored("cart", "u", 3, &added(1, 3))).unwrap();
        assert_eq!(
            view.lines.iter().map(|l| l.quantity).collect::<Vec<_>>(),
            [3, 1]
        );
        let checked_out = CartEvent::CartCheckedOut {
            order_id: OrderId::new(Uuid::from_u128(5)),
            lines: vec![],
            checked_out_at: Utc::now(),
        };
        view.update(&stored("cart", "u", 4, &checked_out)).unwrap();
        assert!(view.lines.is_empty());
    }

    #[test]
    fn an_event_delivered_twice_changes_nothing() {
        let mut doc = Versioned::<CartView>::default();
        assert!(doc.apply(&stored("cart", "u", 1, &added(1, 1))).unwrap());
        assert!(doc.apply(&stored("cart", "u", 2, &added(1, 2))).unwrap());
        assert!(!doc.apply(&stored("cart", "u", 1, &added(1, 1))).unwrap());
        assert_eq!(doc.view.lines[0].quantity, 2);
        assert_eq!(doc.version("cart"), 2);
    }
}
