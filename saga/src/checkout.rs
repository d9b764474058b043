//! The checkout process manager. It reacts to `OrderPlaced` and `OrderCancelled` (and to payment deadlines)
//! and acts only by sending commands through the `CommandBus`. Its own progress is the `checkout` aggregate,
//! so the whole process is in the audit log. Every step is safe to repeat: commands carry the order's id, the
//! aggregates treat a repeated reservation, release or payment step as already done, and the gateway is
//! called with idempotency keys derived from the payment — a redelivered message never reserves, charges or
//! refunds twice.
//!
//! ```text
//! Started ──reserve every line──► StockReserved ──authorize+capture──► Paid ──commit, confirm──► Completed
//!    └── out of stock / declined / deadline / cancelled ──► Failed ──release, void/refund, cancel──► Compensated
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use domain::OrderId;
use domain::checkout::{Checkout, CheckoutCommand, CheckoutState, ReservedLine};
use domain::order::{CancellationReason, Order, OrderCommand, OrderError, OrderEvent};
use domain::payment::{Payment, PaymentCommand, PaymentError, PaymentStatus};
use domain::ports::{GatewayError, PaymentGateway};
use domain::product::{Product, ProductCommand, ProductError, ReleaseReason};
use domain::{PaymentId, Quantity, RuleViolation};
use eventstore::db::PgPool;
use eventstore::{BusError, CommandBus, CommandMetadata, Executed, Stored};
use tokio::sync::watch;

use crate::consumer::Handler;
use crate::message::EventMessage;
use crate::timers;

/// How long a payment may take, by default, before the order is cancelled (`pm_card_slow` takes 3 s).
pub const PAYMENT_DEADLINE: Duration = Duration::from_secs(10);
/// How long reserved stock is held for an order that is never completed.
const RESERVATION_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// Tries of a gateway call that failed transiently, within one handling of a message.
const GATEWAY_TRIES: u32 = 4;

/// A failure worth retrying the whole message for (a store or the gateway unreachable).
type Retry = String;

pub struct CheckoutSaga<G> {
    bus: Arc<CommandBus>,
    gateway: Arc<G>,
    pool: PgPool,
    /// How long a payment may take before the order is cancelled as `payment_timeout`.
    payment_deadline: Duration,
    /// One lock per order: events of one order are handled one at a time, those of different orders at once.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

enum PaymentOutcome {
    Captured(String),
    Declined,
    TimedOut,
}

impl<G: PaymentGateway> CheckoutSaga<G> {
    pub fn new(bus: Arc<CommandBus>, gateway: Arc<G>, pool: PgPool) -> Self {
        Self {
            bus,
            gateway,
            pool,
            payment_deadline: PAYMENT_DEADLINE,
            locks: Mutex::default(),
        }
    }

    pub fn with_payment_deadline(mut self, deadline: Duration) -> Self {
        self.payment_deadline = deadline;
        self
    }

    pub fn gateway(&self) -> &G {
        &self.gateway
    }

    fn lock(&self, order: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget locks nobody holds, so the map does not grow with every order ever seen.
        if locks.len() > 10_000 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry(order.to_owned()).or_default().clone()
    }

    /// Runs a command; a refusal is returned for the saga to decide on, a store failure means retry.
    async fn exec<A: Stored>(
        &self,
        id: &str,
        command: A::Command,
        meta: &CommandMetadata,
    ) -> Result<Result<Executed, A::Error>, Retry> {
        match self.bus.execute::<A>(id, command, meta, None).await {
            Ok(executed) => Ok(Ok(executed)),
            Err(BusError::Rejected(error)) => Ok(Err(error)),
            Err(other) => Err(format!("{}: {other}", A::TYPE)),
        }
    }

    /// Runs a command that must succeed or have been done already.
    async fn must<A: Stored>(
        &self,
        id: &str,
        command: A::Command,
        meta: &CommandMetadata,
    ) -> Result<(), Retry>
    where
        A::Error: RuleViolation,
    {
        match self.exec::<A>(id, command, meta).await? {
            Ok(_) => Ok(()),
            Err(error) => Err(format!(
                "{} refused a saga step: {error} ({})",
                A::TYPE,
                error.code()
            )),
        }
    }

    async fn checkout(&self, id: &str) -> Result<Checkout, Retry> {
        self.bus
            .load::<Checkout>(id)
            .await
            .map(|(c, _)| c)
            .map_err(|e| e.to_string())
    }

    async fn on_placed(&self, event: OrderEvent, meta: &CommandMetadata) -> Result<(), Retry> {
        let OrderEvent::OrderPlaced {
            order_id,
            lines,
            total,
            payment_method,
            ..
        } = event
        else {
            return Ok(());
        };
        let id = order_id.to_string();
        let lock = self.lock(&id);
        let _held = lock.lock().await;
        if self.checkout(&id).await?.state().is_none() {
            let deadline =
                Utc::now() + chrono::Duration::from_std(self.payment_deadline).unwrap_or_default();
            let start = CheckoutCommand::Start {
                order_id,
                lines: lines
                    .iter()
                    .map(|l| ReservedLine {
                        product_id: l.product_id,
                        quantity: l.quantity.get(),
                    })
                    .collect(),
                amount: total,
                method: payment_method,
                payment_deadline: deadline,
                at: Utc::now(),
            };
            self.must::<Checkout>(&id, start, meta).await?;
            timers::schedule(&self.pool, &id, deadline + chrono::Duration::seconds(1))
                .await
                .map_err(|e| e.to_string())?;
        }
        self.advance(order_id, meta).await
    }

    async fn on_cancelled(
        &self,
        order_id: OrderId,
        reason: CancellationReason,
        meta: &CommandMetadata,
    ) -> Result<(), Retry> {
        let id = order_id.to_string();
        let lock = self.lock(&id);
        let _held = lock.lock().await;
        if self.checkout(&id).await?.state().is_none() {
            return Ok(());
        }
        self.must::<Checkout>(
            &id,
            CheckoutCommand::Fail {
                reason,
                at: Utc::now(),
            },
            meta,
        )
        .await?;
        self.advance(order_id, meta).await
    }

    /// A payment deadline passed: an order still waiting for its payment is cancelled.
    pub async fn on_deadline(&self, order_id: OrderId) -> Result<(), Retry> {
        let id = order_id.to_string();
        let lock = self.lock(&id);
        let _held = lock.lock().await;
        let meta = CommandMetadata {
            causation_id: Some(format!("timer:payment_deadline:{id}")),
            ..CommandMetadata::new_chain()
        };
        if matches!(
            self.checkout(&id).await?.state(),
            Some(CheckoutState::Started | CheckoutState::StockReserved)
        ) {
            let fail = CheckoutCommand::Fail {
                reason: CancellationReason::PaymentTimeout,
                at: Utc::now(),
            };
            self.must::<Checkout>(&id, fail, &meta).await?;
            self.advance(order_id, &meta).await?;
        }
        Ok(())
    }

    /// Takes the checkout from wherever it is to its end, one step at a time.
    async fn advance(&self, order_id: OrderId, meta: &CommandMetadata) -> Result<(), Retry> {
        let id = order_id.to_string();
        loop {
            let checkout = self.checkout(&id).await?;
            let now = Utc::now();
            let next = match checkout.state() {
                None | Some(CheckoutState::Completed | CheckoutState::Compensated) => return Ok(()),
                Some(CheckoutState::Started) => {
                    match self.reserve(order_id, &checkout, meta).await? {
                        true => CheckoutCommand::RecordStockReserved { at: now },
                        false => CheckoutCommand::Fail {
                            reason: CancellationReason::OutOfStock,
                            at: now,
                        },
                    }
                }
                Some(CheckoutState::StockReserved) => {
                    match self.pay(order_id, &checkout, meta).await? {
                        PaymentOutcome::Captured(gateway_reference) => {
                            CheckoutCommand::RecordPaymentCaptured {
                                gateway_reference,
                                at: now,
                            }
                        }
                        PaymentOutcome::Declined => CheckoutCommand::Fail {
                            reason: CancellationReason::PaymentDeclined,
                            at: now,
                        },
                        PaymentOutcome::TimedOut => CheckoutCommand::Fail {
                            reason: CancellationReason::PaymentTimeout,
                            at: now,
                        },
                    }
                }
                Some(CheckoutState::Paid) => {
                    self.confirm(order_id, &checkout, meta).await?;
                    CheckoutCommand::Complete { at: now }
                }
                Some(CheckoutState::Failed) => {
                    let refunded = self.compensate(order_id, &checkout, meta).await?;
                    CheckoutCommand::RecordCompensated { refunded, at: now }
                }
            };
            self.must::<Checkout>(&id, next, meta).await?;
        }
    }

    /// Reserves every line; false when one cannot be (what was reserved is released by the compensation).
    async fn reserve(
        &self,
        order_id: OrderId,
        checkout: &Checkout,
        meta: &CommandMetadata,
    ) -> Result<bool, Retry> {
        for line in checkout.lines() {
            let Ok(quantity) = Quantity::new(i64::from(line.quantity)) else {
                return Ok(false);
            };
            let expires_at = Utc::now() + RESERVATION_TTL;
            let product = line.product_id.to_string();
            // The expiry is made durable first: a hold is never left without one.
            timers::schedule_expiry(&self.pool, &product, &order_id.to_string(), expires_at)
                .await
                .map_err(|e| format!("cannot schedule a reservation expiry: {e}"))?;
            let reserve = ProductCommand::Reserve {
                order_id,
                quantity,
                expires_at,
                at: Utc::now(),
            };
            if let Err(refusal) = self.exec::<Product>(&product, reserve, meta).await? {
                tracing::info!(%order_id, product = %line.product_id, %refusal, "cannot reserve stock");
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn pay(
        &self,
        order_id: OrderId,
        checkout: &Checkout,
        meta: &CommandMetadata,
    ) -> Result<PaymentOutcome, Retry> {
        let payment_id = PaymentId::for_order(order_id);
        let id = payment_id.to_string();
        let (Some(amount), Some(method)) = (checkout.amount(), checkout.method()) else {
            return Err("a started checkout without amount or method".to_owned());
        };
        let start = PaymentCommand::Start {
            payment_id,
            order_id,
            amount,
            method: method.clone(),
            at: Utc::now(),
        };
        match self.exec::<Payment>(&id, start, meta).await? {
            Ok(_) | Err(PaymentError::AlreadyStarted) => {}
            Err(error) => return Err(error.to_string()),
        }
        let (payment, _) = self
            .bus
            .load::<Payment>(&id)
            .await
            .map_err(|e| e.to_string())?;
        match payment.status() {
            Some(PaymentStatus::Captured) => {
                return Ok(PaymentOutcome::Captured(
                    payment.gateway_reference().unwrap_or_default().to_owned(),
                ));
            }
            Some(PaymentStatus::Declined) => return Ok(PaymentOutcome::Declined),
            _ => {}
        }
        let deadline = checkout.payment_deadline().unwrap_or_else(Utc::now);
        let left = (deadline - Utc::now()).to_std().unwrap_or_default();
        let authorized = tokio::time::timeout(left, async {
            let mut wait = Duration::from_millis(100);
            let mut tries = 0;
            loop {
                tries += 1;
                match self.gateway.authorize(&format!("{id}:authorize"), amount, method).await {
                    Err(GatewayError::Transient(reason)) if tries < GATEWAY_TRIES => {
                        tracing::warn!(%order_id, %reason, "payment provider failed transiently; trying again");
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    other => break other,
                }
            }
        })
        .await;
        let reference = match authorized {
            Err(_) => return Ok(PaymentOutcome::TimedOut),
            Ok(Err(GatewayError::Declined(reason))) => {
                let decline = PaymentCommand::Decline {
                    reason,
                    at: Utc::now(),
                };
                self.must::<Payment>(&id, decline, meta).await?;
                return Ok(PaymentOutcome::Declined);
            }
            Ok(Err(GatewayError::Transient(reason))) => {
                return Err(format!("payment provider unavailable: {reason}"));
            }
            Ok(Ok(reference)) => reference,
        };
        let authorize = PaymentCommand::Authorize {
            gateway_reference: reference.clone(),
            at: Utc::now(),
        };
        self.must::<Payment>(&id, authorize, meta).await?;
        self.gateway
            .capture(&format!("{id}:capture"), &reference)
            .await
            .map_err(|e| format!("capture failed: {e}"))?;
        self.must::<Payment>(&id, PaymentCommand::Capture { at: Utc::now() }, meta)
            .await?;
        Ok(PaymentOutcome::Captured(reference))
    }

    async fn confirm(
        &self,
        order_id: OrderId,
        checkout: &Checkout,
        meta: &CommandMetadata,
    ) -> Result<(), Retry> {
        for line in checkout.lines() {
            let commit = ProductCommand::CommitReservation {
                order_id,
                at: Utc::now(),
            };
            self.must::<Product>(&line.product_id.to_string(), commit, meta)
                .await?;
        }
        match self
            .exec::<Order>(
                &order_id.to_string(),
                OrderCommand::Confirm { at: Utc::now() },
                meta,
            )
            .await?
        {
            Ok(_) => Ok(()),
            // Cancelled meanwhile: its `OrderCancelled` makes the saga release and refund.
            Err(OrderError::NotPending { .. }) => Ok(()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Releases the order's stock, returns its money, and cancels it if it is not already; true if refunded.
    async fn compensate(
        &self,
        order_id: OrderId,
        checkout: &Checkout,
        meta: &CommandMetadata,
    ) -> Result<bool, Retry> {
        let reason = checkout
            .failure()
            .unwrap_or(CancellationReason::CancelledByAdmin);
        let release_reason = match reason {
            CancellationReason::OutOfStock => ReleaseReason::OutOfStock,
            CancellationReason::PaymentDeclined => ReleaseReason::PaymentDeclined,
            CancellationReason::PaymentTimeout => ReleaseReason::PaymentTimeout,
            CancellationReason::CancelledByCustomer | CancellationReason::CancelledByAdmin => {
                ReleaseReason::OrderCancelled
            }
        };
        for line in checkout.lines() {
            let release = ProductCommand::ReleaseReservation {
                order_id,
                reason: release_reason,
                at: Utc::now(),
            };
            self.must::<Product>(&line.product_id.to_string(), release, meta)
                .await?;
        }
        let payment_id = PaymentId::for_order(order_id).to_string();
        let (payment, _) = self
            .bus
            .load::<Payment>(&payment_id)
            .await
            .map_err(|e| e.to_string())?;
        let reference = payment.gateway_reference().unwrap_or_default().to_owned();
        let mut refunded = false;
        match payment.status() {
            Some(PaymentStatus::Authorized) => {
                self.gateway
                    .void(&format!("{payment_id}:void"), &reference)
                    .await
                    .map_err(|e| format!("void failed: {e}"))?;
                self.must::<Payment>(&payment_id, PaymentCommand::Void { at: Utc::now() }, meta)
                    .await?;
            }
            Some(PaymentStatus::Captured) => {
                self.gateway
                    .refund(&format!("{payment_id}:refund"), &reference)
                    .await
                    .map_err(|e| format!("refund failed: {e}"))?;
                self.must::<Payment>(&payment_id, PaymentCommand::Refund { at: Utc::now() }, meta)
                    .await?;
                refunded = true;
            }
            Some(PaymentStatus::Refunded) => refunded = true,
            _ => {}
        }
        let cancel = OrderCommand::Cancel {
            reason,
            at: Utc::now(),
        };
        match self
            .exec::<Order>(&order_id.to_string(), cancel, meta)
            .await?
        {
            Ok(_) => {}
            // Already cancelled (by the customer, which is why we are here) or shipped: nothing to undo.
            Err(OrderError::NotCancellable { .. }) => {}
            Err(error) => return Err(error.to_string()),
        }
        Ok(refunded)
    }
}

impl<G: PaymentGateway> Handler for CheckoutSaga<G> {
    async fn handle(&self, message: EventMessage) -> Result<(), String> {
        if message.aggregate_type != "order" {
            return Ok(());
        }
        let meta = CommandMetadata {
            user_id: None,
            correlation_id: message
                .correlation_id()
                .map_or_else(|| message.event_id.to_string(), str::to_owned),
            causation_id: Some(message.event_id.to_string()),
            request_id: None,
            idempotency_key: None,
        };
        let event: OrderEvent = serde_json::from_value(message.domain_payload())
            .map_err(|e| format!("{} cannot be read: {e}", message.event_type))?;
        let order_id: OrderId = message
            .aggregate_id
            .parse()
            .map_err(|_| format!("order id {:?} is not a UUID", message.aggregate_id))?;
        match event {
            placed @ OrderEvent::OrderPlaced { .. } => self.on_placed(placed, &meta).await,
            OrderEvent::OrderCancelled { reason, .. } => {
                self.on_cancelled(order_id, reason, &meta).await
            }
            _ => Ok(()),
        }
    }
}

/// Fires due payment deadlines every half second until `shutdown`.
pub async fn run_timers<G: PaymentGateway>(
    saga: Arc<CheckoutSaga<G>>,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match timers::take_due(&saga.pool, 50).await {
            Ok(due) => {
                for id in due {
                    let Ok(order_id) = id.parse::<OrderId>() else {
                        continue;
                    };
                    if let Err(error) = saga.on_deadline(order_id).await {
                        tracing::warn!(%error, %order_id, "payment deadline could not be handled; will retry");
                        let _ = timers::rearm(&saga.pool, &id).await;
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read saga timers"),
        }
        if let Err(error) = expire_reservations(&saga.bus, &saga.pool).await {
            tracing::warn!(%error, "cannot read reservation expiries");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {},
            _ = shutdown.changed() => {},
        }
    }
}

/// Releases every hold whose expiry has come and that is still held (a checkout that never finished, for
/// instance because its order was lost to a bug); a hold committed or released meanwhile records nothing.
/// Returns how many expiries were handled.
pub async fn expire_reservations(bus: &CommandBus, pool: &PgPool) -> Result<usize, sqlx::Error> {
    let due = timers::take_due_expiries(pool, 100).await?;
    for (product, order) in &due {
        let Ok(order_id) = order.parse::<OrderId>() else {
            timers::settle_expiry(pool, product, order, false).await?;
            continue;
        };
        let command = ProductCommand::ExpireReservation {
            order_id,
            now: Utc::now(),
        };
        let outcome = bus
            .execute::<Product>(product, command, &CommandMetadata::new_chain(), None)
            .await;
        let failed = match &outcome {
            Ok(executed) => {
                if executed.appended > 0 {
                    tracing::warn!(%order_id, %product, "reservation expired and released");
                }
                false
            }
            // Not due yet by this process's clock (behind the database's): look again later.
            Err(BusError::Rejected(ProductError::NotExpired)) => true,
            // No such product: nothing will ever change that.
            Err(BusError::Rejected(refusal)) => {
                tracing::warn!(%order_id, %product, %refusal, "reservation expiry refused");
                false
            }
            Err(error) => {
                tracing::warn!(%order_id, %product, %error, "reservation expiry failed; will retry");
                true
            }
        };
        timers::settle_expiry(pool, product, order, failed).await?;
    }
    Ok(due.len())
}
