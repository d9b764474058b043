//! Value types: small, validated, immutable pieces of data that commands and events are made of.
//!
//! Each type is built through a parsing constructor and re-validates on deserialize, so an invalid
//! value can neither be constructed in code nor smuggled in through JSON.

mod address;
mod currency;
mod email;
mod error;
mod ids;
mod money;
mod password;
mod payment_method;
mod quantity;
mod role;
mod sku;
pub(crate) mod text;

pub use address::Address;
pub use currency::Currency;
pub use email::Email;
pub use error::ValueError;
pub use ids::{ImageId, OrderId, PaymentId, ProductId, PromotionId, UserId};
pub use money::Money;
pub use password::PasswordHash;
pub use payment_method::PaymentMethod;
pub use quantity::Quantity;
pub use role::{Role, UnknownRole};
pub use sku::Sku;
