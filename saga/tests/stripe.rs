//! The Stripe adapter against localstripe (scripts/services.sh starts it on 127.0.0.1:8420), a local server
//! of Stripe's Payment Intents API. Every test uses its own payment keys, so they run side by side.

use domain::ports::{GatewayError, PaymentGateway};
use domain::{Currency, Money, PaymentMethod};
use saga::stripe::{StripeConfig, StripeGateway};
use serde_json::Value;
use uuid::Uuid;

const API: &str = "http://127.0.0.1:8420";
const KEY: &str = "sk_test_shop";
/// localstripe knows fewer test payment methods than Stripe: its declining one stands in for both declines.
const LOCALSTRIPE_METHODS: &str = "pm_card_visa=pm_card_visa,pm_card_mastercard=pm_card_visa,\
    pm_card_declined=pm_card_chargeCustomerFail,pm_card_insufficient_funds=pm_card_chargeCustomerFail";

fn gateway() -> StripeGateway {
    StripeGateway::new(StripeConfig {
        api_url: API.to_owned(),
        secret_key: KEY.to_owned(),
        payment_methods: LOCALSTRIPE_METHODS.to_owned(),
    })
    .unwrap()
}

fn card(token: &str) -> PaymentMethod {
    PaymentMethod::parse(token).unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR).unwrap()
}

fn payment_key() -> String {
    Uuid::now_v7().to_string()
}

/// What Stripe itself says, read over its API.
async fn stripe_get(path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{API}{path}"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn refunds_of(intent: &str) -> usize {
    stripe_get(&format!("/v1/refunds?payment_intent={intent}&limit=100")).await["data"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn an_authorized_payment_is_captured_once_and_refunded_once() {
    let gateway = gateway();
    let key = payment_key();
    let intent = gateway
        .authorize(
            &format!("{key}:authorize"),
            eur(2599),
            &card("pm_card_visa"),
        )
        .await
        .unwrap();
    let held = stripe_get(&format!("/v1/payment_intents/{intent}")).await;
    assert_eq!(held["status"], "requires_capture");
    assert_eq!(held["amount"], 2599);
    assert_eq!(held["currency"], "eur");
    assert_eq!(held["metadata"]["payment_key"], format!("{key}:authorize"));

    // A retried capture (the saga redelivered) succeeds and changes nothing.
    for _ in 0..2 {
        gateway
            .capture(&format!("{key}:capture"), &intent)
            .await
            .unwrap();
    }
    assert_eq!(
        stripe_get(&format!("/v1/payment_intents/{intent}")).await["status"],
        "succeeded"
    );

    for _ in 0..2 {
        gateway
            .refund(&format!("{key}:refund"), &intent)
            .await
            .unwrap();
    }
    assert_eq!(refunds_of(&intent).await, 1, "refunded exactly once");
}

#[tokio::test]
async fn a_void_releases_the_hold_and_can_be_repeated() {
    let gateway = gateway();
    let key = payment_key();
    let intent = gateway
        .authorize(
            &format!("{key}:authorize"),
            eur(500),
            &card("pm_card_mastercard"),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        gateway.void(&format!("{key}:void"), &intent).await.unwrap();
    }
    assert_eq!(
        stripe_get(&format!("/v1/payment_intents/{intent}")).await["status"],
        "canceled"
    );
    // A voided payment cannot be captured afterwards.
    assert!(matches!(
        gateway.capture(&format!("{key}:capture"), &intent).await,
        Err(GatewayError::Declined(_))
    ));
}

#[tokio::test]
async fn declining_cards_are_declined_not_retried() {
    let gateway = gateway();
    for token in ["pm_card_declined", "pm_card_insufficient_funds"] {
        let answer = gateway
            .authorize(
                &format!("{}:authorize", payment_key()),
                eur(700),
                &card(token),
            )
            .await;
        assert!(
            matches!(&answer, Err(GatewayError::Declined(reason)) if !reason.is_empty()),
            "{token}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn a_card_stripe_cannot_simulate_is_declined() {
    let answer = gateway()
        .authorize(
            &format!("{}:authorize", payment_key()),
            eur(700),
            &card("pm_card_slow"),
        )
        .await;
    assert!(
        matches!(answer, Err(GatewayError::Declined(_))),
        "{answer:?}"
    );
}

#[tokio::test]
async fn an_unknown_payment_is_declined_and_a_wrong_key_is_transient() {
    assert!(matches!(
        gateway().capture("k:capture", "pi_does_not_exist").await,
        Err(GatewayError::Declined(_))
    ));
    let wrong_key = StripeGateway::new(StripeConfig {
        api_url: API.to_owned(),
        secret_key: "pk_not_a_secret".to_owned(),
        payment_methods: LOCALSTRIPE_METHODS.to_owned(),
    })
    .unwrap();
    let answer = wrong_key
        .authorize("k:authorize", eur(100), &card("pm_card_visa"))
        .await;
    assert!(
        matches!(answer, Err(GatewayError::Transient(_))),
        "{answer:?}"
    );
}
