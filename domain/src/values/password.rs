use std::fmt;

use serde::{Deserialize, Serialize};

/// A password hash (e.g. an argon2 PHC string) computed outside the domain.
///
/// Opaque on purpose: the domain only stores and hands it back, and `Debug` never shows it,
/// so it cannot leak through logs of commands, events or state.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn new(hash: String) -> PasswordHash {
        PasswordHash(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_not_show_the_hash_in_debug_output() {
        let hash = PasswordHash::new("$argon2id$v=19$secret".to_owned());
        assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
        assert_eq!(hash.as_str(), "$argon2id$v=19$secret");
    }

    #[test]
    fn it_should_serialize_transparently() {
        let hash = PasswordHash::new("$argon2id$abc".to_owned());
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, "\"$argon2id$abc\"");
        assert_eq!(serde_json::from_str::<PasswordHash>(&json).unwrap(), hash);
    }

    #[test]
    fn it_should_refuse_a_non_string_on_deserialize() {
        assert!(serde_json::from_str::<PasswordHash>("7").is_err());
    }
}
