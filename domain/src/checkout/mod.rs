//! The checkout saga's own state (aggregate type `checkout`, id = the order id): which step an order's
//! checkout has reached, event-sourced so that the whole process appears in the audit log. The saga decides
//! its next command from this state and the event it is handling.

mod aggregate;
mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Checkout, CheckoutState};
pub use commands::{CheckoutCommand, ReservedLine};
pub use error::CheckoutError;
pub use events::CheckoutEvent;
