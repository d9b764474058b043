//! Shopping carts (aggregate type `cart`); a cart's aggregate id is its owner's `UserId`.

mod aggregate;
mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{AppliedCode, Cart, CartLine};
pub use commands::{CartCommand, ProductSnapshot};
pub use error::CartError;
pub use events::CartEvent;
