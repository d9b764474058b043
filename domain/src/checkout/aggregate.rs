use std::fmt;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::{CheckoutCommand, CheckoutError, CheckoutEvent, ReservedLine};
use crate::order::CancellationReason;
use crate::{Money, OrderId, PaymentMethod, PromotionId};

/// The steps of a checkout, in order; `Failed` and `Compensated` end it without a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutState {
    Started,
    StockReserved,
    Paid,
    Completed,
    Failed,
    Compensated,
}

impl CheckoutState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::StockReserved => "stock_reserved",
            Self::Paid => "paid",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Compensated => "compensated",
        }
    }
}

impl fmt::Display for CheckoutState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkout {
    state: Option<CheckoutState>,
    order_id: Option<OrderId>,
    lines: Vec<ReservedLine>,
    amount: Option<Money>,
    method: Option<PaymentMethod>,
    payment_deadline: Option<DateTime<Utc>>,
    gateway_reference: Option<String>,
    failure: Option<CancellationReason>,
    #[serde(default)]
    promotion: Option<PromotionId>,
}

impl Checkout {
    pub fn state(&self) -> Option<CheckoutState> {
        self.state
    }
    pub fn lines(&self) -> &[ReservedLine] {
        &self.lines
    }
    pub fn amount(&self) -> Option<Money> {
        self.amount
    }
    pub fn method(&self) -> Option<&PaymentMethod> {
        self.method.as_ref()
    }
    pub fn payment_deadline(&self) -> Option<DateTime<Utc>> {
        self.payment_deadline
    }
    pub fn gateway_reference(&self) -> Option<&str> {
        self.gateway_reference.as_deref()
    }
    pub fn failure(&self) -> Option<CancellationReason> {
        self.failure
    }
    /// The promotion whose redemption the order holds, if it carries a discount code.
    pub fn promotion(&self) -> Option<PromotionId> {
        self.promotion
    }

    /// Decides the events for `command`; an already reached step yields none.
    fn decide(&self, command: CheckoutCommand) -> Result<Vec<CheckoutEvent>, CheckoutError> {
        use CheckoutState::*;
        let state = match (self.state, &command) {
            (None, CheckoutCommand::Start { .. }) => None,
            (None, _) => return Err(CheckoutError::NotStarted),
            (Some(state), _) => Some(state),
        };
        let out_of_order = |step| CheckoutError::OutOfOrder {
            state: state.unwrap_or(Started),
            step,
        };
        Ok(match command {
            CheckoutCommand::Start {
                order_id,
                lines,
                amount,
                method,
                payment_deadline,
                promotion,
                at,
            } => match state {
                None => vec![CheckoutEvent::CheckoutStarted {
                    order_id,
                    lines,
                    amount,
                    method,
                    payment_deadline,
                    promotion,
                    started_at: at,
                }],
                Some(_) => vec![],
            },
            CheckoutCommand::RecordStockReserved { at } => match state {
                Some(Started) => vec![CheckoutEvent::CheckoutStockReserved { reserved_at: at }],
                Some(StockReserved | Paid | Completed) => vec![],
                _ => return Err(out_of_order("reserve stock")),
            },
            CheckoutCommand::RecordPaymentCaptured {
                gateway_reference,
                at,
            } => match state {
                Some(StockReserved) => vec![CheckoutEvent::CheckoutPaymentCaptured {
                    gateway_reference,
                    captured_at: at,
                }],
                Some(Paid | Completed) => vec![],
                _ => return Err(out_of_order("record a payment")),
            },
            CheckoutCommand::RecordNothingToPay { at } => match state {
                Some(StockReserved) if self.amount.is_some_and(|a| a.amount() == 0) => {
                    vec![CheckoutEvent::CheckoutNothingToPay { paid_at: at }]
                }
                Some(Paid | Completed) => vec![],
                _ => return Err(out_of_order("pass over a payment")),
            },
            CheckoutCommand::Complete { at } => match state {
                Some(Paid) => vec![CheckoutEvent::CheckoutCompleted { completed_at: at }],
                Some(Completed) => vec![],
                _ => return Err(out_of_order("complete")),
            },
            CheckoutCommand::Fail { reason, at } => match state {
                Some(Failed | Compensated) => vec![],
                _ => vec![CheckoutEvent::CheckoutFailed {
                    reason,
                    failed_at: at,
                }],
            },
            CheckoutCommand::RecordCompensated { refunded, at } => match state {
                Some(Failed) => vec![CheckoutEvent::CheckoutCompensated {
                    refunded,
                    compensated_at: at,
                }],
                Some(Compensated) => vec![],
                _ => return Err(out_of_order("record a compensation")),
            },
        })
    }
}

impl Aggregate for Checkout {
    const TYPE: &'static str = "checkout";
    type Command = CheckoutCommand;
    type Event = CheckoutEvent;
    type Error = CheckoutError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            CheckoutEvent::CheckoutStarted {
                order_id,
                lines,
                amount,
                method,
                payment_deadline,
                promotion,
                ..
            } => {
                self.state = Some(CheckoutState::Started);
                self.promotion = promotion;
                self.order_id = Some(order_id);
                self.lines = lines;
                self.amount = Some(amount);
                self.method = Some(method);
                self.payment_deadline = Some(payment_deadline);
            }
            CheckoutEvent::CheckoutStockReserved { .. } => {
                self.state = Some(CheckoutState::StockReserved)
            }
            CheckoutEvent::CheckoutPaymentCaptured {
                gateway_reference, ..
            } => {
                self.state = Some(CheckoutState::Paid);
                self.gateway_reference = Some(gateway_reference);
            }
            CheckoutEvent::CheckoutNothingToPay { .. } => self.state = Some(CheckoutState::Paid),
            CheckoutEvent::CheckoutCompleted { .. } => self.state = Some(CheckoutState::Completed),
            CheckoutEvent::CheckoutFailed { reason, .. } => {
                self.state = Some(CheckoutState::Failed);
                self.failure = Some(reason);
            }
            CheckoutEvent::CheckoutCompensated { .. } => {
                self.state = Some(CheckoutState::Compensated)
            }
        }
    }
}
