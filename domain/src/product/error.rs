use super::{MAX_ALT_CHARS, MAX_CATEGORY_CHARS, MAX_DESCRIPTION_CHARS, MAX_IMAGES, MAX_NAME_CHARS};
use crate::{ProblemCode, Refusal, RuleViolation};

/// Why a product command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("no such product")]
    NotFound,
    #[error("a product with this id already exists")]
    AlreadyCreated,
    #[error("a product name must be 1 to {} characters", MAX_NAME_CHARS)]
    InvalidName,
    #[error(
        "a product description can be at most {} characters",
        MAX_DESCRIPTION_CHARS
    )]
    InvalidDescription,
    #[error("a product category must be 1 to {} characters", MAX_CATEGORY_CHARS)]
    InvalidCategory,
    #[error("nothing to update: give at least one of name, description, category or price")]
    NothingToUpdate,
    #[error("a product's price cannot change currency")]
    CurrencyChange,
    #[error("a stock adjustment of zero changes nothing")]
    ZeroAdjustment,
    #[error(
        "adjusting {on_hand} on hand by {delta} would leave less than the {reserved} reserved units"
    )]
    BelowReserved {
        on_hand: u32,
        reserved: u32,
        delta: i64,
    },
    #[error("stock on hand cannot exceed {max} units")]
    StockLimitExceeded { max: u32 },
    #[error("the product is already discontinued")]
    AlreadyDiscontinued,
    #[error("the product is discontinued")]
    Discontinued,
    #[error("only {available} available, {requested} requested")]
    OutOfStock { requested: u32, available: u32 },
    #[error("this order already has a different reservation of this product")]
    ReservationExists,
    #[error("the reservation was already released")]
    ReservationReleased,
    #[error("this order has no reservation of this product")]
    NoSuchReservation,
    #[error("the reservation has not expired yet")]
    NotExpired,
    #[error("alt text must be 1 to {} characters", MAX_ALT_CHARS)]
    InvalidAlt,
    #[error("a product holds at most {} images", MAX_IMAGES)]
    TooManyImages,
    #[error("the product has no such image")]
    ImageNotFound,
    #[error("the new order must name every image of the product exactly once")]
    InvalidImageOrder,
    #[error("an image with this id exists with other files")]
    ImageExists,
}

impl RuleViolation for ProductError {
    fn code(&self) -> ProblemCode {
        match self {
            ProductError::NotFound => ProblemCode::ProductNotFound,
            ProductError::AlreadyCreated => ProblemCode::AlreadyCreated,
            ProductError::InvalidName => ProblemCode::InvalidName,
            ProductError::InvalidDescription => ProblemCode::InvalidDescription,
            ProductError::InvalidCategory => ProblemCode::InvalidCategory,
            ProductError::NothingToUpdate => ProblemCode::NothingToUpdate,
            ProductError::CurrencyChange => ProblemCode::CurrencyChange,
            ProductError::ZeroAdjustment => ProblemCode::ZeroAdjustment,
            ProductError::BelowReserved { .. } => ProblemCode::BelowReserved,
            ProductError::StockLimitExceeded { .. } => ProblemCode::StockLimitExceeded,
            ProductError::AlreadyDiscontinued => ProblemCode::AlreadyDiscontinued,
            ProductError::Discontinued => ProblemCode::Discontinued,
            ProductError::OutOfStock { .. } => ProblemCode::OutOfStock,
            ProductError::ReservationExists => ProblemCode::ReservationExists,
            ProductError::ReservationReleased => ProblemCode::ReservationReleased,
            ProductError::NoSuchReservation => ProblemCode::ReservationNotFound,
            ProductError::NotExpired => ProblemCode::NotExpired,
            ProductError::InvalidAlt => ProblemCode::InvalidAlt,
            ProductError::TooManyImages => ProblemCode::TooManyImages,
            ProductError::ImageNotFound => ProblemCode::ImageNotFound,
            ProductError::InvalidImageOrder => ProblemCode::InvalidImageOrder,
            ProductError::ImageExists => ProblemCode::AlreadyCreated,
        }
    }

    fn refusal(&self) -> Refusal {
        match self {
            ProductError::NotFound
            | ProductError::NoSuchReservation
            | ProductError::ImageNotFound => Refusal::NotFound,
            ProductError::AlreadyCreated | ProductError::ImageExists => Refusal::Conflict,
            _ => Refusal::Rule,
        }
    }
}
