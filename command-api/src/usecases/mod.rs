//! The multi-step writes, apart from HTTP: each takes the bus and typed inputs and answers with what it did
//! or a typed error. The HTTP handlers parse a request, call one and map its outcome; `shop seed` and the
//! benchmarks call the same ones.
//!
//! - [`checkout`]: the caller's cart becomes a `pending` order at current prices, and the cart is emptied,
//!   in one unit, which also holds a redemption of the cart's discount code.
//! - [`registration`]: a new account, its email claimed for it alone, in one unit.
//! - [`catalog`]: a product as a cart line or an order line sees it.
//! - [`images`]: an uploaded image checked, resized and stored, then `ProductImageAdded`.
//! - [`discount`]: a discount code applied to the caller's cart, checked against its promotion and the lines.

pub mod catalog;
pub mod checkout;
pub mod discount;
pub mod images;
pub mod registration;
