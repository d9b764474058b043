use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a user may do: customers shop, admins also manage the catalog and orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is neither `customer` nor `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected customer or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            r if r.eq_ignore_ascii_case("customer") => Ok(Role::Customer),
            r if r.eq_ignore_ascii_case("admin") => Ok(Role::Admin),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_parse_role_names() {
        assert_eq!("customer".parse(), Ok(Role::Customer));
        assert_eq!("Admin".parse(), Ok(Role::Admin));
        assert_eq!("root".parse::<Role>(), Err(UnknownRole("root".to_owned())));
    }

    #[test]
    fn as_str_and_from_str_agree() {
        for role in [Role::Customer, Role::Admin] {
            assert_eq!(role.as_str().parse(), Ok(role));
        }
    }

    #[test]
    fn it_should_serialize_in_lower_case() {
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
        assert_eq!(
            serde_json::from_str::<Role>("\"customer\"").unwrap(),
            Role::Customer
        );
    }

    #[test]
    fn it_should_refuse_an_unknown_role_on_deserialize() {
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
        assert!(serde_json::from_str::<Role>("\"Admin\"").is_err());
    }
}
