//! The shop's business rules, free of I/O.
//!
//! Eight event-sourced aggregates (for cqrs-es 0.5) decide what happens to users, products,
//! carts, orders, payments and discount codes, record the checkout saga's progress, and record each
//! notification sent; the value types they are built from cannot hold invalid data.
//! Nothing in here reads a clock, draws random numbers or talks to a network: "now" and every
//! id arrive in the commands, so the same events always come out of the same inputs.
//!
//! # Layout
//!
//! - [`values`]: `Money`, `Currency`, `Quantity`, `Email`, `Sku`, the ids, `Address`,
//!   `PasswordHash`, `PaymentMethod`, `Role`, and `ValueError` for refused input.
//! - [`user`]: registering accounts, renaming, changing passwords.
//! - [`product`]: catalog details and stock, including reservations held for orders.
//! - [`promotion`]: discount codes, their limits and redemptions, and what a code takes off a cart's lines
//!   in exact minor units.
//! - [`cart`]: one cart per user (its aggregate id is the user id), checked out into an order.
//! - [`notification`]: a record of each message sent, so it is sent once.
//! - [`order`]: the order lifecycle from placing to delivery or cancellation.
//! - [`checkout`]: the checkout saga's own state, one per order.
//! - [`ports`]: the payment gateway as a trait, for the saga's adapters.
//! - [`problem`]: `ProblemCode`, every machine code a refusal is answered with, the rules' and the HTTP
//!   layers' (one list, docs/adr/0018).
//! - [`payment`]: one payment per order (`PaymentId::for_order`), from start through authorization to
//!   capture and refund, or to a decline or a void.
//!
//! Each aggregate folder holds `commands.rs`, `events.rs`, `aggregate.rs` (state, `handle`,
//! `apply`), `error.rs` (one enum naming the broken rules) and `tests.rs` (given/when/then);
//! `notification`, with one command and one event, keeps all but its tests in `aggregate.rs`.
//! Every error enum implements [`RuleViolation`], which tells an HTTP layer how to answer.

pub mod cart;
pub mod checkout;
pub mod notification;
pub mod order;
pub mod payment;
pub mod ports;
pub mod problem;
pub mod product;
pub mod promotion;
pub mod user;
pub mod values;

pub use problem::ProblemCode;
pub use values::*;

/// How an HTTP layer should classify a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The aggregate (or the thing inside it the command names) does not exist.
    NotFound,
    /// The command clashes with something that already happened, e.g. registering twice.
    Conflict,
    /// The command breaks a business rule.
    Rule,
}

/// A refused command or value: a stable machine code plus a classification.
pub trait RuleViolation: std::error::Error {
    /// The machine code, e.g. [`ProblemCode::OutOfStock`] (`out_of_stock` on the wire).
    fn code(&self) -> ProblemCode;

    fn refusal(&self) -> Refusal {
        Refusal::Rule
    }
}
