//! Ports: what the domain needs from the outside world, as traits. Adapters live in the `saga` crate.

use std::future::Future;

use crate::{Money, PaymentMethod};

/// The payment provider's test cards, which the simulated gateway implements (API.md, "Cart").
pub const TEST_CARDS: [&str; 6] = [
    "pm_card_visa",
    "pm_card_mastercard",
    "pm_card_declined",
    "pm_card_insufficient_funds",
    "pm_card_slow",
    "pm_card_flaky",
];

/// Why a payment provider did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The card or account refused: final, do not retry.
    #[error("declined: {0}")]
    Declined(String),
    /// The provider could not answer now: safe to retry with the same idempotency key.
    #[error("temporarily unavailable: {0}")]
    Transient(String),
}

/// A payment provider. Every call carries an idempotency key derived from the payment, so a retried call
/// never charges, refunds or voids twice.
pub trait PaymentGateway: Send + Sync + 'static {
    /// Reserves `amount` on the payment method; returns the provider's reference.
    fn authorize(
        &self,
        idempotency_key: &str,
        amount: Money,
        method: &PaymentMethod,
    ) -> impl Future<Output = Result<String, GatewayError>> + Send;
    fn capture(
        &self,
        idempotency_key: &str,
        reference: &str,
    ) -> impl Future<Output = Result<(), GatewayError>> + Send;
    fn refund(
        &self,
        idempotency_key: &str,
        reference: &str,
    ) -> impl Future<Output = Result<(), GatewayError>> + Send;
    fn void(
        &self,
        idempotency_key: &str,
        reference: &str,
    ) -> impl Future<Output = Result<(), GatewayError>> + Send;
    /// Whether this provider knows the payment-method token (checked at checkout).
    fn supports(&self, method: &PaymentMethod) -> bool;
}
