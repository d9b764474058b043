//! The Stripe adapter of the [`PaymentGateway`] port: the Payment Intents REST API, form-encoded, every
//! request with an `Idempotency-Key` derived from the payment (docs/adr/0008-stripe-adapter.md).
//!
//! An authorization is a PaymentIntent created and confirmed with `capture_method=manual`; capture, void
//! (cancel) and refund act on it. Stripe replays the first answer to a repeated key; on top of that, a capture
//! or void refused as a second attempt reads the intent back and succeeds when it is already in the wanted
//! state, and a refund first checks the charge, so a retried step is safe on servers that do not keep keys.
//!
//! Our payment-method tokens are the provider's test cards (API.md); a table maps each to the payment method
//! sent to Stripe (`STRIPE_PAYMENT_METHODS`). `pm_card_slow` and `pm_card_flaky` have no Stripe equivalent:
//! unless mapped, they are declined.

use std::collections::HashMap;
use std::time::Duration;

use domain::ports::{GatewayError, PaymentGateway};
use domain::{Money, PaymentMethod};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

#[derive(Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com`, or a local server speaking the same API.
    pub api_url: String,
    pub secret_key: String,
    /// Our token → the payment method sent to Stripe, as `ours=theirs,...`.
    pub payment_methods: String,
}

/// The secret key is never printed.
impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_url", &self.api_url)
            .field("secret_key", &"[redacted]")
            .field("payment_methods", &self.payment_methods)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("STRIPE_PAYMENT_METHODS: {0:?} is not `our_token=stripe_payment_method`")]
pub struct BadMapping(String);

pub struct StripeGateway {
    client: reqwest::Client,
    api_url: String,
    secret_key: String,
    payment_methods: HashMap<String, String>,
}

/// The fields of a PaymentIntent this adapter reads.
#[derive(Debug, Deserialize)]
struct Intent {
    id: String,
    status: String,
    #[serde(default)]
    last_payment_error: Option<StripeError>,
    /// An id, or the charge itself when expanded.
    #[serde(default)]
    latest_charge: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct StripeError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl StripeError {
    fn reason(&self, fallback: &str) -> String {
        self.decline_code
            .clone()
            .or_else(|| self.code.clone())
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| fallback.to_owned())
    }
}

/// What Stripe answered, classified.
enum Answer {
    Ok(Value),
    /// 402: the card refused.
    Declined(StripeError),
    /// Another 4xx: the request cannot succeed as sent.
    Refused(StatusCode, StripeError),
}

impl StripeGateway {
    pub fn new(config: StripeConfig) -> Result<Self, BadMapping> {
        let payment_methods = config
            .payment_methods
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((ours, theirs)) if !ours.trim().is_empty() && !theirs.trim().is_empty() => {
                    Ok((ours.trim().to_owned(), theirs.trim().to_owned()))
                }
                _ => Err(BadMapping(pair.to_owned())),
            })
            .collect::<Result<_, _>>()?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            // Well inside the saga's payment deadline, so a hung call is retried, not waited out.
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a TLS backend is compiled in");
        Ok(Self {
            client,
            api_url: config.api_url.trim_end_matches('/').to_owned(),
            secret_key: config.secret_key,
            payment_methods,
        })
    }

    /// Sends one request; transport failures, 409 (a concurrent request with the same key), 429, 5xx and
    /// authentication failures (our configuration, not the card) are transient.
    async fn send(
        &self,
        method: Method,
        path: &str,
        idempotency_key: Option<&str>,
        form: &[(&str, &str)],
    ) -> Result<Answer, GatewayError> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.api_url))
            .bearer_auth(&self.secret_key);
        if method == Method::POST {
            request = request.form(form);
        } else {
            request = request.query(form);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| GatewayError::Transient(format!("stripe unreachable: {e}")))?;
        let status = response.status();
        let should_retry = response
            .headers()
            .get("stripe-should-retry")
            .and_then(|v| v.to_str().ok())
            .map(|v| v == "true");
        let body = response
            .bytes()
            .await
            .map_err(|e| GatewayError::Transient(format!("stripe answer cut short: {e}")))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map(Answer::Ok).map_err(|e| {
                GatewayError::Transient(format!("stripe answered {status} with no JSON: {e}"))
            });
        }
        let error = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| serde_json::from_value::<StripeError>(v["error"].clone()).ok())
            .unwrap_or_default();
        let transient = should_retry.unwrap_or(
            status.is_server_error()
                || matches!(
                    status,
                    StatusCode::CONFLICT
                        | StatusCode::TOO_MANY_REQUESTS
                        | StatusCode::UNAUTHORIZED
                        | StatusCode::FORBIDDEN
                ),
        );
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            tracing::error!(%status, "stripe refused the secret key: check STRIPE_SECRET_KEY");
        }
        if transient {
            return Err(GatewayError::Transient(format!(
                "stripe answered {status}: {}",
                error.reason("no reason given")
            )));
        }
        Ok(match status {
            StatusCode::PAYMENT_REQUIRED => Answer::Declined(error),
            _ => Answer::Refused(status, error),
        })
    }

    async fn intent(&self, reference: &str, expand_charge: bool) -> Result<Intent, GatewayError> {
        let form: &[(&str, &str)] = if expand_charge {
            &[("expand[]", "latest_charge")]
        } else {
            &[]
        };
        let path = format!("/v1/payment_intents/{reference}");
        match self.send(Method::GET, &path, None, form).await? {
            Answer::Ok(body) => parse_intent(body),
            Answer::Declined(e) | Answer::Refused(_, e) => Err(GatewayError::Declined(
                e.reason("the payment intent cannot be read"),
            )),
        }
    }

    /// Moves an intent to `wanted` with `action` (`capture`, `cancel`). When Stripe refuses, the intent is
    /// read back: an earlier attempt that already got it there counts as success.
    async fn settle(
        &self,
        key: &str,
        reference: &str,
        action: &str,
        wanted: &str,
    ) -> Result<(), GatewayError> {
        let path = format!("/v1/payment_intents/{reference}/{action}");
        let refused = match self.send(Method::POST, &path, Some(key), &[]).await? {
            Answer::Ok(body) => {
                let intent = parse_intent(body)?;
                if intent.status == wanted {
                    return Ok(());
                }
                StripeError {
                    message: Some(format!("the intent is {} after {action}", intent.status)),
                    ..StripeError::default()
                }
            }
            Answer::Declined(e) | Answer::Refused(_, e) => e,
        };
        let intent = self.intent(reference, false).await?;
        if intent.status == wanted {
            Ok(())
        } else {
            Err(GatewayError::Declined(refused.reason(&format!(
                "cannot {action} a payment that is {}",
                intent.status
            ))))
        }
    }
}

fn parse_intent(body: Value) -> Result<Intent, GatewayError> {
    serde_json::from_value(body)
        .map_err(|e| GatewayError::Transient(format!("stripe answered an unreadable intent: {e}")))
}

/// Whether the intent's charge (expanded) has been refunded in full.
fn refunded(intent: &Intent) -> bool {
    intent.latest_charge.as_ref().is_some_and(|charge| {
        charge["refunded"] == true
            || charge["amount_refunded"]
                .as_i64()
                .zip(charge["amount"].as_i64())
                .is_some_and(|(refunded, amount)| amount > 0 && refunded >= amount)
    })
}

impl PaymentGateway for StripeGateway {
    async fn authorize(
        &self,
        key: &str,
        amount: Money,
        method: &PaymentMethod,
    ) -> Result<String, GatewayError> {
        let Some(stripe_method) = self.payment_methods.get(method.as_str()) else {
            return Err(GatewayError::Declined(format!(
                "payment method {} is not available with stripe",
                method.as_str()
            )));
        };
        let minor_units = amount.amount().to_string();
        let currency = amount.currency().as_str().to_lowercase();
        let form = [
            ("amount", minor_units.as_str()),
            ("currency", currency.as_str()),
            ("payment_method", stripe_method.as_str()),
            ("payment_method_types[]", "card"),
            ("capture_method", "manual"),
            ("confirm", "true"),
            ("metadata[payment_key]", key),
        ];
        let intent = match self
            .send(Method::POST, "/v1/payment_intents", Some(key), &form)
            .await?
        {
            Answer::Ok(body) => parse_intent(body)?,
            Answer::Declined(e) => return Err(GatewayError::Declined(e.reason("card_declined"))),
            Answer::Refused(status, e) => {
                return Err(GatewayError::Declined(
                    e.reason(&format!("stripe refused the payment ({status})")),
                ));
            }
        };
        match intent.status.as_str() {
            "requires_capture" | "succeeded" => Ok(intent.id),
            "requires_payment_method" => Err(GatewayError::Declined(
                intent
                    .last_payment_error
                    .unwrap_or_default()
                    .reason("card_declined"),
            )),
            "processing" => Err(GatewayError::Transient("stripe is processing".to_owned())),
            other => {
                // requires_action (3-D Secure) and the like: the shop has no way to ask the customer, so
                // the hold is let go and the payment declined.
                if let Err(error) = self
                    .settle(&format!("{key}:abandon"), &intent.id, "cancel", "canceled")
                    .await
                {
                    tracing::warn!(%error, intent = %intent.id, "could not cancel an unusable intent");
                }
                Err(GatewayError::Declined(match other {
                    "requires_action" => "authentication_required".to_owned(),
                    other => format!("payment intent is {other}"),
                }))
            }
        }
    }

    async fn capture(&self, key: &str, reference: &str) -> Result<(), GatewayError> {
        self.settle(key, reference, "capture", "succeeded").await
    }

    async fn void(&self, key: &str, reference: &str) -> Result<(), GatewayError> {
        self.settle(key, reference, "cancel", "canceled").await
    }

    async fn refund(&self, key: &str, reference: &str) -> Result<(), GatewayError> {
        if refunded(&self.intent(reference, true).await?) {
            return Ok(());
        }
        let form = [("payment_intent", reference)];
        match self
            .send(Method::POST, "/v1/refunds", Some(key), &form)
            .await?
        {
            Answer::Ok(refund) => match refund["status"].as_str() {
                Some("succeeded" | "pending") => Ok(()),
                other => Err(GatewayError::Declined(format!(
                    "refund is {}",
                    other.unwrap_or("unknown")
                ))),
            },
            Answer::Refused(_, e) if e.code.as_deref() == Some("charge_already_refunded") => Ok(()),
            Answer::Declined(e) | Answer::Refused(_, e) => {
                Err(GatewayError::Declined(e.reason("refund refused")))
            }
        }
    }

    fn supports(&self, method: &PaymentMethod) -> bool {
        self.payment_methods.contains_key(method.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_key_is_never_printed() {
        let printed = format!("{:?}", config("pm_card_visa=pm_card_visa"));
        assert!(!printed.contains("sk_test_x"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    fn config(methods: &str) -> StripeConfig {
        StripeConfig {
            api_url: "http://127.0.0.1:1/".to_owned(),
            secret_key: "sk_test_x".to_owned(),
            payment_methods: methods.to_owned(),
        }
    }

    const TABLE: &str = "pm_card_visa=pm_card_visa,pm_card_mastercard=pm_card_mastercard,\
        pm_card_declined=pm_card_chargeDeclined,\
        pm_card_insufficient_funds=pm_card_chargeDeclinedInsufficientFunds";

    #[test]
    fn the_table_maps_our_tokens() {
        let gateway = StripeGateway::new(config(TABLE)).unwrap();
        for token in [
            "pm_card_visa",
            "pm_card_mastercard",
            "pm_card_declined",
            "pm_card_insufficient_funds",
        ] {
            assert!(
                gateway.supports(&PaymentMethod::parse(token).unwrap()),
                "{token}"
            );
        }
        assert!(!gateway.supports(&PaymentMethod::parse("pm_card_slow").unwrap()));
        assert_eq!(
            gateway.payment_methods["pm_card_declined"],
            "pm_card_chargeDeclined"
        );
    }

    #[test]
    fn a_malformed_table_is_refused() {
        assert!(StripeGateway::new(config("pm_card_visa")).is_err());
        assert!(StripeGateway::new(config("pm_card_visa=")).is_err());
    }

    #[test]
    fn a_decline_reason_prefers_the_decline_code() {
        let error = StripeError {
            code: Some("card_declined".into()),
            decline_code: Some("insufficient_funds".into()),
            message: None,
        };
        assert_eq!(error.reason("x"), "insufficient_funds");
        assert_eq!(StripeError::default().reason("x"), "x");
    }

    #[tokio::test]
    async fn an_unreachable_stripe_is_transient() {
        let gateway = StripeGateway::new(config(TABLE)).unwrap();
        let method = PaymentMethod::parse("pm_card_visa").unwrap();
        let amount = Money::new(100, domain::Currency::EUR).unwrap();
        assert!(matches!(
            gateway.authorize("k:authorize", amount, &method).await,
            Err(GatewayError::Transient(_))
        ));
        assert!(matches!(
            gateway.capture("k:capture", "pi_x").await,
            Err(GatewayError::Transient(_))
        ));
    }
}
