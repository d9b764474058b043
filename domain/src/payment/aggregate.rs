use std::fmt;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::{PaymentCommand, PaymentError, PaymentEvent};
use crate::{Money, OrderId, PaymentId, PaymentMethod};

/// Where a payment is with the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// Started; the gateway has not answered yet.
    Pending,
    /// Money is held on the customer's card but not taken.
    Authorized,
    Captured,
    Declined,
    Refunded,
    /// The authorization was released without taking the money.
    Voided,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::Voided => "voided",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payment of one order.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Payment {
    id: Option<PaymentId>,
    order_id: Option<OrderId>,
    amount: Option<Money>,
    method: Option<PaymentMethod>,
    /// `None` until started, which is how "no such payment" is told apart.
    status: Option<PaymentStatus>,
    /// Set by authorization; tells a retried `Authorize` apart from a conflicting one.
    gateway_reference: Option<String>,
    decline_reason: Option<String>,
}

impl Payment {
    pub fn id(&self) -> Option<PaymentId> {
        self.id
    }

    pub fn order_id(&self) -> Option<OrderId> {
        self.order_id
    }

    pub fn amount(&self) -> Option<Money> {
        self.amount
    }

    pub fn method(&self) -> Option<&PaymentMethod> {
        self.method.as_ref()
    }

    pub fn status(&self) -> Option<PaymentStatus> {
        self.status
    }

    pub fn gateway_reference(&self) -> Option<&str> {
        self.gateway_reference.as_deref()
    }

    pub fn decline_reason(&self) -> Option<&str> {
        self.decline_reason.as_deref()
    }

    /// The events `command` leads to, or the rule it breaks.
    fn decide(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        match (command, self.status, self.amount) {
            (
                PaymentCommand::Start {
                    payment_id,
                    order_id,
                    amount,
                    method,
                    at,
                },
                None,
                _,
            ) => Ok(vec![PaymentEvent::PaymentStarted {
                payment_id,
                order_id,
                amount,
                method,
                started_at: at,
            }]),
            (command, Some(status), Some(amount)) => self.transition(command, status, amount),
            (_, _, _) => Err(PaymentError::NotFound),
        }
    }

    /// Decides a command for a started payment that is in `status` and is for `amount`.
    fn transition(
        &self,
        command: PaymentCommand,
        status: PaymentStatus,
        amount: Money,
    ) -> Result<Vec<PaymentEvent>, PaymentError> {
        use PaymentStatus::{Authorized, Captured, Declined, Pending, Refunded, Voided};
        let refuse = |action| {
            Err(PaymentError::InvalidTransition {
                from: status,
                action,
            })
        };
        match (command, status) {
            (PaymentCommand::Start { .. }, _) => Err(PaymentError::AlreadyStarted),
            (
                PaymentCommand::Authorize {
                    gateway_reference,
                    at,
                },
                Pending,
            ) => Ok(vec![PaymentEvent::PaymentAuthorized {
                gateway_reference,
                authorized_at: at,
            }]),
            // The same answer delivered twice; a different reference would be a second hold.
            (
                PaymentCommand::Authorize {
                    gateway_reference, ..
                },
                Authorized,
            ) if self.gateway_reference.as_deref() == Some(gateway_reference.as_str()) => {
                Ok(vec![])
            }
            (PaymentCommand::Authorize { .. }, _) => refuse("authorize"),
            (PaymentCommand::Capture { at }, Authorized) => {
                Ok(vec![PaymentEvent::PaymentCaptured {
                    amount,
                    captured_at: at,
                }])
            }
            (PaymentCommand::Capture { .. }, Captured) => Ok(vec![]),
            (PaymentCommand::Capture { .. }, _) => refuse("capture"),
            (PaymentCommand::Decline { reason, at }, Pending | Authorized) => {
                Ok(vec![PaymentEvent::PaymentDeclined {
                    reason,
                    declined_at: at,
                }])
            }
            (PaymentCommand::Decline { .. }, Declined) => Ok(vec![]),
            (PaymentCommand::Decline { .. }, _) => refuse("decline"),
            (PaymentCommand::Refund { at }, Captured) => Ok(vec![PaymentEvent::PaymentRefunded {
                amount,
                refunded_at: at,
            }]),
            (PaymentCommand::Refund { .. }, Refunded) => Ok(vec![]),
            (PaymentCommand::Refund { .. }, _) => refuse("refund"),
            (PaymentCommand::Void { at }, Authorized) => {
                Ok(vec![PaymentEvent::PaymentVoided { voided_at: at }])
            }
            (PaymentCommand::Void { .. }, Voided) => Ok(vec![]),
            (PaymentCommand::Void { .. }, _) => refuse("void"),
        }
    }
}

impl Aggregate for Payment {
    const TYPE: &'static str = "payment";
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: PaymentCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), PaymentError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: PaymentEvent) {
        match event {
            PaymentEvent::PaymentStarted {
                payment_id,
                order_id,
                amount,
                method,
                ..
            } => {
                self.id = Some(payment_id);
                self.order_id = Some(order_id);
                self.amount = Some(amount);
                self.method = Some(method);
                self.status = Some(PaymentStatus::Pending);
            }
            PaymentEvent::PaymentAuthorized {
                gateway_reference, ..
            } => {
                self.status = Some(PaymentStatus::Authorized);
                self.gateway_reference = Some(gateway_reference);
            }
            PaymentEvent::PaymentCaptured { .. } => self.status = Some(PaymentStatus::Captured),
            PaymentEvent::PaymentDeclined { reason, .. } => {
                self.status = Some(PaymentStatus::Declined);
                self.decline_reason = Some(reason);
            }
            PaymentEvent::PaymentRefunded { .. } => self.status = Some(PaymentStatus::Refunded),
            PaymentEvent::PaymentVoided { .. } => self.status = Some(PaymentStatus::Voided),
        }
    }
}
