use std::fmt;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// A payment method token as issued by the gateway's client side (`pm_card_visa`).
///
/// Only the token's shape is checked here; which tokens a gateway supports is the gateway's call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentMethod(String);

impl PaymentMethod {
    const PREFIX: &'static str = "pm_";
    const MAX_BODY_LEN: usize = 60;

    /// Accepts exactly `^pm_[a-z0-9_]{1,60}$`; tokens are machine-made, so nothing is trimmed.
    pub fn parse(raw: &str) -> Result<PaymentMethod, ValueError> {
        let valid = raw.strip_prefix(Self::PREFIX).is_some_and(|body| {
            (1..=Self::MAX_BODY_LEN).contains(&body.len())
                && body
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
        if !valid {
            return Err(ValueError::InvalidPaymentMethod);
        }
        Ok(PaymentMethod(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PaymentMethod {
    type Error = ValueError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        PaymentMethod::parse(&value)
    }
}

impl From<PaymentMethod> for String {
    fn from(value: PaymentMethod) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_accept_gateway_tokens() {
        for raw in ["pm_card_visa", "pm_1", "pm_card_declined_42"] {
            assert_eq!(PaymentMethod::parse(raw).unwrap().as_str(), raw);
        }
        let longest = format!("pm_{}", "a".repeat(60));
        assert!(PaymentMethod::parse(&longest).is_ok());
    }

    #[test]
    fn it_should_refuse_anything_else() {
        let too_long = format!("pm_{}", "a".repeat(61));
        for raw in [
            "",
            "pm_",
            "card_visa",
            "PM_CARD",
            "pm_Card",
            "pm_card-visa",
            " pm_card",
            "pm_card visa",
            too_long.as_str(),
        ] {
            assert_eq!(
                PaymentMethod::parse(raw),
                Err(ValueError::InvalidPaymentMethod),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn it_should_round_trip_through_json_as_a_string() {
        let method = PaymentMethod::parse("pm_card_visa").unwrap();
        let json = serde_json::to_string(&method).unwrap();
        assert_eq!(json, "\"pm_card_visa\"");
        assert_eq!(
            serde_json::from_str::<PaymentMethod>(&json).unwrap(),
            method
        );
    }

    #[test]
    fn it_should_refuse_an_invalid_token_on_deserialize() {
        assert!(serde_json::from_str::<PaymentMethod>("\"visa\"").is_err());
    }
}
