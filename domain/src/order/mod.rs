//! Orders (aggregate type `order`): from placing through confirmation and shipping to delivery,
//! or cancellation.

mod aggregate;
mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{MAX_TRACKING_NUMBER_CHARS, Order, OrderStatus};
pub use commands::{CancellationReason, CodeAtCheckout, OrderCommand, OrderDiscount, OrderLine};
pub use error::OrderError;
pub use events::OrderEvent;
