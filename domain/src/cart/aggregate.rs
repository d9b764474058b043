use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::{CartCommand, CartError, CartEvent, ProductSnapshot};
use crate::{Money, ProductId, PromotionId, Quantity, Sku, ValueError};

/// A user's cart. There is no "created" step: every user implicitly has an empty one.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cart {
    /// In the order the products were first added, which is how the cart is shown.
    lines: Vec<CartLine>,
    /// The discount code applied, if any; checked again at checkout.
    #[serde(default)]
    discount: Option<AppliedCode>,
}

/// A discount code as a cart holds it: the promotion found for it, and the code as the customer typed it
/// (normalized).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedCode {
    pub promotion_id: PromotionId,
    pub code: String,
}

/// One product in a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product_id: ProductId,
    pub sku: Sku,
    pub name: String,
    /// The price from the most recent `AddItem` of this product.
    pub unit_price: Money,
    /// 1 to 99.
    pub quantity: u32,
}

impl CartLine {
    /// `unit_price × quantity`.
    pub fn line_total(&self) -> Result<Money, ValueError> {
        let quantity = Quantity::new(i64::from(self.quantity))?;
        self.unit_price.times(quantity)
    }
}

impl Cart {
    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn discount(&self) -> Option<&AppliedCode> {
        self.discount.as_ref()
    }

    pub fn line(&self, product_id: ProductId) -> Option<&CartLine> {
        self.lines.iter().find(|line| line.product_id == product_id)
    }

    /// The sum of all lines; `None` for an empty cart, which has no currency.
    pub fn total(&self) -> Option<Money> {
        self.checked_total().ok().flatten()
    }

    fn checked_total(&self) -> Result<Option<Money>, ValueError> {
        let Some(first) = self.lines.first() else {
            return Ok(None);
        };
        let zero = Money::zero(first.unit_price.currency());
        self.lines
            .iter()
            .try_fold(zero, |sum, line| sum.checked_add(line.line_total()?))
            .map(Some)
    }

    /// The events `command` leads to, or the rule it breaks.
    fn decide(&self, command: CartCommand) -> Result<Vec<CartEvent>, CartError> {
        let events = match command {
            CartCommand::AddItem {
                product,
                quantity,
                at,
            } => self.add_item(product, quantity, at)?,
            CartCommand::ChangeQuantity {
                product_id,
                quantity,
                at,
            } => {
                let line = self.line(product_id).ok_or(CartError::LineNotFound)?;
                if quantity == 0 {
                    vec![CartEvent::ItemRemoved {
                        product_id,
                        removed_at: at,
                    }]
                } else if quantity > Quantity::MAX {
                    return Err(CartError::LineLimitExceeded { max: Quantity::MAX });
                } else if quantity == line.quantity {
                    vec![]
                } else {
                    vec![CartEvent::ItemQuantityChanged {
                        product_id,
                        quantity,
                        changed_at: at,
                    }]
                }
            }
            CartCommand::RemoveItem { product_id, at } => {
                self.line(product_id).ok_or(CartError::LineNotFound)?;
                vec![CartEvent::ItemRemoved {
                    product_id,
                    removed_at: at,
                }]
            }
            CartCommand::CheckOut { order_id, at } => {
                if self.lines.is_empty() {
                    return Err(CartError::EmptyCart);
                }
                vec![CartEvent::CartCheckedOut {
                    order_id,
                    lines: self.lines.clone(),
                    checked_out_at: at,
                }]
            }
            CartCommand::Clear { at } if !self.lines.is_empty() || self.discount.is_some() => {
                vec![CartEvent::CartCleared { cleared_at: at }]
            }
            CartCommand::Clear { .. } => vec![],
            CartCommand::ApplyDiscount { .. } if self.lines.is_empty() => {
                return Err(CartError::EmptyCart);
            }
            CartCommand::ApplyDiscount { code, .. } if self.discount.as_ref() == Some(&code) => {
                vec![]
            }
            CartCommand::ApplyDiscount { code, at } => vec![CartEvent::DiscountApplied {
                promotion_id: code.promotion_id,
                code: code.code,
                applied_at: at,
            }],
            CartCommand::RemoveDiscount { at } if self.discount.is_some() => {
                vec![CartEvent::DiscountRemoved { removed_at: at }]
            }
            CartCommand::RemoveDiscount { .. } => vec![],
        };
        self.ensure_total_fits(&events)?;
        Ok(events)
    }

    fn add_item(
        &self,
        product: ProductSnapshot,
        quantity: Quantity,
        at: DateTime<Utc>,
    ) -> Result<Vec<CartEvent>, CartError> {
        let ProductSnapshot {
            product_id,
            sku,
            name,
            unit_price,
            discontinued,
        } = product;
        if discontinued {
            return Err(CartError::ProductDiscontinued);
        }
        // One currency per cart, so that it has a total and becomes one order and one payment.
        let currency = unit_price.currency();
        if self
            .lines
            .iter()
            .any(|line| line.unit_price.currency() != currency)
        {
            return Err(CartError::CurrencyMismatch);
        }
        let current = self.line(product_id).map_or(0, |line| line.quantity);
        let line_quantity = current + quantity.get();
        if line_quantity > Quantity::MAX {
            return Err(CartError::LineLimitExceeded { max: Quantity::MAX });
        }
        Ok(vec![CartEvent::ItemAdded {
            product_id,
            sku,
            name,
            unit_price,
            quantity: quantity.get(),
            line_quantity,
            added_at: at,
        }])
    }

    /// Refuses events after which the cart total could not be computed (absurd prices).
    fn ensure_total_fits(&self, events: &[CartEvent]) -> Result<(), CartError> {
        let mut preview = self.clone();
        for event in events {
            preview.apply(event.clone());
        }
        match preview.checked_total() {
            Ok(_) => Ok(()),
            Err(_) => Err(CartError::TotalTooLarge),
        }
    }
}

impl Aggregate for Cart {
    const TYPE: &'static str = "cart";
    type Command = CartCommand;
    type Event = CartEvent;
    type Error = CartError;
    type Services = ();

    async fn handle(
        &mut self,
        command: CartCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), CartError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: CartEvent) {
        match event {
            CartEvent::ItemAdded {
                product_id,
                sku,
                name,
                unit_price,
                line_quantity,
                ..
            } => {
                let line = CartLine {
                    product_id,
                    sku,
                    name,
                    unit_price,
                    quantity: line_quantity,
                };
                match self.lines.iter_mut().find(|l| l.product_id == product_id) {
                    Some(existing) => *existing = line,
                    None => self.lines.push(line),
                }
            }
            CartEvent::ItemQuantityChanged {
                product_id,
                quantity,
                ..
            } => {
                if let Some(line) = self.lines.iter_mut().find(|l| l.product_id == product_id) {
                    line.quantity = quantity;
                }
            }
            CartEvent::ItemRemoved { product_id, .. } => {
                self.lines.retain(|line| line.product_id != product_id);
            }
            CartEvent::CartCheckedOut { .. } | CartEvent::CartCleared { .. } => {
                self.lines.clear();
                self.discount = None;
            }
            CartEvent::DiscountApplied {
                promotion_id, code, ..
            } => {
                self.discount = Some(AppliedCode { promotion_id, code });
            }
            CartEvent::DiscountRemoved { .. } => self.discount = None,
        }
    }
}
