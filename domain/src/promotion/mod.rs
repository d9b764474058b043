//! Discount codes (issue 16). So far the money rules only: [`discount`], what a code takes off a cart's lines.
//! The promotion aggregate (codes, their limits and redemptions) and the cart's and order's use of it come
//! next.

pub mod discount;
