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
