//! The gauge `shop_saga_instances{state}`: how many checkouts are in each state, counted every 15 s from the
//! checkouts' own streams. Every state is reported, at zero when no checkout is in it, so that each label
//! value exists from start-up.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::checkout::{Checkout, CheckoutState};
use eventstore::Stored;
use eventstore::db::PgPool;
use tokio::sync::watch;

/// Every state a checkout can be in.
pub const STATES: [CheckoutState; 6] = [
    CheckoutState::Started,
    CheckoutState::StockReserved,
    CheckoutState::Paid,
    CheckoutState::Completed,
    CheckoutState::Failed,
    CheckoutState::Compensated,
];
/// How often the checkouts are counted: the dashboards scrape every 15 s.
pub const EVERY: Duration = Duration::from_secs(15);

/// Reports the gauge every [`EVERY`] until `shutdown`. Several saga processes report the same counts; the
/// dashboards take the maximum.
pub async fn report(pool: PgPool, mut shutdown: watch::Receiver<bool>) {
    set(&BTreeMap::new());
    while !*shutdown.borrow() {
        match count(&pool).await {
            Ok(counts) => set(&counts),
            Err(error) => tracing::warn!(%error, "cannot count the checkout saga's instances"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {},
            _ = shutdown.changed() => {},
        }
    }
}

fn set(counts: &BTreeMap<CheckoutState, i64>) {
    for state in STATES {
        let n = counts.get(&state).copied().unwrap_or(0);
        metrics::gauge!("shop_saga_instances", "state" => state.as_str()).set(n as f64);
    }
}

/// How many checkouts are in each state: the state is the one the last event of each checkout's stream led
/// to. One pass over the checkouts' events, read backwards along the primary key.
pub async fn count(pool: &PgPool) -> Result<BTreeMap<CheckoutState, i64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_type, count(*) FROM \
           (SELECT DISTINCT ON (aggregate_id) event_type FROM events WHERE aggregate_type = $1 \
            ORDER BY aggregate_id DESC, sequence DESC) AS last \
         GROUP BY event_type",
    )
    .bind(aggregate_type::<Checkout>())
    .fetch_all(pool)
    .await?;
    let mut counts = BTreeMap::new();
    for (event_type, n) in rows {
        match state_after(&event_type) {
            Some(state) => *counts.entry(state).or_default() += n,
            None => tracing::warn!(
                event_type,
                "a checkout event the saga's gauge does not know"
            ),
        }
    }
    Ok(counts)
}

fn aggregate_type<A: Stored>() -> &'static str {
    A::TYPE
}

/// The state a checkout is in after an event of `event_type`.
fn state_after(event_type: &str) -> Option<CheckoutState> {
    Some(match event_type {
        "CheckoutStarted" => CheckoutState::Started,
        "CheckoutStockReserved" => CheckoutState::StockReserved,
        "CheckoutPaymentCaptured" | "CheckoutNothingToPay" => CheckoutState::Paid,
        "CheckoutCompleted" => CheckoutState::Completed,
        "CheckoutFailed" => CheckoutState::Failed,
        "CheckoutCompensated" => CheckoutState::Compensated,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::checkout::CheckoutEvent;
    use domain::order::CancellationReason;
    use domain::{Currency, Money, OrderId, PaymentMethod};

    use super::*;

    /// The name the store records for `event`: its variant, as the domain's events serialize.
    fn event_type(event: &CheckoutEvent) -> String {
        let value = serde_json::to_value(event).unwrap();
        value.as_object().unwrap().keys().next().unwrap().clone()
    }

    #[test]
    fn it_should_know_the_state_every_checkout_event_leads_to() {
        let at = Utc::now();
        let events = [
            CheckoutEvent::CheckoutStarted {
                promotion: None,
                order_id: OrderId::new(uuid::Uuid::from_u128(1)),
                lines: vec![],
                amount: Money::new(100, Currency::EUR).unwrap(),
                method: PaymentMethod::parse("pm_card_visa").unwrap(),
                payment_deadline: at,
                started_at: at,
            },
            CheckoutEvent::CheckoutStockReserved { reserved_at: at },
            CheckoutEvent::CheckoutPaymentCaptured {
                gateway_reference: "pi_1".to_owned(),
                captured_at: at,
            },
            CheckoutEvent::CheckoutNothingToPay { paid_at: at },
            CheckoutEvent::CheckoutCompleted { completed_at: at },
            CheckoutEvent::CheckoutFailed {
                reason: CancellationReason::CancelledByAdmin,
                failed_at: at,
            },
            CheckoutEvent::CheckoutCompensated {
                refunded: true,
                compensated_at: at,
            },
        ];
        let mut checkout = Checkout::default();
        for event in events {
            let name = event_type(&event);
            apply(&mut checkout, event);
            assert_eq!(state_after(&name), checkout.state(), "{name}");
        }
        assert_eq!(state_after("CheckoutRenamed"), None);
    }

    fn apply<A: Stored>(aggregate: &mut A, event: A::Event) {
        aggregate.apply(event);
    }
}
