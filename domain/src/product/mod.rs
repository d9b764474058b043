//! Catalog data and stock (aggregate type `product`), including reservations held for orders.

mod aggregate;
mod commands;
mod error;
mod events;
mod images;
#[cfg(test)]
mod tests;

pub use aggregate::{
    MAX_CATEGORY_CHARS, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, Product, Reservation,
    ReservationState,
};
pub use commands::{ProductCommand, ReleaseReason};
pub use error::ProductError;
pub use events::ProductEvent;
pub use images::{ImageVariant, MAX_ALT_CHARS, MAX_IMAGES, ProductImage, valid_alt};
