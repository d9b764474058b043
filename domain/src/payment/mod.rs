//! Payments (aggregate type `payment`): one per order, with id `PaymentId::for_order(order_id)`.

mod aggregate;
mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Payment, PaymentStatus};
pub use commands::PaymentCommand;
pub use error::PaymentError;
pub use events::PaymentEvent;
