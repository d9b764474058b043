//! A product's pictures: what an image event records of the files made at upload.
//!
//! The files themselves live in a media store under content-addressed keys; the events carry the keys and
//! the sizes, so that views can describe an image without opening its files.

use serde::{Deserialize, Serialize};

use crate::ImageId;
use crate::values::text;

use super::ProductError;

/// Alt text describes the image to those who cannot see it: 1 to 250 characters.
pub const MAX_ALT_CHARS: usize = 250;
/// Images one product can hold.
pub const MAX_IMAGES: usize = 20;

/// One uploaded image: the original as it was sent, and the resized copies made from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductImage {
    pub image_id: ImageId,
    /// The original's key in the media store.
    pub key: String,
    /// The original's size in bytes.
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub alt: String,
    /// Resized copies, narrowest first.
    pub variants: Vec<ImageVariant>,
}

/// A resized copy of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageVariant {
    pub key: String,
    pub width: u32,
    pub height: u32,
}

impl ProductImage {
    /// The copy a page shows by default: the widest variant, else the original.
    pub fn display(&self) -> ImageVariant {
        self.variants.last().cloned().unwrap_or(ImageVariant {
            key: self.key.clone(),
            width: self.width,
            height: self.height,
        })
    }

    /// Every media key this image's files are stored under.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key.as_str()).chain(self.variants.iter().map(|v| v.key.as_str()))
    }
}

/// Alt text, trimmed, or why it is refused.
pub fn valid_alt(raw: &str) -> Result<String, ProductError> {
    text::required(raw, MAX_ALT_CHARS).map_err(|_| ProductError::InvalidAlt)
}
