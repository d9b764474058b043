//! Orders (MongoDB): one document per order with its lines, payment and timeline. `GET /orders` lists a
//! user's (or, for administrators, everyone's) and `GET /orders/{id}` shows one. The payment stream has the
//! order's id too (`PaymentId::for_order`), so its events land in the same document.

use chrono::{DateTime, Utc};
use domain::Money;
use domain::order::OrderEvent;
use domain::payment::PaymentEvent;
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};

use crate::view::{Index, StoreKind, View, ViewError, decode};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub items: Vec<OrderItem>,
    /// Before the discount.
    #[serde(default)]
    pub subtotal: Option<Money>,
    /// The discount code's part, if the order was placed with one.
    #[serde(default)]
    pub discount: Option<OrderDiscount>,
    /// After the discount: what the customer pays.
    pub total: Option<Money>,
    pub item_count: i64,
    pub shipping_address: Option<serde_json::Value>,
    pub payment: Payment,
    pub cancellation_reason: Option<String>,
    pub tracking_number: Option<String>,
    pub timeline: Vec<TimelineEntry>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Sort key for "newest first".
    pub created_key: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
    pub line_total: Money,
    /// What the discount code takes off this line.
    #[serde(default)]
    pub discount: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDiscount {
    pub code: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub status: String,
    pub method: String,
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub status: String,
    pub at: DateTime<Utc>,
    pub detail: String,
}

impl OrderView {
    pub const NAME_STR: &'static str = "orders";

    fn step(&mut self, status: &str, at: DateTime<Utc>, detail: impl Into<String>) {
        self.status = status.to_owned();
        self.updated_at = Some(at);
        self.timeline.push(TimelineEntry {
            status: status.to_owned(),
            at,
            detail: detail.into(),
        });
    }

    fn payment(&mut self, status: &str, at: DateTime<Utc>) {
        self.payment.status = status.to_owned();
        self.updated_at = Some(at);
    }

    fn apply_order(&mut self, event: OrderEvent) {
        match event {
            OrderEvent::OrderPlaced {
                order_id,
                user_id,
                lines,
                total,
                discount,
                shipping_address,
                payment_method,
                placed_at,
            } => {
                self.subtotal = match &discount {
                    Some(discount) => total.checked_add(discount.amount).ok(),
                    None => Some(total),
                };
                self.discount = discount.map(|discount| OrderDiscount {
                    code: discount.code,
                    amount: discount.amount,
                });
                self.id = order_id.to_string();
                self.user_id = user_id.to_string();
                self.item_count = lines.iter().map(|l| i64::from(l.quantity.get())).sum();
                self.items = lines
                    .into_iter()
                    .map(|l| OrderItem {
                        product_id: l.product_id.to_string(),
                        sku: l.sku.to_string(),
                        name: l.name,
                        unit_price: l.unit_price,
                        quantity: l.quantity.get(),
                        line_total: l.line_total,
                        discount: l.discount,
                    })
                    .collect();
                self.total = Some(total);
                self.shipping_address = serde_json::to_value(&shipping_address).ok();
                // A discount that took the whole total leaves nothing to pay: no provider is asked.
                let payment = if total.amount() == 0 {
                    "nothing_to_pay"
                } else {
                    "pending"
                };
                self.payment = Payment {
                    status: payment.to_owned(),
                    method: payment_method.to_string(),
                    amount: Some(total),
                };
                self.created_at = Some(placed_at);
                self.created_key = placed_at.timestamp_micros();
                self.step("pending", placed_at, "order placed");
            }
            OrderEvent::OrderConfirmed { confirmed_at } => {
                let detail = if self.payment.status == "nothing_to_pay" {
                    "stock reserved, nothing to pay"
                } else {
                    "stock reserved and payment captured"
                };
                self.step("confirmed", confirmed_at, detail);
            }
            OrderEvent::OrderCancelled {
                reason,
                cancelled_at,
                ..
            } => {
                self.cancellation_reason = Some(reason.as_str().to_owned());
                self.step("cancelled", cancelled_at, reason.as_str().replace('_', " "));
            }
            OrderEvent::OrderShipped {
                tracking_number,
                shipped_at,
            } => {
                let detail = tracking_number
                    .as_deref()
                    .map_or_else(|| "shipped".to_owned(), |t| format!("tracking number {t}"));
                self.tracking_number = tracking_number;
                self.step("shipped", shipped_at, detail);
            }
            OrderEvent::OrderDelivered { delivered_at } => {
                self.step("delivered", delivered_at, "delivered")
            }
        }
    }

    fn apply_payment(&mut self, event: PaymentEvent) {
        match event {
            PaymentEvent::PaymentStarted { method, amount, .. } => {
                self.payment.method = method.to_string();
                self.payment.amount = Some(amount);
            }
            PaymentEvent::PaymentAuthorized { authorized_at, .. } => {
                self.payment("authorized", authorized_at)
            }
            PaymentEvent::PaymentCaptured { captured_at, .. } => {
                self.payment("captured", captured_at)
            }
            PaymentEvent::PaymentDeclined { declined_at, .. } => {
                self.payment("declined", declined_at)
            }
            // A void releases an authorization: to the customer, the money is back, as after a refund.
            PaymentEvent::PaymentRefunded { refunded_at, .. } => {
                self.payment("refunded", refunded_at)
            }
            PaymentEvent::PaymentVoided { voided_at } => self.payment("refunded", voided_at),
        }
    }
}

impl View for OrderView {
    const NAME: &'static str = Self::NAME_STR;
    const STORE: StoreKind = StoreKind::Mongo;
    // A customer's orders, an administrator's by status or all, newest first.
    const INDEXES: &'static [Index] = &[
        &[("user_id", 1), ("created_key", -1), ("_id", 1)],
        &[("status", 1), ("created_key", -1), ("_id", 1)],
        &[("created_key", -1), ("_id", 1)],
    ];

    fn key(event: &StoredEvent) -> Option<String> {
        matches!(event.aggregate_type.as_str(), "order" | "payment")
            .then(|| event.aggregate_id.clone())
    }

    fn update(&mut self, event: &StoredEvent) -> Result<(), ViewError> {
        match event.aggregate_type.as_str() {
            "order" => self.apply_order(decode(event)?),
            _ => self.apply_payment(decode(event)?),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::order::{CancellationReason, OrderEvent, OrderLine, OrderStatus};
    use domain::payment::PaymentEvent;
    use domain::{
        Address, Currency, Money, OrderId, PaymentMethod, ProductId, Quantity, Sku, UserId,
    };
    use uuid::Uuid;

    use super::*;
    use crate::views::test_events::stored;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::parse("EUR").unwrap()).unwrap()
    }

    fn placed() -> OrderEvent {
        let line = OrderLine::new(
            ProductId::new(Uuid::from_u128(3)),
            Sku::parse("MUG").unwrap(),
            "Mug".to_owned(),
            eur(500),
            Quantity::new(2).unwrap(),
        )
        .unwrap();
        OrderEvent::OrderPlaced {
            discount: None,
            order_id: OrderId::new(Uuid::from_u128(9)),
            user_id: UserId::new(Uuid::from_u128(1)),
            lines: vec![line],
            total: eur(1000),
            shipping_address: Address::parse("A", "B", None, "C", "1", "DE").unwrap(),
            payment_method: PaymentMethod::parse("pm_card_visa").unwrap(),
            placed_at: Utc::now(),
        }
    }

    #[test]
    fn a_placed_order_is_pending_with_frozen_lines_and_a_pending_payment() {
        let mut view = OrderView::default();
        view.update(&stored("order", "o", 1, &placed())).unwrap();
        assert_eq!(view.status, "pending");
        assert_eq!(view.item_count, 2);
        assert_eq!(view.items[0].line_total, eur(1000));
        assert_eq!(view.payment.status, "pending");
        assert_eq!(view.timeline.len(), 1);
    }

    #[test]
    fn payment_and_order_events_move_the_order_along_its_timeline() {
        let mut view = OrderView::default();
        view.update(&stored("order", "o", 1, &placed())).unwrap();
        let captured = PaymentEvent::PaymentCaptured {
            amount: eur(1000),
            captured_at: Utc::now(),
        };
        view.update(&stored("payment", "o", 3, &captured)).unwrap();
        view.update(&stored(
            "order",
            "o",
            2,
            &OrderEvent::OrderConfirmed {
                confirmed_at: Utc::now(),
            },
        ))
        .unwrap();
        assert_eq!(
            (view.status.as_str(), view.payment.status.as_str()),
            ("confirmed", "captured")
        );
        let cancelled = OrderEvent::OrderCancelled {
            reason: CancellationReason::CancelledByCustomer,
            previous_status: OrderStatus::Confirmed,
            cancelled_at: Utc::now(),
        };
        view.update(&stored("order", "o", 3, &cancelled)).unwrap();
        assert_eq!(
            view.cancellation_reason.as_deref(),
            Some("cancelled_by_customer")
        );
        assert_eq!(
            view.timeline
                .iter()
                .map(|t| t.status.as_str())
                .collect::<Vec<_>>(),
            ["pending", "confirmed", "cancelled"]
        );
    }
}
