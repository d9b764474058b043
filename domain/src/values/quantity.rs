use std::fmt;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// How many units of one product: 1 to 99, the most a single cart or order line may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 99;

    /// Takes an `i64` so that negative or huge input from JSON or forms is refused, not wrapped.
    pub fn new(value: i64) -> Result<Quantity, ValueError> {
        match u32::try_from(value) {
            Ok(n) if (Self::MIN..=Self::MAX).contains(&n) => Ok(Quantity(n)),
            _ => Err(ValueError::InvalidQuantity(value)),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ValueError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Quantity::new(value)
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_accept_one_to_ninety_nine() {
        assert_eq!(Quantity::new(1).unwrap().get(), 1);
        assert_eq!(Quantity::new(99).unwrap().get(), 99);
    }

    #[test]
    fn it_should_refuse_zero_negative_and_more_than_ninety_nine() {
        for raw in [0, -1, 100, i64::MAX, i64::MIN] {
            assert_eq!(Quantity::new(raw), Err(ValueError::InvalidQuantity(raw)));
        }
    }

    #[test]
    fn it_should_serialize_as_a_number() {
        let quantity = Quantity::new(3).unwrap();
        assert_eq!(serde_json::to_string(&quantity).unwrap(), "3");
        assert_eq!(serde_json::from_str::<Quantity>("3").unwrap(), quantity);
    }

    #[test]
    fn it_should_refuse_an_out_of_range_number_on_deserialize() {
        for raw in ["0", "-2", "100", "1.5", "\"3\""] {
            assert!(serde_json::from_str::<Quantity>(raw).is_err(), "{raw}");
        }
    }
}
