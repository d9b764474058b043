use serde::{Deserialize, Serialize};

use super::{Currency, Quantity, ValueError};

/// A non-negative amount in the currency's minor unit (cents for EUR), so arithmetic is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawMoney")]
pub struct Money {
    /// Minor units; never negative, refunds are events rather than negative prices.
    amount: i64,
    currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Result<Money, ValueError> {
        if amount < 0 {
            return Err(ValueError::NegativeAmount);
        }
        Ok(Money { amount, currency })
    }

    pub fn zero(currency: Currency) -> Money {
        Money {
            amount: 0,
            currency,
        }
    }

    pub fn amount(&self) -> i64 {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount == 0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, ValueError> {
        if self.currency != other.currency {
            return Err(ValueError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(ValueError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    /// `self − other`; refused below zero (money here is never negative) or across currencies.
    pub fn checked_sub(self, other: Money) -> Result<Money, ValueError> {
        if self.currency != other.currency {
            return Err(ValueError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        Money::new(self.amount - other.amount, self.currency)
    }

    /// The price of `quantity` units at this unit price.
    pub fn times(self, quantity: Quantity) -> Result<Money, ValueError> {
        let amount = self
            .amount
            .checked_mul(i64::from(quantity.get()))
            .ok_or(ValueError::Overflow)?;
        Ok(Money { amount, ..self })
    }
}

/// The unchecked wire shape; deserializing goes through `Money::new` so negatives are refused.
#[derive(Deserialize)]
struct RawMoney {
    amount: i64,
    currency: Currency,
}

impl TryFrom<RawMoney> for Money {
    type Error = ValueError;

    fn try_from(raw: RawMoney) -> Result<Self, Self::Error> {
        Money::new(raw.amount, raw.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR).unwrap()
    }

    #[test]
    fn it_should_hold_an_amount_and_a_currency() {
        let money = eur(1999);
        assert_eq!(money.amount(), 1999);
        assert_eq!(money.currency(), Currency::EUR);
    }

    #[test]
    fn it_should_refuse_a_negative_amount() {
        assert_eq!(
            Money::new(-1, Currency::EUR),
            Err(ValueError::NegativeAmount)
        );
    }

    #[test]
    fn zero_is_zero() {
        assert!(Money::zero(Currency::USD).is_zero());
        assert_eq!(Money::zero(Currency::USD).amount(), 0);
    }

    #[test]
    fn it_should_add_amounts_in_the_same_currency() {
        assert_eq!(eur(150).checked_add(eur(250)), Ok(eur(400)));
    }

    #[test]
    fn it_should_refuse_to_add_different_currencies() {
        let dollars = Money::new(1, Currency::USD).unwrap();
        assert_eq!(
            eur(1).checked_add(dollars),
            Err(ValueError::CurrencyMismatch {
                left: Currency::EUR,
                right: Currency::USD
            })
        );
    }

    #[test]
    fn it_should_refuse_an_addition_that_overflows() {
        assert_eq!(eur(i64::MAX).checked_add(eur(1)), Err(ValueError::Overflow));
    }

    #[test]
    fn it_should_multiply_by_a_quantity() {
        assert_eq!(eur(1999).times(Quantity::new(3).unwrap()), Ok(eur(5997)));
    }

    #[test]
    fn it_should_refuse_a_multiplication_that_overflows() {
        assert_eq!(
            eur(i64::MAX / 2).times(Quantity::new(3).unwrap()),
            Err(ValueError::Overflow)
        );
    }

    #[test]
    fn it_should_serialize_as_amount_and_currency() {
        let json = serde_json::to_value(eur(1999)).unwrap();
        assert_eq!(json, serde_json::json!({"amount": 1999, "currency": "EUR"}));
        assert_eq!(serde_json::from_value::<Money>(json).unwrap(), eur(1999));
    }

    #[test]
    fn it_should_refuse_invalid_money_on_deserialize() {
        for json in [
            serde_json::json!({"amount": -5, "currency": "EUR"}),
            serde_json::json!({"amount": 5, "currency": "EURO"}),
            serde_json::json!({"amount": 5}),
            serde_json::json!({"amount": "5", "currency": "EUR"}),
        ] {
            assert!(
                serde_json::from_value::<Money>(json.clone()).is_err(),
                "{json}"
            );
        }
    }
}
