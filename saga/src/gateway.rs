//! The payment gateways: the simulated one (the default) and the choice made by configuration. The simulated
//! payment gateway: behaves like the provider's test cards (API.md, "Cart"). It remembers
//! every idempotency key it answered, so a retried call gets the first answer and charges nothing twice.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use domain::ports::{GatewayError, PaymentGateway, TEST_CARDS};
use domain::{Money, PaymentMethod};

use crate::stripe::StripeGateway;

#[derive(Debug, Default)]
pub struct SimulatedGateway {
    /// Idempotency key → the answer given, so repeats are answered the same.
    answers: Mutex<HashMap<String, Result<String, GatewayError>>>,
    /// How often a flaky card has failed, per idempotency key.
    flaky_failures: Mutex<HashMap<String, u32>>,
    /// How long `pm_card_slow` takes.
    slow: Duration,
}

impl SimulatedGateway {
    pub fn new() -> Self {
        Self {
            slow: Duration::from_secs(3),
            ..Self::default()
        }
    }

    /// Charges actually made (authorizations answered with success), for tests.
    pub fn authorizations(&self) -> usize {
        self.answers
            .lock()
            .map(|a| {
                a.iter()
                    .filter(|(k, v)| k.ends_with(":authorize") && v.is_ok())
                    .count()
            })
            .unwrap_or(0)
    }

    fn remembered(&self, key: &str) -> Option<Result<String, GatewayError>> {
        self.answers.lock().ok().and_then(|a| a.get(key).cloned())
    }

    fn remember(&self, key: &str, answer: &Result<String, GatewayError>) {
        // Transient failures are not answers: the next try decides afresh.
        if !matches!(answer, Err(GatewayError::Transient(_)))
            && let Ok(mut answers) = self.answers.lock()
        {
            answers.insert(key.to_owned(), answer.clone());
        }
    }

    fn settle(&self, key: &str) -> Result<(), GatewayError> {
        let answer = self.remembered(key).unwrap_or(Ok(format!("done_{key}")));
        self.remember(key, &answer);
        answer.map(|_| ())
    }
}

impl PaymentGateway for SimulatedGateway {
    async fn authorize(
        &self,
        key: &str,
        amount: Money,
        method: &PaymentMethod,
    ) -> Result<String, GatewayError> {
        if let Some(answer) = self.remembered(key) {
            return answer;
        }
        let answer = match method.as_str() {
            "pm_card_visa" | "pm_card_mastercard" => {
                Ok(format!("pi_sim_{key}_{}", amount.amount()))
            }
            "pm_card_declined" => Err(GatewayError::Declined("card_declined".to_owned())),
            "pm_card_insufficient_funds" => {
                Err(GatewayError::Declined("insufficient_funds".to_owned()))
            }
            "pm_card_slow" => {
                tokio::time::sleep(self.slow).await;
                Ok(format!("pi_sim_{key}_{}", amount.amount()))
            }
            "pm_card_flaky" => {
                let failures = {
                    let mut counts = self
                        .flaky_failures
                        .lock()
                        .map_err(|_| GatewayError::Transient("busy".into()))?;
                    let count = counts.entry(key.to_owned()).or_insert(0);
                    *count += 1;
                    *count
                };
                if failures <= 2 {
                    Err(GatewayError::Transient("processor unavailable".to_owned()))
                } else {
                    Ok(format!("pi_sim_{key}_{}", amount.amount()))
                }
            }
            other => Err(GatewayError::Declined(format!(
                "unknown payment method {other}"
            ))),
        };
        self.remember(key, &answer);
        answer
    }

    async fn capture(&self, key: &str, _reference: &str) -> Result<(), GatewayError> {
        self.settle(key)
    }

    async fn refund(&self, key: &str, _reference: &str) -> Result<(), GatewayError> {
        self.settle(key)
    }

    async fn void(&self, key: &str, _reference: &str) -> Result<(), GatewayError> {
        self.settle(key)
    }

    fn supports(&self, method: &PaymentMethod) -> bool {
        TEST_CARDS.contains(&method.as_str())
    }
}

/// The gateway the configuration chose (`PAYMENT_GATEWAY`), so the saga needs no second instantiation.
pub enum ConfiguredGateway {
    Simulated(SimulatedGateway),
    Stripe(StripeGateway),
}

impl PaymentGateway for ConfiguredGateway {
    async fn authorize(
        &self,
        key: &str,
        amount: Money,
        method: &PaymentMethod,
    ) -> Result<String, GatewayError> {
        match self {
            Self::Simulated(g) => g.authorize(key, amount, method).await,
            Self::Stripe(g) => g.authorize(key, amount, method).await,
        }
    }

    async fn capture(&self, key: &str, reference: &str) -> Result<(), GatewayError> {
        match self {
            Self::Simulated(g) => g.capture(key, reference).await,
            Self::Stripe(g) => g.capture(key, reference).await,
        }
    }

    async fn refund(&self, key: &str, reference: &str) -> Result<(), GatewayError> {
        match self {
            Self::Simulated(g) => g.refund(key, reference).await,
            Self::Stripe(g) => g.refund(key, reference).await,
        }
    }

    async fn void(&self, key: &str, reference: &str) -> Result<(), GatewayError> {
        match self {
            Self::Simulated(g) => g.void(key, reference).await,
            Self::Stripe(g) => g.void(key, reference).await,
        }
    }

    fn supports(&self, method: &PaymentMethod) -> bool {
        match self {
            Self::Simulated(g) => g.supports(method),
            Self::Stripe(g) => g.supports(method),
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::Currency;

    use super::*;

    fn eur() -> Money {
        Money::new(1000, Currency::parse("EUR").unwrap()).unwrap()
    }

    fn card(token: &str) -> PaymentMethod {
        PaymentMethod::parse(token).unwrap()
    }

    #[tokio::test]
    async fn test_cards_succeed_or_decline_as_the_provider_documents() {
        let gateway = SimulatedGateway::new();
        assert!(
            gateway
                .authorize("a:authorize", eur(), &card("pm_card_visa"))
                .await
                .is_ok()
        );
        assert!(matches!(
            gateway
                .authorize("b:authorize", eur(), &card("pm_card_declined"))
                .await,
            Err(GatewayError::Declined(_))
        ));
        assert!(matches!(
            gateway
                .authorize("c:authorize", eur(), &card("pm_card_insufficient_funds"))
                .await,
            Err(GatewayError::Declined(_))
        ));
    }

    #[tokio::test]
    async fn a_flaky_card_fails_twice_then_succeeds() {
        let gateway = SimulatedGateway::new();
        for _ in 0..2 {
            assert!(matches!(
                gateway
                    .authorize("f:authorize", eur(), &card("pm_card_flaky"))
                    .await,
                Err(GatewayError::Transient(_))
            ));
        }
        assert!(
            gateway
                .authorize("f:authorize", eur(), &card("pm_card_flaky"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_repeated_key_is_answered_the_same_and_charges_once() {
        let gateway = SimulatedGateway::new();
        let first = gateway
            .authorize("k:authorize", eur(), &card("pm_card_visa"))
            .await;
        let again = gateway
            .authorize("k:authorize", eur(), &card("pm_card_visa"))
            .await;
        assert_eq!(first, again);
        assert_eq!(gateway.authorizations(), 1);
    }
}
