//! Business counters, counted where events are appended: every order placed, confirmed or cancelled and
//! every payment outcome, whichever process's command caused it.

use serde_json::Value;

/// Counts what an appended event means for the business; only order and payment events count.
pub fn record(aggregate_type: &str, event_type: &str, payload: impl FnOnce() -> Option<Value>) {
    match (aggregate_type, event_type) {
        ("order", "OrderPlaced") => {
            let currency = payload()
                .and_then(|p| {
                    p["OrderPlaced"]["total"]["currency"]
                        .as_str()
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            metrics::counter!("shop_orders_placed_total", "currency" => currency).increment(1);
        }
        ("order", "OrderConfirmed") => {
            metrics::counter!("shop_orders_confirmed_total").increment(1)
        }
        ("order", "OrderCancelled") => {
            let reason = payload()
                .and_then(|p| p["OrderCancelled"]["reason"].as_str().map(str::to_owned))
                .unwrap_or_default();
            metrics::counter!("shop_orders_cancelled_total", "reason" => reason).increment(1);
        }
        ("payment", "PaymentCaptured") => {
            metrics::counter!("shop_payments_total", "outcome" => "captured").increment(1);
            if let Some(amount) = payload().map(|p| p["PaymentCaptured"]["amount"].clone()) {
                let currency = amount["currency"].as_str().unwrap_or_default().to_owned();
                let minor = amount["amount"].as_u64().unwrap_or(0);
                metrics::counter!("shop_revenue_minor_units_total", "currency" => currency)
                    .increment(minor);
            }
        }
        ("payment", "PaymentAuthorized") => {
            metrics::counter!("shop_payments_total", "outcome" => "authorized").increment(1)
        }
        ("payment", "PaymentDeclined") => {
            metrics::counter!("shop_payments_total", "outcome" => "declined").increment(1)
        }
        ("payment", "PaymentRefunded") => {
            metrics::counter!("shop_payments_total", "outcome" => "refunded").increment(1)
        }
        ("payment", "PaymentVoided") => {
            metrics::counter!("shop_payments_total", "outcome" => "voided").increment(1)
        }
        _ => {}
    }
}

/// Creates, at zero, every series whose labels are known in advance, so that a fresh process exports them
/// (dashboards and alerts see 0, not "no data"). Call once the metrics recorder is installed.
pub fn register_at_zero() {
    use cqrs_es::Aggregate;
    use domain::order::CancellationReason;

    let aggregate_types = [
        domain::user::User::TYPE,
        domain::product::Product::TYPE,
        domain::cart::Cart::TYPE,
        domain::order::Order::TYPE,
        domain::payment::Payment::TYPE,
        domain::checkout::Checkout::TYPE,
        domain::notification::Notification::TYPE,
    ];
    for aggregate_type in aggregate_types {
        metrics::counter!("shop_events_appended_total", "aggregate_type" => aggregate_type)
            .increment(0);
        // Registering is enough: an unused handle records nothing.
        let _registered = metrics::histogram!("shop_command_duration_seconds", "aggregate_type" => aggregate_type);
    }
    for outcome in ["hit", "stale", "miss"] {
        metrics::counter!("shop_aggregate_cache_total", "outcome" => outcome).increment(0);
    }
    metrics::counter!("shop_orders_confirmed_total").increment(0);
    for reason in CancellationReason::ALL {
        metrics::counter!("shop_orders_cancelled_total", "reason" => reason.as_str()).increment(0);
    }
    for outcome in ["authorized", "captured", "declined", "refunded", "voided"] {
        metrics::counter!("shop_payments_total", "outcome" => outcome).increment(0);
    }
}
