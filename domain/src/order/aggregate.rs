use std::fmt;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::{
    CancellationReason, CodeAtCheckout, OrderCommand, OrderDiscount, OrderError, OrderEvent,
    OrderLine,
};
use crate::values::text;
use crate::{Address, Money, OrderId, PaymentMethod, UserId};

pub const MAX_TRACKING_NUMBER_CHARS: usize = 100;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Placed; waiting for stock and payment.
    Pending,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An order.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Order {
    id: Option<OrderId>,
    user_id: Option<UserId>,
    /// `None` until placed, which is how "no such order" is told apart.
    status: Option<OrderStatus>,
    lines: Vec<OrderLine>,
    total: Option<Money>,
    #[serde(default)]
    discount: Option<OrderDiscount>,
    shipping_address: Option<Address>,
    payment_method: Option<PaymentMethod>,
    placed_at: Option<DateTime<Utc>>,
    tracking_number: Option<String>,
    cancellation_reason: Option<CancellationReason>,
}

impl Order {
    pub fn id(&self) -> Option<OrderId> {
        self.id
    }

    pub fn status(&self) -> Option<OrderStatus> {
        self.status
    }

    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }

    pub fn total(&self) -> Option<Money> {
        self.total
    }

    /// The discount code's part, if the order was placed with one (`total` is after it).
    pub fn discount(&self) -> Option<&OrderDiscount> {
        self.discount.as_ref()
    }

    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    pub fn payment_method(&self) -> Option<&PaymentMethod> {
        self.payment_method.as_ref()
    }

    pub fn shipping_address(&self) -> Option<&Address> {
        self.shipping_address.as_ref()
    }

    pub fn placed_at(&self) -> Option<DateTime<Utc>> {
        self.placed_at
    }

    pub fn tracking_number(&self) -> Option<&str> {
        self.tracking_number.as_deref()
    }

    pub fn cancellation_reason(&self) -> Option<CancellationReason> {
        self.cancellation_reason
    }

    /// The events `command` leads to, or the rule it breaks.
    pub(super) fn decide(&self, command: OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        match (command, self.status) {
            (
                OrderCommand::Place {
                    order_id,
                    user_id,
                    lines,
                    shipping_address,
                    payment_method,
                    discount,
                    at,
                },
                None,
            ) => {
                let (lines, subtotal) = priced(lines)?;
                let (lines, total, discount) = match discount {
                    None => (lines, subtotal, None),
                    Some(code) => discounted(lines, subtotal, code)?,
                };
                Ok(vec![OrderEvent::OrderPlaced {
                    order_id,
                    user_id,
                    lines,
                    total,
                    discount,
                    shipping_address,
                    payment_method,
                    placed_at: at,
                }])
            }
            (_, None) => Err(OrderError::NotFound),
            (command, Some(status)) => decide_transition(status, command),
        }
    }
}

/// Checks the lines of a new order and adds them up.
fn priced(lines: Vec<OrderLine>) -> Result<(Vec<OrderLine>, Money), OrderError> {
    let currency = lines
        .first()
        .ok_or(OrderError::NoLines)?
        .unit_price
        .currency();
    if lines
        .iter()
        .any(|line| line.unit_price.currency() != currency)
    {
        return Err(OrderError::CurrencyMismatch);
    }
    // Line totals are recomputed (the fields are public, so a caller could have edited one), and discounts
    // are the order's own to work out.
    let lines = lines
        .into_iter()
        .map(|l| {
            OrderLine::new(l.product_id, l.sku, l.name, l.unit_price, l.quantity).map(|line| {
                OrderLine {
                    category: l.category,
                    ..line
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| OrderError::TotalTooLarge)?;
    let total = lines
        .iter()
        .try_fold(Money::zero(currency), |sum, line| {
            sum.checked_add(line.line_total)
        })
        .map_err(|_| OrderError::TotalTooLarge)?;
    Ok((lines, total))
}

/// The lines with what `code` takes off each, the total after it, and the discount in all.
fn discounted(
    mut lines: Vec<OrderLine>,
    subtotal: Money,
    code: CodeAtCheckout,
) -> Result<(Vec<OrderLine>, Money, Option<OrderDiscount>), OrderError> {
    let priced: Vec<_> = lines.iter().map(OrderLine::priced).collect();
    let discount = code.offer.apply(&priced)?;
    for (line, off) in lines.iter_mut().zip(discount.per_line) {
        line.discount = (!off.is_zero()).then_some(off);
    }
    let total = subtotal
        .checked_sub(discount.amount)
        .map_err(|_| OrderError::TotalTooLarge)?;
    let discount = OrderDiscount {
        promotion_id: code.promotion_id,
        code: code.code,
        amount: discount.amount,
        redemption_held: code.held,
    };
    Ok((lines, total, Some(discount)))
}

/// Decides a command for an order that has been placed and is now in `status`.
fn decide_transition(
    status: OrderStatus,
    command: OrderCommand,
) -> Result<Vec<OrderEvent>, OrderError> {
    use OrderStatus::{Confirmed, Pending, Shipped};
    match (command, status) {
        (OrderCommand::Place { .. }, _) => Err(OrderError::AlreadyPlaced),
        (OrderCommand::Confirm { at }, Pending) => {
            Ok(vec![OrderEvent::OrderConfirmed { confirmed_at: at }])
        }
        (OrderCommand::Confirm { .. }, status) => Err(OrderError::NotPending { status }),
        (OrderCommand::Cancel { reason, at }, Pending | Confirmed) => {
            Ok(vec![OrderEvent::OrderCancelled {
                reason,
                previous_status: status,
                cancelled_at: at,
            }])
        }
        (OrderCommand::Cancel { .. }, status) => Err(OrderError::NotCancellable { status }),
        (
            OrderCommand::Ship {
                tracking_number,
                at,
            },
            Confirmed,
        ) => {
            let tracking_number = tracking_number
                .map(|raw| text::optional(&raw, MAX_TRACKING_NUMBER_CHARS))
                .transpose()
                .map_err(|_| OrderError::TrackingNumberTooLong {
                    max: MAX_TRACKING_NUMBER_CHARS,
                })?
                .filter(|number| !number.is_empty());
            Ok(vec![OrderEvent::OrderShipped {
                tracking_number,
                shipped_at: at,
            }])
        }
        (OrderCommand::Ship { .. }, status) => Err(OrderError::NotConfirmed { status }),
        (OrderCommand::Deliver { at }, Shipped) => {
            Ok(vec![OrderEvent::OrderDelivered { delivered_at: at }])
        }
        (OrderCommand::Deliver { .. }, status) => Err(OrderError::NotShipped { status }),
    }
}

impl Aggregate for Order {
    const TYPE: &'static str = "order";
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;
    type Services = ();

    async fn handle(
        &mut self,
        command: OrderCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), OrderError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: OrderEvent) {
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
                self.discount = discount;
                self.id = Some(order_id);
                self.user_id = Some(user_id);
                self.status = Some(OrderStatus::Pending);
                self.lines = lines;
                self.total = Some(total);
                self.shipping_address = Some(shipping_address);
                self.payment_method = Some(payment_method);
                self.placed_at = Some(placed_at);
            }
            OrderEvent::OrderConfirmed { .. } => self.status = Some(OrderStatus::Confirmed),
            OrderEvent::OrderCancelled { reason, .. } => {
                self.status = Some(OrderStatus::Cancelled);
                self.cancellation_reason = Some(reason);
            }
            OrderEvent::OrderShipped {
                tracking_number, ..
            } => {
                self.status = Some(OrderStatus::Shipped);
                self.tracking_number = tracking_number;
            }
            OrderEvent::OrderDelivered { .. } => self.status = Some(OrderStatus::Delivered),
        }
    }
}
