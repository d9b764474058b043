use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares a `Uuid` newtype so that a `UserId` can never be passed where an `OrderId` is meant.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn new(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

uuid_id!(
    /// Identifies a user; also the aggregate id of that user's cart (one cart per user).
    UserId
);
uuid_id!(
    /// Identifies a product in the catalog.
    ProductId
);
uuid_id!(
    /// Identifies an order; chosen by the caller so a retried checkout reuses it.
    OrderId
);
uuid_id!(
    /// Identifies the payment of one order; see [`PaymentId::for_order`].
    PaymentId
);
uuid_id!(
    /// Identifies a promotion (a discount code); its code is claimed unique beside it.
    PromotionId
);

uuid_id!(
    /// Identifies one image of a product.
    ImageId
);

impl PaymentId {
    /// The payment id of an order is the order's own uuid.
    ///
    /// One order has exactly one payment, and deriving the id (instead of generating one) means
    /// a retried or duplicated "start payment" lands on the same aggregate and is refused there,
    /// rather than creating a second payment that could charge the customer twice.
    pub const fn for_order(order: OrderId) -> PaymentId {
        PaymentId(order.as_uuid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "0190a5b2-7c3e-7d4f-8a6b-1c2d3e4f5a6b";

    #[test]
    fn it_should_display_the_hyphenated_uuid() {
        let id: UserId = RAW.parse().unwrap();
        assert_eq!(id.to_string(), RAW);
    }

    #[test]
    fn it_should_refuse_to_parse_something_that_is_not_a_uuid() {
        assert!("not-a-uuid".parse::<OrderId>().is_err());
    }

    #[test]
    fn new_and_from_uuid_wrap_the_same_uuid() {
        let uuid = Uuid::parse_str(RAW).unwrap();
        assert_eq!(ProductId::new(uuid), ProductId::from_uuid(uuid));
        assert_eq!(ProductId::new(uuid).as_uuid(), uuid);
    }

    #[test]
    fn it_should_serialize_transparently_as_the_uuid_string() {
        let id: OrderId = RAW.parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{RAW}\""));
        assert_eq!(serde_json::from_str::<OrderId>(&json).unwrap(), id);
    }

    #[test]
    fn it_should_refuse_an_invalid_uuid_on_deserialize() {
        assert!(serde_json::from_str::<UserId>("\"42\"").is_err());
        assert!(serde_json::from_str::<UserId>("42").is_err());
    }

    #[test]
    fn the_payment_of_an_order_always_has_the_same_id() {
        let order: OrderId = RAW.parse().unwrap();
        assert_eq!(PaymentId::for_order(order), PaymentId::for_order(order));
        assert_eq!(PaymentId::for_order(order).as_uuid(), order.as_uuid());
    }
}
