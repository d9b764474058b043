use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// A currency code in ISO 4217 shape: three upper-case ASCII letters such as `EUR`.
///
/// Stored as three bytes rather than a `String` so that it, and therefore `Money`, is `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");
    pub const USD: Currency = Currency(*b"USD");
    pub const GBP: Currency = Currency(*b"GBP");

    /// Accepts any letter case (`eur`) and stores the canonical upper-case form.
    pub fn parse(raw: &str) -> Result<Currency, ValueError> {
        match *raw.trim().as_bytes() {
            [a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => Ok(Currency([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(ValueError::InvalidCurrency(raw.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters get past `parse`, so the empty fallback is unreachable.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Currency").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = ValueError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_parse_an_upper_case_code() {
        assert_eq!(Currency::parse("EUR"), Ok(Currency::EUR));
    }

    #[test]
    fn it_should_store_a_lower_case_code_in_upper_case() {
        let currency = Currency::parse("usd").unwrap();
        assert_eq!(currency.as_str(), "USD");
        assert_eq!(currency.to_string(), "USD");
    }

    #[test]
    fn it_should_refuse_codes_that_are_not_three_letters() {
        for raw in ["", "EU", "EURO", "E1R", "€UR", "12 "] {
            assert_eq!(
                Currency::parse(raw),
                Err(ValueError::InvalidCurrency(raw.to_owned())),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn it_should_serialize_as_a_plain_string() {
        assert_eq!(serde_json::to_string(&Currency::GBP).unwrap(), "\"GBP\"");
        let back: Currency = serde_json::from_str("\"gbp\"").unwrap();
        assert_eq!(back, Currency::GBP);
    }

    #[test]
    fn it_should_refuse_an_invalid_code_on_deserialize() {
        assert!(serde_json::from_str::<Currency>("\"EURO\"").is_err());
        assert!(serde_json::from_str::<Currency>("42").is_err());
    }

    #[test]
    fn it_should_debug_print_the_code_not_the_bytes() {
        assert_eq!(format!("{:?}", Currency::EUR), "Currency(\"EUR\")");
    }
}
