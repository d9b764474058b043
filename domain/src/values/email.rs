use std::fmt;

use unicode_normalization::UnicodeNormalization;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// An email address, trimmed and lower-cased so that one mailbox has one spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The most an SMTP path allows (RFC 5321).
    pub const MAX_LEN: usize = 254;

    /// A shape check only; whether the mailbox exists is for a confirmation mail to find out. The address is
    /// normalised to NFC and lower-cased whole, so that one mailbox has one spelling. Only a bare address
    /// passes: display names, angle brackets, comments, quotes and routes (`x<victim@b.c>`, `a(b)@c.d`) are
    /// refused, so that what is stored is exactly where mail goes.
    pub fn parse(raw: &str) -> Result<Email, ValueError> {
        let email: String = raw.trim().nfc().collect::<String>().to_lowercase();
        if email
            .chars()
            .any(|c| c.is_control() || "<>()[]\\\",;:".contains(c))
        {
            return Err(ValueError::InvalidEmail);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(ValueError::InvalidEmail);
        };
        let well_formed = email.len() <= Self::MAX_LEN
            && !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty())
            && !email.chars().any(char::is_whitespace);
        if !well_formed {
            return Err(ValueError::InvalidEmail);
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = ValueError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_trim_and_lower_case_an_address() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
        assert_eq!(email.to_string(), "ada.lovelace@example.com");
    }

    #[test]
    fn it_should_normalise_to_nfc_so_one_mailbox_has_one_spelling() {
        let decomposed = Email::parse("Jose\u{301}@Example.com").unwrap();
        let composed = Email::parse("jos\u{e9}@example.com").unwrap();
        assert_eq!(decomposed, composed);
        assert_eq!(composed.as_str(), "jos\u{e9}@example.com");
    }

    #[test]
    fn it_should_refuse_malformed_addresses() {
        for raw in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "ada@exa@mple.com",
            "ada lovelace@example.com",
            "ada@exa mple.com",
            "ada@.example.com",
            "ada@example.com.",
            "ada@example..com",
            "x<victim@b.c>",
            "Ada <victim@b.c>",
            "ada(comment)@example.com",
            "\"ada\"@example.com",
            "ada@[127.0.0.1]",
            "ada@example.com,eve@example.com",
            "ada;eve@example.com",
            "@route:ada@example.com",
            "ada\u{0}@example.com",
        ] {
            assert_eq!(Email::parse(raw), Err(ValueError::InvalidEmail), "{raw:?}");
        }
    }

    #[test]
    fn it_should_refuse_an_address_longer_than_254_characters() {
        let domain = "@example.com";
        let at_limit = format!("{}{domain}", "a".repeat(Email::MAX_LEN - domain.len()));
        assert!(Email::parse(&at_limit).is_ok());
        let too_long = format!("a{at_limit}");
        assert_eq!(Email::parse(&too_long), Err(ValueError::InvalidEmail));
    }

    #[test]
    fn it_should_round_trip_through_json_as_a_string() {
        let email = Email::parse("ada@example.com").unwrap();
        let json = serde_json::to_string(&email).unwrap();
        assert_eq!(json, "\"ada@example.com\"");
        assert_eq!(serde_json::from_str::<Email>(&json).unwrap(), email);
    }

    #[test]
    fn it_should_refuse_an_invalid_address_on_deserialize() {
        assert!(serde_json::from_str::<Email>("\"not-an-email\"").is_err());
    }
}
