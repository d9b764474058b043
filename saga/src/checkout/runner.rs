//! The checkout's I/O: turns messages and timers into inputs, loads the facts, performs the steps [`decide`]
//! chose and feeds their answers back, until a decision has nothing more to do. Every step is safe to repeat
//! (see [`Step`]), so a redelivered message never reserves, charges or refunds twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::checkout::{Checkout, CheckoutCommand, CheckoutState, ReservedLine};
use domain::order::{CancellationReason, Order, OrderCommand, OrderError, OrderEvent};
use domain::payment::{Payment, PaymentCommand, PaymentError};
use domain::ports::{GatewayError, PaymentGateway};
use domain::product::{Product, ProductCommand, ProductError, ReleaseReason};
use domain::promotion::{Promotion, PromotionCommand};
use domain::{
    Money, OrderId, PaymentId, PaymentMethod, ProductId, PromotionId, Quantity, RuleViolation,
};
use eventstore::db::PgPool;
use eventstore::{BusError, CommandBus, CommandMetadata, Stored, Unit};
use tokio::sync::watch;

use super::decide::{Facts, Input, Step, decide};
use crate::Clock;
use crate::consumer::{Arrival, Handler, HandlerError};
use crate::message::EventMessage;
use crate::timers;

/// How long a payment may take, by default, before the order is cancelled (`pm_card_slow` takes 3 s).
pub const PAYMENT_DEADLINE: Duration = Duration::from_secs(10);
/// Tries of a gateway call that failed transiently, within one handling of a message.
const GATEWAY_TRIES: u32 = 4;
/// The order events the saga reacts to; it acknowledges every other one unread.
const REACTS_TO: [&str; 2] = ["OrderPlaced", "OrderCancelled"];

pub struct CheckoutSaga<G> {
    bus: Arc<CommandBus>,
    gateway: Arc<G>,
    pool: PgPool,
    /// How long a payment may take before the order is cancelled as `payment_timeout`.
    payment_deadline: Duration,
    /// Where "now" comes from, so that tests move time instead of waiting for it.
    clock: Arc<dyn Clock>,
    /// One lock per order: events of one order are handled one at a time, those of different orders at once.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl<G: PaymentGateway> CheckoutSaga<G> {
    pub fn new(bus: Arc<CommandBus>, gateway: Arc<G>, pool: PgPool) -> Self {
        Self {
            bus,
            gateway,
            pool,
            payment_deadline: PAYMENT_DEADLINE,
            clock: Arc::new(Utc::now),
            locks: Mutex::default(),
        }
    }

    pub fn with_payment_deadline(mut self, deadline: Duration) -> Self {
        self.payment_deadline = deadline;
        self
    }

    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
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

    /// A payment deadline passed: an order still waiting for its payment is cancelled. Nothing is read when this
    /// process saw the checkout past waiting (paid, completed, failing or compensated): a checkout never goes
    /// back to waiting, so the deadline of almost every order costs nothing.
    pub async fn on_deadline(&self, order_id: OrderId) -> Result<(), HandlerError> {
        let seen = self.bus.seen::<Checkout>(&order_id.to_string());
        if seen.is_some_and(|checkout| {
            !matches!(
                checkout.state(),
                None | Some(CheckoutState::Started | CheckoutState::StockReserved)
            )
        }) {
            return Ok(());
        }
        let meta = CommandMetadata {
            causation_id: Some(format!("timer:payment_deadline:{order_id}")),
            ..CommandMetadata::new_chain()
        };
        self.run(order_id, Input::DeadlinePassed, &meta, FirstFacts::Stored)
            .await
    }

    /// Takes `order_id`'s checkout as far as `input` leads: decide, perform, and decide again on the answer
    /// (or, after steps that asked nothing, on where they left the checkout) until nothing is left to do.
    /// The first decision is taken on the `first` facts; the next ones on what this saga's own steps appended
    /// since (the bus's cache), as no one else writes the checkout or the payment meanwhile. If someone did, a
    /// step refused on that account makes the message come again and start from the store.
    async fn run(
        &self,
        order_id: OrderId,
        input: Input,
        meta: &CommandMetadata,
        first: FirstFacts,
    ) -> Result<(), HandlerError> {
        let lock = self.lock(&order_id.to_string());
        let _held = lock.lock().await;
        let mut input = input;
        let mut fresh = match first {
            FirstFacts::Stored => true,
            FirstFacts::PresumedNew => {
                self.bus.presume_new::<Checkout>(&order_id.to_string());
                self.bus
                    .presume_new::<Payment>(&PaymentId::for_order(order_id).to_string());
                false
            }
        };
        loop {
            let steps = decide(&self.facts(order_id, fresh).await?, input);
            if steps.is_empty() {
                return Ok(());
            }
            fresh = false;
            input = self
                .perform(order_id, steps, meta)
                .await?
                .unwrap_or(Input::Resume);
        }
    }

    /// The checkout and the payment: from the store when `fresh`, else as this saga's last steps left them.
    async fn facts(&self, order_id: OrderId, fresh: bool) -> Result<Facts, HandlerError> {
        let (checkout_id, payment_id) = (
            order_id.to_string(),
            PaymentId::for_order(order_id).to_string(),
        );
        // Read side by side: a round costs one read's time, as when only the checkout was read.
        let (checkout, payment) = tokio::try_join!(
            self.load::<Checkout>(&checkout_id, fresh),
            self.load::<Payment>(&payment_id, fresh),
        )?;
        Ok(Facts {
            order_id,
            checkout,
            payment,
            now: self.clock.now(),
            payment_window: chrono::Duration::from_std(self.payment_deadline).unwrap_or_default(),
        })
    }

    /// Performs `steps` in order; the answer of the step that asked one (always the last). The appends
    /// between two steps that ask or tell the outside world are gathered and commit together, as one unit (with
    /// the stock's holds, when the next step reserves): a crash leaves all or none of them, and either way the
    /// next decision, on the store's facts, takes the checkout on from there. A deadline to arm is armed just
    /// before them, with the holds' expiries.
    async fn perform(
        &self,
        order_id: OrderId,
        steps: Vec<Step>,
        meta: &CommandMetadata,
    ) -> Result<Option<Input>, HandlerError> {
        let payment = PaymentId::for_order(order_id).to_string();
        let mut appends = Vec::new();
        let mut deadline = None;
        for step in steps {
            match step {
                Step::Record(command) => appends.push(Append::Record(command)),
                Step::Pay(command) => appends.push(Append::Pay(command)),
                Step::Confirm {
                    products,
                    promotion,
                    at,
                } => appends.push(Append::Confirm {
                    products,
                    promotion,
                    at,
                }),
                Step::Release {
                    products,
                    promotion,
                    reason,
                    at,
                } => appends.push(Append::Release {
                    products,
                    promotion,
                    reason,
                    at,
                }),
                Step::CancelOrder { reason, at } => {
                    appends.push(Append::CancelOrder { reason, at });
                }
                Step::ScheduleDeadline { at } => deadline = Some(at),
                Step::Reserve {
                    lines,
                    expires_at,
                    at,
                } => {
                    let holds = Holds {
                        lines,
                        expires_at,
                        at,
                    };
                    return self
                        .reserve(order_id, appends, deadline, holds, meta)
                        .await
                        .map(Some);
                }
                Step::Authorize {
                    amount,
                    method,
                    until,
                } => {
                    self.write(order_id, &mut appends, deadline.take(), meta)
                        .await?;
                    return self
                        .authorize(order_id, amount, &method, until)
                        .await
                        .map(Some);
                }
                Step::Capture { gateway_reference } => {
                    self.write(order_id, &mut appends, deadline.take(), meta)
                        .await?;
                    let captured = self
                        .gateway
                        .capture(&format!("{payment}:capture"), &gateway_reference)
                        .await;
                    return match captured {
                        Ok(()) => Ok(Some(Input::Captured)),
                        Err(GatewayError::Declined(reason)) => {
                            Ok(Some(Input::CaptureRefused { reason }))
                        }
                        Err(GatewayError::Transient(reason)) => {
                            Err(HandlerError::Transient(format!("capture failed: {reason}")))
                        }
                    };
                }
                Step::Void { gateway_reference } => {
                    self.write(order_id, &mut appends, deadline.take(), meta)
                        .await?;
                    self.gateway
                        .void(&format!("{payment}:void"), &gateway_reference)
                        .await
                        .map_err(|e| HandlerError::Transient(format!("void failed: {e}")))?;
                    return Ok(Some(Input::Voided));
                }
                Step::Refund { gateway_reference } => {
                    self.write(order_id, &mut appends, deadline.take(), meta)
                        .await?;
                    self.gateway
                        .refund(&format!("{payment}:refund"), &gateway_reference)
                        .await
                        .map_err(|e| HandlerError::Transient(format!("refund failed: {e}")))?;
                    return Ok(Some(Input::Refunded));
                }
                Step::Defer { why } => {
                    self.write(order_id, &mut appends, deadline.take(), meta)
                        .await?;
                    return Err(HandlerError::Transient(format!(
                        "checkout {order_id} waits: {why}"
                    )));
                }
                Step::Halt { why } => {
                    self.write(order_id, &mut appends, deadline.take(), meta)
                        .await?;
                    return Err(HandlerError::Permanent(format!(
                        "checkout {order_id} cannot go on: {why}"
                    )));
                }
            }
        }
        self.write(order_id, &mut appends, deadline.take(), meta)
            .await?;
        Ok(None)
    }

    /// Arms `deadline` (when given), then commits the gathered `appends` (emptying it) in one unit.
    async fn write(
        &self,
        order_id: OrderId,
        appends: &mut Vec<Append>,
        deadline: Option<DateTime<Utc>>,
        meta: &CommandMetadata,
    ) -> Result<(), HandlerError> {
        if let Some(deadline) = deadline {
            // No holds: nothing expires.
            timers::arm(
                &self.pool,
                &order_id.to_string(),
                Some(deadline),
                &[],
                deadline,
            )
            .await
            .map_err(HandlerError::transient)?;
        }
        let appends = std::mem::take(appends);
        self.commit(order_id, &appends, None, meta)
            .await
            .map(|_| ())
    }

    /// Commits `appends` in one unit, each decided on this saga's own last writes, with a hold on every line of
    /// `holds` if given; when another writer appended to one of their aggregates meanwhile (a product's stock,
    /// often), the unit conflicts and is decided again on the store's state, as a single command would be.
    /// Whether every line is held: when one cannot be, the unit holds none and commits the appends alone.
    async fn commit(
        &self,
        order_id: OrderId,
        appends: &[Append],
        holds: Option<&Holds>,
        meta: &CommandMetadata,
    ) -> Result<bool, HandlerError> {
        if appends.is_empty() && holds.is_none() {
            return Ok(true);
        }
        // A discount code's promotion is written by every checkout with the code: a unit that counts or
        // gives back its redemption meets more conflicts, each a write that went first, and tries longer.
        let attempts = if appends.iter().any(Append::touches_a_promotion) {
            PROMOTION_ATTEMPTS.max(self.bus.attempts())
        } else {
            self.bus.attempts()
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut unit = self.unit_of(order_id, appends, meta).await?;
            let held = match holds {
                Some(holds) => holds.stage(&mut unit, order_id).await?,
                None => true,
            };
            if !held {
                unit = self.unit_of(order_id, appends, meta).await?;
            }
            match unit.commit().await {
                Ok(_) => return Ok(held),
                Err(BusError::Conflict) if attempt < attempts => {
                    // The bus forgot the unit's aggregates; the order's payment, kept or presumed new, is
                    // read again too, so that the next decision is taken on the store's facts.
                    self.bus
                        .forget::<Payment>(&PaymentId::for_order(order_id).to_string());
                    tokio::time::sleep(self.bus.backoff(attempt.min(4))).await;
                }
                Err(error) => {
                    return Err(HandlerError::Transient(format!(
                        "the checkout's steps could not be written: {error}"
                    )));
                }
            }
        }
    }

    /// A unit with `appends` decided into it.
    async fn unit_of(
        &self,
        order_id: OrderId,
        appends: &[Append],
        meta: &CommandMetadata,
    ) -> Result<Unit<'_>, HandlerError> {
        let mut unit = self.bus.unit(meta);
        for append in appends {
            stage(&mut unit, order_id, append.clone()).await?;
        }
        Ok(unit)
    }

    async fn load<A: Stored>(&self, id: &str, fresh: bool) -> Result<A, HandlerError> {
        let loaded = if fresh {
            self.bus.load::<A>(id).await
        } else {
            self.bus.load_own::<A>(id).await
        };
        loaded
            .map(|(aggregate, _)| aggregate)
            .map_err(|e| HandlerError::Transient(format!("{}: {e}", A::TYPE)))
    }

    /// Holds every line of `holds` in one unit with the `appends` gathered before it (the checkout's start),
    /// after arming `deadline` and each hold's expiry in one statement: no hold is ever without its expiry, nor a
    /// started checkout without its deadline. Out of stock when a line cannot be held; then nothing is held.
    async fn reserve(
        &self,
        order_id: OrderId,
        appends: Vec<Append>,
        deadline: Option<DateTime<Utc>>,
        holds: Holds,
        meta: &CommandMetadata,
    ) -> Result<Input, HandlerError> {
        let products: Vec<String> = holds
            .lines
            .iter()
            .map(|line| line.product_id.to_string())
            .collect();
        timers::arm(
            &self.pool,
            &order_id.to_string(),
            deadline,
            &products,
            holds.expires_at,
        )
        .await
        .map_err(|e| HandlerError::Transient(format!("cannot arm the checkout's timers: {e}")))?;
        let held = self.commit(order_id, &appends, Some(&holds), meta).await?;
        Ok(if held {
            Input::StockReserved
        } else {
            Input::OutOfStock
        })
    }

    /// Asks the provider, retrying its transient failures a few times, and gives up at `until`.
    async fn authorize(
        &self,
        order_id: OrderId,
        amount: Money,
        method: &PaymentMethod,
        until: DateTime<Utc>,
    ) -> Result<Input, HandlerError> {
        let key = format!("{}:authorize", PaymentId::for_order(order_id));
        let left = (until - self.clock.now()).to_std().unwrap_or_default();
        let answered = tokio::time::timeout(left, async {
            let mut wait = Duration::from_millis(100);
            let mut tries = 0;
            loop {
                tries += 1;
                match self.gateway.authorize(&key, amount, method).await {
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
        match answered {
            Err(_) => Ok(Input::AuthorizationTimedOut),
            Ok(Ok(gateway_reference)) => Ok(Input::Authorized { gateway_reference }),
            Ok(Err(GatewayError::Declined(reason))) => Ok(Input::AuthorizationDeclined { reason }),
            Ok(Err(GatewayError::Transient(reason))) => Err(HandlerError::Transient(format!(
                "payment provider unavailable: {reason}"
            ))),
        }
    }
}

/// How often a unit that writes a promotion is tried when it conflicts (see [`CheckoutSaga::append`]).
const PROMOTION_ATTEMPTS: u32 = 20;

impl Append {
    fn touches_a_promotion(&self) -> bool {
        matches!(
            self,
            Append::Confirm {
                promotion: Some(_),
                ..
            } | Append::Release {
                promotion: Some(_),
                ..
            }
        )
    }
}

/// A step that only appends to the checkout's aggregates: gathered with its neighbours into one unit.
#[derive(Debug, Clone)]
enum Append {
    Record(CheckoutCommand),
    Pay(PaymentCommand),
    Confirm {
        products: Vec<ProductId>,
        promotion: Option<PromotionId>,
        at: DateTime<Utc>,
    },
    Release {
        products: Vec<ProductId>,
        promotion: Option<PromotionId>,
        reason: ReleaseReason,
        at: DateTime<Utc>,
    },
    CancelOrder {
        reason: CancellationReason,
        at: DateTime<Utc>,
    },
}

/// The stock a checkout holds: every line until `expires_at`.
#[derive(Debug)]
struct Holds {
    lines: Vec<ReservedLine>,
    expires_at: DateTime<Utc>,
    at: DateTime<Utc>,
}

impl Holds {
    /// Decides a hold on every line into `unit`; false, at the first line that cannot be held.
    async fn stage(&self, unit: &mut Unit<'_>, order_id: OrderId) -> Result<bool, HandlerError> {
        for line in &self.lines {
            let Ok(quantity) = Quantity::new(i64::from(line.quantity)) else {
                return Ok(false);
            };
            let reserve = ProductCommand::Reserve {
                order_id,
                quantity,
                expires_at: self.expires_at,
                at: self.at,
            };
            match unit
                .decide_own::<Product>(&line.product_id.to_string(), reserve)
                .await
            {
                Err(BusError::Rejected(refusal)) => {
                    tracing::info!(%order_id, product = %line.product_id, %refusal, "cannot reserve stock");
                    return Ok(false);
                }
                other => must::<Product>(other)?,
            }
        }
        Ok(true)
    }
}

/// Decides one gathered step into `unit`. What each step tolerates is what makes it safe to repeat: a
/// payment already started, an order no longer pending (cancelled meanwhile: its `OrderCancelled` brings
/// the saga back to compensate) or no longer cancellable (already cancelled, or shipped: nothing to undo).
async fn stage(unit: &mut Unit<'_>, order_id: OrderId, append: Append) -> Result<(), HandlerError> {
    let id = order_id.to_string();
    match append {
        Append::Record(command) => {
            must::<Checkout>(unit.decide_own::<Checkout>(&id, command).await)
        }
        Append::Pay(command) => {
            let payment = PaymentId::for_order(order_id).to_string();
            match unit.decide_own::<Payment>(&payment, command).await {
                Err(BusError::Rejected(PaymentError::AlreadyStarted)) => Ok(()),
                other => must::<Payment>(other),
            }
        }
        Append::Confirm {
            products,
            promotion,
            at,
        } => {
            for product in products {
                let commit = ProductCommand::CommitReservation { order_id, at };
                must::<Product>(
                    unit.decide_own::<Product>(&product.to_string(), commit)
                        .await,
                )?;
            }
            if let Some(promotion) = promotion {
                let count = PromotionCommand::Count { order_id, at };
                must::<Promotion>(
                    unit.decide_own::<Promotion>(&promotion.to_string(), count)
                        .await,
                )?;
            }
            match unit
                .decide_own::<Order>(&id, OrderCommand::Confirm { at })
                .await
            {
                Err(BusError::Rejected(OrderError::NotPending { .. })) => Ok(()),
                other => must::<Order>(other),
            }
        }
        Append::Release {
            products,
            promotion,
            reason,
            at,
        } => {
            if let Some(promotion) = promotion {
                let release = PromotionCommand::Release { order_id, at };
                must::<Promotion>(
                    unit.decide_own::<Promotion>(&promotion.to_string(), release)
                        .await,
                )?;
            }
            for product in products {
                let release = ProductCommand::ReleaseReservation {
                    order_id,
                    reason,
                    at,
                };
                must::<Product>(
                    unit.decide_own::<Product>(&product.to_string(), release)
                        .await,
                )?;
            }
            Ok(())
        }
        Append::CancelOrder { reason, at } => {
            let cancel = OrderCommand::Cancel { reason, at };
            match unit.decide_own::<Order>(&id, cancel).await {
                Err(BusError::Rejected(OrderError::NotCancellable { .. })) => Ok(()),
                other => must::<Order>(other),
            }
        }
    }
}

/// A gathered step that must be decided, or have been done already: a refusal is retried (see [`refused`]),
/// a store failure too.
fn must<A: Stored>(decided: Result<u64, BusError<A::Error>>) -> Result<(), HandlerError>
where
    A::Error: RuleViolation,
{
    match decided {
        Ok(_) => Ok(()),
        Err(BusError::Rejected(refusal)) => Err(refused::<A>(&refusal)),
        Err(other) => Err(HandlerError::Transient(format!("{}: {other}", A::TYPE))),
    }
}

/// A saga step an aggregate refused. Retried: the refusal usually means another process moved the order on
/// meanwhile, and the next delivery decides again from where it is.
fn refused<A: Stored>(refusal: &A::Error) -> HandlerError
where
    A::Error: RuleViolation,
{
    HandlerError::Transient(format!(
        "{} refused a saga step: {refusal} ({})",
        A::TYPE,
        refusal.code()
    ))
}

/// Whether the saga reacts to `message` at all.
fn reacts_to(message: &EventMessage) -> bool {
    message.aggregate_type == "order" && REACTS_TO.contains(&message.event_type.as_str())
}

/// The input an order's event is for the saga, if it reacts to it at all.
fn read(message: &EventMessage) -> Result<Option<(OrderId, Input)>, HandlerError> {
    if !reacts_to(message) {
        return Ok(None);
    }
    let order_id: OrderId = message.aggregate_id.parse().map_err(|_| {
        HandlerError::Permanent(format!("order id {:?} is not a UUID", message.aggregate_id))
    })?;
    let event: OrderEvent = message.event()?;
    Ok(Input::from_order_event(event).map(|input| (order_id, input)))
}

impl<G: PaymentGateway> Handler for CheckoutSaga<G> {
    fn wants(&self, message: &EventMessage) -> bool {
        reacts_to(message)
    }

    /// A first delivery of `OrderPlaced` is decided on a checkout and payment presumed new: nothing is read
    /// for them, and the checkout's first append proves it (ADR 0006). A copy the relay published again meets
    /// a checkout already started: that append conflicts, the unit is decided again on the store's checkout
    /// (where starting it again and holding its lines again append nothing), and the next decision, on the
    /// store's facts, takes the checkout on from where it is; nothing left the store before that append.
    async fn handle(&self, message: EventMessage, arrival: Arrival) -> Result<(), HandlerError> {
        let Some((order_id, input)) = read(&message)? else {
            return Ok(());
        };
        let first = match (&input, arrival) {
            (Input::OrderPlaced { .. }, Arrival::First) => FirstFacts::PresumedNew,
            _ => FirstFacts::Stored,
        };
        let meta = CommandMetadata {
            correlation_id: message
                .correlation_id()
                .map_or_else(|| message.event_id.to_string(), str::to_owned),
            causation_id: Some(message.event_id.to_string()),
            ..CommandMetadata::default()
        };
        self.run(order_id, input, &meta, first).await
    }
}

/// What a run's first decision is taken on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstFacts {
    /// The checkout and payment as stored.
    Stored,
    /// A checkout and payment presumed to have no events yet (see [`CommandBus::presume_new`]).
    PresumedNew,
}

/// Fires due payment deadlines every half second until `shutdown`.
pub async fn run_timers<G: PaymentGateway>(
    saga: Arc<CheckoutSaga<G>>,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match timers::take_due(&saga.pool, saga.clock.now(), 50).await {
            Ok(due) => {
                for id in due {
                    let Ok(order_id) = id.parse::<OrderId>() else {
                        continue;
                    };
                    if let Err(error) = saga.on_deadline(order_id).await {
                        tracing::warn!(%error, %order_id, "payment deadline could not be handled; will retry");
                        if let Err(error) = timers::rearm(&saga.pool, &id, saga.clock.now()).await {
                            tracing::error!(%error, %order_id, "a payment deadline that failed could not be armed again; the payment's own time limit still holds");
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read saga timers"),
        }
        if let Err(error) = expire_reservations(&saga.bus, &saga.pool, saga.clock.now()).await {
            tracing::warn!(%error, "cannot read reservation expiries");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {},
            _ = shutdown.changed() => {},
        }
    }
}

/// Releases every hold whose expiry has come by `now` and that is still held (a checkout that never finished,
/// for instance because its order was lost to a bug); a hold committed or released meanwhile records nothing.
/// Returns how many expiries were handled.
pub async fn expire_reservations(
    bus: &CommandBus,
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let due = timers::take_due_expiries(pool, now, 100).await?;
    for (product, order) in &due {
        let Ok(order_id) = order.parse::<OrderId>() else {
            timers::settle_expiry(pool, product, order, false).await?;
            continue;
        };
        let command = ProductCommand::ExpireReservation { order_id, now };
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
            // Not due by the product's own record of the hold (a retried reservation set a later expiry).
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
