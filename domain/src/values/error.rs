use super::Currency;
use crate::{ProblemCode, RuleViolation};

/// Why a raw input could not become a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{0:?} is not a currency code: expected three letters such as EUR")]
    InvalidCurrency(String),
    #[error("an amount of money cannot be negative")]
    NegativeAmount,
    #[error("cannot combine an amount in {left} with an amount in {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("quantity {0} is out of range: expected 1 to 99")]
    InvalidQuantity(i64),
    #[error("not a valid email address")]
    InvalidEmail,
    #[error("a SKU is 1 to 64 characters of A-Z, 0-9, '-', '_' and '.'")]
    InvalidSku,
    #[error("a name cannot be empty")]
    EmptyName,
    #[error("{field} can be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("address {field} {reason}")]
    InvalidAddress {
        field: &'static str,
        reason: &'static str,
    },
    #[error("not a valid payment method token: expected pm_ followed by 1 to 60 of a-z, 0-9, '_'")]
    InvalidPaymentMethod,
    #[error("the amount is too large to represent")]
    Overflow,
}

impl RuleViolation for ValueError {
    fn code(&self) -> ProblemCode {
        match self {
            ValueError::InvalidCurrency(_) => ProblemCode::InvalidCurrency,
            ValueError::NegativeAmount => ProblemCode::NegativeAmount,
            ValueError::CurrencyMismatch { .. } => ProblemCode::CurrencyMismatch,
            ValueError::InvalidQuantity(_) => ProblemCode::InvalidQuantity,
            ValueError::InvalidEmail => ProblemCode::InvalidEmail,
            ValueError::InvalidSku => ProblemCode::InvalidSku,
            ValueError::EmptyName => ProblemCode::EmptyName,
            ValueError::TooLong { .. } => ProblemCode::TooLong,
            ValueError::InvalidAddress { .. } => ProblemCode::InvalidAddress,
            ValueError::InvalidPaymentMethod => ProblemCode::InvalidPaymentMethod,
            ValueError::Overflow => ProblemCode::Overflow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Refusal;

    #[test]
    fn every_value_error_is_a_rule_refusal_with_a_snake_case_code() {
        let errors = [
            ValueError::InvalidCurrency("EU".into()),
            ValueError::NegativeAmount,
            ValueError::CurrencyMismatch {
                left: Currency::EUR,
                right: Currency::USD,
            },
            ValueError::InvalidQuantity(0),
            ValueError::InvalidEmail,
            ValueError::InvalidSku,
            ValueError::EmptyName,
            ValueError::TooLong {
                field: "name",
                max: 200,
            },
            ValueError::InvalidAddress {
                field: "city",
                reason: "must not be empty",
            },
            ValueError::InvalidPaymentMethod,
            ValueError::Overflow,
        ];
        for error in errors {
            assert_eq!(error.refusal(), Refusal::Rule);
            assert!(
                error
                    .code()
                    .as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                error.code()
            );
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn a_currency_mismatch_names_both_currencies() {
        let error = ValueError::CurrencyMismatch {
            left: Currency::EUR,
            right: Currency::USD,
        };
        assert_eq!(
            error.to_string(),
            "cannot combine an amount in EUR with an amount in USD"
        );
    }
}
