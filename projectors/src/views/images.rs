//! A product's images as views show them: `/media/` URLs, never the media store's own addresses (a private
//! bucket's would need presigned URLs, which expire). Shared by the catalog and the product details.

use chrono::{DateTime, Utc};
use domain::product::{ImageVariant, ProductEvent, ProductImage};
use serde::{Deserialize, Serialize};

/// Where the shop serves the media store's files.
pub const MEDIA_PATH: &str = "/media/";

/// The URL the shop serves a media key at.
pub fn media_url(key: &str) -> String {
    format!("{MEDIA_PATH}{key}")
}

/// One image: `url`, `width` and `height` are its widest variant's; `variants` are narrowest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownImage {
    pub id: String,
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
    pub variants: Vec<ShownVariant>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownVariant {
    pub url: String,
    pub width: u32,
    pub height: u32,
}

impl From<&ImageVariant> for ShownVariant {
    fn from(v: &ImageVariant) -> Self {
        Self {
            url: media_url(&v.key),
            width: v.width,
            height: v.height,
        }
    }
}

impl From<&ProductImage> for ShownImage {
    fn from(image: &ProductImage) -> Self {
        let display = ShownVariant::from(&image.display());
        Self {
            id: image.image_id.to_string(),
            url: display.url,
            width: display.width,
            height: display.height,
            alt: image.alt.clone(),
            variants: image.variants.iter().map(ShownVariant::from).collect(),
        }
    }
}

/// Applies an image event to a product's images and answers when it happened; `None` for any other event.
pub(crate) fn update(images: &mut Vec<ShownImage>, event: &ProductEvent) -> Option<DateTime<Utc>> {
    match event {
        ProductEvent::ProductImageAdded { image, added_at } => {
            images.push(ShownImage::from(image));
            Some(*added_at)
        }
        ProductEvent::ProductImagesReordered {
            order,
            reordered_at,
        } => {
            let mut rest = std::mem::take(images);
            for id in order {
                let id = id.to_string();
                if let Some(at) = rest.iter().position(|i| i.id == id) {
                    images.push(rest.remove(at));
                }
            }
            images.append(&mut rest);
            Some(*reordered_at)
        }
        ProductEvent::ProductImageRemoved {
            image_id,
            removed_at,
        } => {
            let id = image_id.to_string();
            images.retain(|i| i.id != id);
            Some(*removed_at)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use domain::ImageId;
    use uuid::Uuid;

    use super::*;

    fn image(n: u128) -> ProductImage {
        ProductImage {
            image_id: ImageId::new(Uuid::from_u128(n)),
            key: format!("{n:064x}/original.png"),
            size: 1000,
            width: 2000,
            height: 1000,
            alt: format!("image {n}"),
            variants: vec![
                ImageVariant {
                    key: format!("{n:064x}/320.jpg"),
                    width: 320,
                    height: 160,
                },
                ImageVariant {
                    key: format!("{n:064x}/960.jpg"),
                    width: 960,
                    height: 480,
                },
            ],
        }
    }

    fn added(n: u128) -> ProductEvent {
        ProductEvent::ProductImageAdded {
            image: image(n),
            added_at: Utc::now(),
        }
    }

    fn ids(images: &[ShownImage]) -> Vec<String> {
        images.iter().map(|i| i.id.clone()).collect()
    }

    #[test]
    fn an_image_is_shown_by_its_widest_variant_at_a_media_url() {
        let mut images = vec![];
        assert!(update(&mut images, &added(1)).is_some());
        let shown = &images[0];
        assert_eq!(shown.url, format!("/media/{:064x}/960.jpg", 1));
        assert_eq!((shown.width, shown.height), (960, 480));
        assert_eq!(shown.variants[0].width, 320);
        assert_eq!(shown.alt, "image 1");
    }

    #[test]
    fn reordering_and_removing_follow_the_events() {
        let mut images = vec![];
        for n in 1..=3 {
            update(&mut images, &added(n));
        }
        let order = [3, 1, 2].map(|n| ImageId::new(Uuid::from_u128(n))).to_vec();
        update(
            &mut images,
            &ProductEvent::ProductImagesReordered {
                order,
                reordered_at: Utc::now(),
            },
        );
        assert_eq!(
            ids(&images),
            [3, 1, 2].map(|n| Uuid::from_u128(n).to_string())
        );
        update(
            &mut images,
            &ProductEvent::ProductImageRemoved {
                image_id: ImageId::new(Uuid::from_u128(1)),
                removed_at: Utc::now(),
            },
        );
        assert_eq!(ids(&images), [3, 2].map(|n| Uuid::from_u128(n).to_string()));
    }

    #[test]
    fn other_events_leave_images_alone() {
        let mut images = vec![];
        let gone = ProductEvent::ProductDiscontinued {
            discontinued_at: Utc::now(),
        };
        assert!(update(&mut images, &gone).is_none());
        assert!(images.is_empty());
    }
}
