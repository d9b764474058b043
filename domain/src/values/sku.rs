use std::fmt;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// A stock keeping unit code such as `MUG-BLUE-01`, stored upper-case so lookups ignore case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Sku, ValueError> {
        let trimmed = raw.trim();
        // Checked before upper-casing: `to_uppercase` would turn some non-ASCII letters into ASCII.
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if trimmed.is_empty() || trimmed.len() > Self::MAX_LEN || !trimmed.chars().all(allowed) {
            return Err(ValueError::InvalidSku);
        }
        Ok(Sku(trimmed.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Sku {
    type Error = ValueError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Sku::parse(&value)
    }
}

impl From<Sku> for String {
    fn from(value: Sku) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_trim_and_upper_case_a_sku() {
        assert_eq!(
            Sku::parse(" mug-blue_01.v2 ").unwrap().as_str(),
            "MUG-BLUE_01.V2"
        );
    }

    #[test]
    fn it_should_accept_sixty_four_characters() {
        assert!(Sku::parse(&"A".repeat(64)).is_ok());
    }

    #[test]
    fn it_should_refuse_invalid_skus() {
        let too_long = "A".repeat(65);
        for raw in [
            "",
            "   ",
            "MUG BLUE",
            "MUG/1",
            "ÄPFEL",
            "straße",
            too_long.as_str(),
        ] {
            assert_eq!(Sku::parse(raw), Err(ValueError::InvalidSku), "{raw:?}");
        }
    }

    #[test]
    fn it_should_round_trip_through_json_as_a_string() {
        let sku = Sku::parse("MUG-1").unwrap();
        let json = serde_json::to_string(&sku).unwrap();
        assert_eq!(json, "\"MUG-1\"");
        assert_eq!(serde_json::from_str::<Sku>(&json).unwrap(), sku);
    }

    #[test]
    fn it_should_refuse_an_invalid_sku_on_deserialize() {
        assert!(serde_json::from_str::<Sku>("\"MUG 1\"").is_err());
        assert!(serde_json::from_str::<Sku>("\"\"").is_err());
    }
}
