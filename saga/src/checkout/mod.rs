//! The checkout process manager. It reacts to `OrderPlaced` and `OrderCancelled` (and to payment deadlines)
//! and acts only by sending commands through the `CommandBus` and calling the payment provider. Its own
//! progress is the `checkout` aggregate, so the whole process is in the audit log.
//!
//! ```text
//! Started ──reserve every line──► StockReserved ──authorize, capture──► Paid ──commit, confirm──► Completed
//!    └── out of stock / declined / deadline / cancelled ──► Failed ──release, void/refund, cancel──► Compensated
//! ```
//!
//! - [`decide`]: what to do, as a pure function of the checkout, its payment and an input; tested like an
//!   aggregate.
//! - [`runner`]: [`CheckoutSaga`], which gathers the facts, performs the steps and feeds their answers back,
//!   and the timers that fire payment deadlines and lapsed reservations.

pub mod decide;
pub mod runner;
#[cfg(test)]
mod tests;

pub use decide::{DEADLINE_GRACE, Facts, Input, RESERVATION_TTL, Step, decide};
pub use runner::{CheckoutSaga, PAYMENT_DEADLINE, expire_reservations, run_timers};
