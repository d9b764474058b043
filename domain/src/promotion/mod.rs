//! Discount codes (aggregate type `promotion`, issue 16): [`discount`], what a code takes off a cart's lines in
//! exact minor units; and the promotion itself, its terms, its status and the redemptions held at checkout,
//! counted on confirmation and given back on cancellation, never more than its limits allow. A cart holds a
//! code ([`crate::cart::AppliedCode`]); an order placed with one records what it took off each line
//! ([`crate::order::OrderDiscount`]); docs/adr/0019 tells how the checkout and the saga use the promotion.

mod aggregate;
pub mod discount;
#[cfg(test)]
mod tests;

pub use aggregate::{
    Promotion, PromotionCommand, PromotionError, PromotionEvent, PromotionStatus, Terms,
    normalize_code,
};
