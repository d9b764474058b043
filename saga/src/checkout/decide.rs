//! The checkout's decisions, without I/O: from what the saga knows and what just happened, the steps to take.
//! The runner performs them; a step that asks the outside world something (stock, the payment provider) ends
//! the list, and its answer is the next input.

use chrono::{DateTime, Duration, Utc};
use domain::checkout::{Checkout, CheckoutCommand, CheckoutState, ReservedLine};
use domain::order::{CancellationReason, OrderEvent};
use domain::payment::{Payment, PaymentCommand, PaymentStatus};
use domain::product::ReleaseReason;
use domain::{Money, OrderId, PaymentId, PaymentMethod, ProductId, PromotionId};

/// How long reserved stock is held for an order that is never completed.
pub const RESERVATION_TTL: Duration = Duration::minutes(15);
/// The deadline's timer fires this long after the deadline, so that an authorization answered just in time
/// is recorded before the timer looks.
pub const DEADLINE_GRACE: Duration = Duration::seconds(1);

/// What the saga knows when it decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// The order the checkout is for (the checkout's and the payment's id derive from it).
    pub order_id: OrderId,
    /// The checkout's progress so far; the default (no state) before it was started.
    pub checkout: Checkout,
    /// The order's payment; the default (no status) before it was started.
    pub payment: Payment,
    /// The time of the decision: it stamps the commands and sets the deadline and the expiries.
    pub now: DateTime<Utc>,
    /// How long a payment may take, from the start of the checkout, before the order is cancelled.
    pub payment_window: Duration,
}

/// What the checkout reacts to: the order's events, its payment deadline, and the answers to its own steps.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// `OrderPlaced`: what to reserve and what to charge.
    OrderPlaced {
        lines: Vec<ReservedLine>,
        amount: Money,
        method: PaymentMethod,
        /// The promotion whose redemption the order holds, if its discount code has a limit.
        promotion: Option<PromotionId>,
    },
    /// `OrderCancelled`, by a person or by the saga's own compensation.
    OrderCancelled {
        reason: CancellationReason,
    },
    /// The payment deadline's timer fired.
    DeadlinePassed,
    /// Nothing new: carry on from where the checkout and its payment are. The runner resumes after a list of
    /// steps that asked nothing, so a checkout is always taken as far as it can go.
    Resume,
    /// Every line is held.
    StockReserved,
    /// A line could not be held.
    OutOfStock,
    Authorized {
        gateway_reference: String,
    },
    AuthorizationDeclined {
        reason: String,
    },
    /// The provider did not answer before the payment deadline.
    AuthorizationTimedOut,
    Captured,
    /// The provider refused to take money it had authorized (the authorization lapsed, for instance).
    CaptureRefused {
        reason: String,
    },
    Voided,
    Refunded,
}

impl Input {
    /// The input an order's event is, if the saga reacts to it.
    pub fn from_order_event(event: OrderEvent) -> Option<Self> {
        match event {
            OrderEvent::OrderPlaced {
                lines,
                total,
                payment_method,
                discount,
                ..
            } => Some(Self::OrderPlaced {
                lines: lines
                    .iter()
                    .map(|line| ReservedLine {
                        product_id: line.product_id,
                        quantity: line.quantity.get(),
                    })
                    .collect(),
                amount: total,
                method: payment_method,
                promotion: discount
                    .filter(|discount| discount.redemption_held)
                    .map(|discount| discount.promotion_id),
            }),
            OrderEvent::OrderCancelled { reason, .. } => Some(Self::OrderCancelled { reason }),
            OrderEvent::OrderConfirmed { .. }
            | OrderEvent::OrderShipped { .. }
            | OrderEvent::OrderDelivered { .. } => None,
        }
    }
}

/// What the runner does, in order. Every step is safe to repeat: the aggregates treat a repeated step as done,
/// and the provider is called with idempotency keys derived from the payment.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Appends the checkout's progress to its own stream.
    Record(CheckoutCommand),
    /// Arms the durable timer that comes back as [`Input::DeadlinePassed`].
    ScheduleDeadline { at: DateTime<Utc> },
    /// Holds each line's stock until `expires_at` (each expiry made durable first, so that no hold is left
    /// without one). Answers [`Input::StockReserved`] or [`Input::OutOfStock`].
    Reserve {
        lines: Vec<ReservedLine>,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// Records on the order's payment; a payment already started counts as started.
    Pay(PaymentCommand),
    /// Asks the provider to authorize, giving up at `until`. Answers [`Input::Authorized`],
    /// [`Input::AuthorizationDeclined`] or [`Input::AuthorizationTimedOut`].
    Authorize {
        amount: Money,
        method: PaymentMethod,
        until: DateTime<Utc>,
    },
    /// Answers [`Input::Captured`] or [`Input::CaptureRefused`].
    Capture { gateway_reference: String },
    /// Releases the authorization. Answers [`Input::Voided`].
    Void { gateway_reference: String },
    /// Answers [`Input::Refunded`].
    Refund { gateway_reference: String },
    /// Commits each product's hold, counts the promotion's redemption, then confirms the order. An order
    /// cancelled meanwhile stays cancelled: its `OrderCancelled` brings the saga back to compensate.
    Confirm {
        products: Vec<ProductId>,
        promotion: Option<PromotionId>,
        at: DateTime<Utc>,
    },
    /// Gives each product's held units back, and the promotion's redemption.
    Release {
        products: Vec<ProductId>,
        promotion: Option<PromotionId>,
        reason: ReleaseReason,
        at: DateTime<Utc>,
    },
    /// Cancels the order, unless it is already cancelled or shipped.
    CancelOrder {
        reason: CancellationReason,
        at: DateTime<Utc>,
    },
    /// The saga's own records contradict each other: a person must look, so the runner fails permanently.
    Halt { why: &'static str },
    /// The input came before what it depends on: the runner fails it for now, and the message comes again
    /// after its back-off.
    Defer { why: &'static str },
}

/// The steps that `input` calls for, given `facts`; none when there is nothing (more) to do.
pub fn decide(facts: &Facts, input: Input) -> Vec<Step> {
    use CheckoutState::{Compensated, Failed, Started, StockReserved};
    let state = facts.checkout.state();
    let now = facts.now;
    match input {
        Input::OrderPlaced {
            lines,
            amount,
            method,
            promotion,
        } if state.is_none() => {
            let payment_deadline = now + facts.payment_window;
            vec![
                Step::Record(CheckoutCommand::Start {
                    order_id: facts.order_id,
                    lines: lines.clone(),
                    amount,
                    method,
                    payment_deadline,
                    promotion,
                    at: now,
                }),
                Step::ScheduleDeadline {
                    at: payment_deadline + DEADLINE_GRACE,
                },
                Step::Reserve {
                    lines,
                    expires_at: now + RESERVATION_TTL,
                    at: now,
                },
            ]
        }
        // Delivered again: nothing is started twice, the checkout carries on from where it is.
        Input::OrderPlaced { .. } | Input::Resume => resume(facts),
        // Cancelled before its checkout started: the saga's messages are handled side by side and retried, so
        // the order's `OrderPlaced` may still be on its way. The cancellation waits for it, then compensates
        // whatever the checkout did meanwhile (stock, payment, the discount code's redemption).
        Input::OrderCancelled { .. } if state.is_none() => vec![Step::Defer {
            why: "the order was cancelled before its checkout started",
        }],
        // Already failing: the compensation under way finishes, with the first reason.
        Input::OrderCancelled { .. } if matches!(state, Some(Failed | Compensated)) => {
            resume(facts)
        }
        // Even a completed checkout: the stock goes back and the money is refunded.
        Input::OrderCancelled { reason } => fail(facts, reason),
        // Only a checkout still waiting for its payment times out.
        Input::DeadlinePassed if matches!(state, Some(Started | StockReserved)) => {
            fail(facts, CancellationReason::PaymentTimeout)
        }
        Input::DeadlinePassed => vec![],
        Input::StockReserved if state == Some(Started) => {
            let mut steps = vec![Step::Record(CheckoutCommand::RecordStockReserved {
                at: now,
            })];
            steps.extend(take_payment(facts));
            steps
        }
        Input::OutOfStock if state == Some(Started) => fail(facts, CancellationReason::OutOfStock),
        // The checkout moved on meanwhile (failed by another process): what was just held is released there.
        Input::StockReserved | Input::OutOfStock => resume(facts),
        // The provider's answers are recorded on the payment whatever the checkout's state, so that a
        // compensation knows what to undo; the checkout acts on them only if it still waits for them.
        Input::Authorized { gateway_reference } => {
            let mut steps = vec![Step::Pay(PaymentCommand::Authorize {
                gateway_reference: gateway_reference.clone(),
                at: now,
            })];
            if state == Some(StockReserved) {
                steps.push(Step::Capture { gateway_reference });
            }
            steps
        }
        // Declined before anything was held on the card: there is nothing to void.
        Input::AuthorizationDeclined { reason } => {
            let mut steps = vec![Step::Pay(PaymentCommand::Decline { reason, at: now })];
            if state == Some(StockReserved) {
                steps.extend(fail(facts, CancellationReason::PaymentDeclined));
            }
            steps
        }
        Input::AuthorizationTimedOut if state == Some(StockReserved) => {
            fail(facts, CancellationReason::PaymentTimeout)
        }
        Input::AuthorizationTimedOut => resume(facts),
        Input::Captured => {
            let mut steps = vec![Step::Pay(PaymentCommand::Capture { at: now })];
            if state == Some(StockReserved) {
                steps.extend(record_capture_and_confirm(facts));
            }
            steps
        }
        // The authorization still holds the money: the failure voids it.
        Input::CaptureRefused { .. } if state == Some(StockReserved) => {
            fail(facts, CancellationReason::PaymentDeclined)
        }
        Input::CaptureRefused { .. } => resume(facts),
        Input::Voided => finish_compensation(facts, PaymentCommand::Void { at: now }, false),
        Input::Refunded => finish_compensation(facts, PaymentCommand::Refund { at: now }, true),
    }
}

/// The next steps from where the checkout and its payment are.
fn resume(facts: &Facts) -> Vec<Step> {
    match facts.checkout.state() {
        None | Some(CheckoutState::Completed | CheckoutState::Compensated) => vec![],
        Some(CheckoutState::Started) => vec![Step::Reserve {
            lines: facts.checkout.lines().to_vec(),
            expires_at: facts.now + RESERVATION_TTL,
            at: facts.now,
        }],
        Some(CheckoutState::StockReserved) => take_payment(facts),
        Some(CheckoutState::Paid) => confirm(facts),
        Some(CheckoutState::Failed) => compensate(
            facts,
            facts
                .checkout
                .failure()
                .unwrap_or(CancellationReason::CancelledByAdmin),
        ),
    }
}

/// The payment's next step once the stock is held, from what the payment already went through.
fn take_payment(facts: &Facts) -> Vec<Step> {
    let now = facts.now;
    let (Some(amount), Some(method), Some(until)) = (
        facts.checkout.amount(),
        facts.checkout.method(),
        facts.checkout.payment_deadline(),
    ) else {
        return vec![Step::Halt {
            why: "a started checkout without amount, method or deadline",
        }];
    };
    if amount.amount() == 0 && facts.payment.status().is_none() {
        // Nothing to charge: no provider is asked (Stripe refuses amounts under its minimum).
        let mut steps = vec![Step::Record(CheckoutCommand::RecordNothingToPay {
            at: now,
        })];
        steps.extend(confirm(facts));
        return steps;
    }
    let reference = facts.payment.gateway_reference();
    match (facts.payment.status(), reference) {
        (None | Some(PaymentStatus::Pending), _) if now >= until => {
            fail(facts, CancellationReason::PaymentTimeout)
        }
        (None, _) => vec![
            Step::Pay(PaymentCommand::Start {
                payment_id: PaymentId::for_order(facts.order_id),
                order_id: facts.order_id,
                amount,
                method: method.clone(),
                at: now,
            }),
            Step::Authorize {
                amount,
                method: method.clone(),
                until,
            },
        ],
        // Asked before, and the answer was lost (the process died): the same idempotency key gets it again.
        (Some(PaymentStatus::Pending), _) => vec![Step::Authorize {
            amount,
            method: method.clone(),
            until,
        }],
        // Authorized in time: the money is held, so it is taken even if the deadline has passed since.
        (Some(PaymentStatus::Authorized), Some(reference)) => vec![Step::Capture {
            gateway_reference: reference.to_owned(),
        }],
        // Captured, and the process died before the checkout recorded it.
        (Some(PaymentStatus::Captured), _) => record_capture_and_confirm(facts),
        (Some(PaymentStatus::Declined | PaymentStatus::Voided | PaymentStatus::Refunded), _) => {
            fail(facts, CancellationReason::PaymentDeclined)
        }
        (Some(PaymentStatus::Authorized), None) => vec![Step::Halt {
            why: "an authorized payment without the provider's reference",
        }],
    }
}

/// Records on the checkout the capture the payment went through, then confirms.
fn record_capture_and_confirm(facts: &Facts) -> Vec<Step> {
    let Some(reference) = facts.payment.gateway_reference() else {
        return vec![Step::Halt {
            why: "a captured payment without the provider's reference",
        }];
    };
    let mut steps = vec![Step::Record(CheckoutCommand::RecordPaymentCaptured {
        gateway_reference: reference.to_owned(),
        at: facts.now,
    })];
    steps.extend(confirm(facts));
    steps
}

/// Commits the stock, confirms the order and completes the checkout.
fn confirm(facts: &Facts) -> Vec<Step> {
    vec![
        Step::Confirm {
            products: products(&facts.checkout),
            promotion: facts.checkout.promotion(),
            at: facts.now,
        },
        Step::Record(CheckoutCommand::Complete { at: facts.now }),
    ]
}

/// Records the failure, then undoes what was done.
fn fail(facts: &Facts, reason: CancellationReason) -> Vec<Step> {
    let mut steps = vec![Step::Record(CheckoutCommand::Fail {
        reason,
        at: facts.now,
    })];
    steps.extend(compensate(facts, reason));
    steps
}

/// Releases the stock and returns the money: an authorization is voided, a capture refunded, and the
/// compensation ends once the provider has answered.
fn compensate(facts: &Facts, reason: CancellationReason) -> Vec<Step> {
    let release = Step::Release {
        products: products(&facts.checkout),
        promotion: facts.checkout.promotion(),
        reason: release_reason(reason),
        at: facts.now,
    };
    let reference = facts.payment.gateway_reference().map(str::to_owned);
    match (facts.payment.status(), reference) {
        (Some(PaymentStatus::Authorized), Some(gateway_reference)) => {
            vec![release, Step::Void { gateway_reference }]
        }
        (Some(PaymentStatus::Captured), Some(gateway_reference)) => {
            vec![release, Step::Refund { gateway_reference }]
        }
        (Some(PaymentStatus::Authorized | PaymentStatus::Captured), None) => vec![Step::Halt {
            why: "a payment that holds money without the provider's reference",
        }],
        (status, _) => {
            let refunded = status == Some(PaymentStatus::Refunded);
            let mut steps = vec![release];
            steps.extend(cancel_and_close(facts, reason, refunded));
            steps
        }
    }
}

/// Records the provider's answer to a void or refund and, if the checkout is still compensating, ends it.
fn finish_compensation(facts: &Facts, answer: PaymentCommand, refunded: bool) -> Vec<Step> {
    let mut steps = vec![Step::Pay(answer)];
    if facts.checkout.state() == Some(CheckoutState::Failed) {
        let reason = facts
            .checkout
            .failure()
            .unwrap_or(CancellationReason::CancelledByAdmin);
        steps.extend(cancel_and_close(facts, reason, refunded));
    }
    steps
}

/// The end of every compensation: the order is cancelled (if nobody did yet) and the checkout closed.
fn cancel_and_close(facts: &Facts, reason: CancellationReason, refunded: bool) -> [Step; 2] {
    [
        Step::CancelOrder {
            reason,
            at: facts.now,
        },
        Step::Record(CheckoutCommand::RecordCompensated {
            refunded,
            at: facts.now,
        }),
    ]
}

fn products(checkout: &Checkout) -> Vec<ProductId> {
    checkout
        .lines()
        .iter()
        .map(|line| line.product_id)
        .collect()
}

/// Why the stock goes back, in the product's words.
fn release_reason(reason: CancellationReason) -> ReleaseReason {
    match reason {
        CancellationReason::OutOfStock => ReleaseReason::OutOfStock,
        CancellationReason::PaymentDeclined => ReleaseReason::PaymentDeclined,
        CancellationReason::PaymentTimeout => ReleaseReason::PaymentTimeout,
        CancellationReason::CancelledByCustomer | CancellationReason::CancelledByAdmin => {
            ReleaseReason::OrderCancelled
        }
    }
}
