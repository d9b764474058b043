//! A product image, from the uploaded bytes to its files and its event (docs/adr/0020).
//!
//! 1. [`prepare`] checks the bytes (JPEG, PNG or WebP by content; at most 40 megapixels by the header, before
//!    anything is decoded), decodes them under `image::Limits`, and makes the JPEG variants. Pure CPU work;
//!    [`Images::prepare`] runs it off the async threads, a capped number at once.
//! 2. [`Images::add`] checks the alt text and the product first, then prepares the image, writes the original
//!    and the variants to the media store, then appends `ProductImageAdded`. Files before the event: a crash
//!    between the two leaves only files no event names, which `shop media sweep` deletes; it never leaves an
//!    event naming files that are not there.

use std::io::Cursor;
use std::sync::Arc;

use axum::body::Bytes;
use chrono::Utc;
use domain::product::{
    ImageVariant, MAX_IMAGES, Product, ProductCommand, ProductError, ProductImage,
};
use domain::{ImageId, ProductId};
use eventstore::{BusError, CommandBus, CommandMetadata, Executed};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};
use platform::media::{self, MediaError, MediaStore};
use tokio::sync::Semaphore;

/// The largest upload accepted, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// The most pixels an image may declare.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The longest side an image may declare.
pub const MAX_SIDE: u32 = 16_384;
/// The variants' widths; an image narrower than one gets its own width instead (never upscaled).
pub const VARIANT_WIDTHS: [u32; 2] = [320, 960];
const JPEG_QUALITY: u8 = 82;
/// What a decode may allocate: a 40-megapixel RGBA image is 160 MB.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// Why uploaded bytes are not taken as an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefusal {
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error(
        "the image is {width} × {height} pixels; at most {MAX_PIXELS} pixels and {MAX_SIDE} on a side are accepted"
    )]
    TooLarge { width: u32, height: u32 },
}

/// An image checked and resized, not yet stored.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub original: Bytes,
    pub original_key: String,
    pub width: u32,
    pub height: u32,
    /// Each variant with its encoded bytes, narrowest first.
    pub variants: Vec<(ImageVariant, Bytes)>,
}

impl Prepared {
    /// The image as its event records it.
    pub fn image(&self, image_id: ImageId, alt: String) -> ProductImage {
        ProductImage {
            image_id,
            key: self.original_key.clone(),
            size: self.original.len() as u64,
            width: self.width,
            height: self.height,
            alt,
            variants: self.variants.iter().map(|(v, _)| v.clone()).collect(),
        }
    }
}

/// Checks `bytes`, decodes them and makes the variants.
pub fn prepare(bytes: Bytes) -> Result<Prepared, ImageRefusal> {
    let mut reader = ImageReader::new(Cursor::new(&bytes[..]))
        .with_guessed_format()
        .map_err(|_| ImageRefusal::NotAnImage)?;
    let extension = match reader.format() {
        Some(ImageFormat::Jpeg) => "jpg",
        Some(ImageFormat::Png) => "png",
        Some(ImageFormat::WebP) => "webp",
        _ => return Err(ImageRefusal::NotAnImage),
    };
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    // Reads the header only: a decompression bomb is refused here, before a pixel is decoded.
    let mut decoder = reader
        .into_decoder()
        .map_err(|_| ImageRefusal::NotAnImage)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS || width > MAX_SIDE || height > MAX_SIDE {
        return Err(ImageRefusal::TooLarge { width, height });
    }
    let orientation = decoder.orientation().ok();
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        // Within the pixels allowed, but more memory than a decode may take (a deep colour type).
        ImageError::Limits(_) => ImageRefusal::TooLarge { width, height },
        _ => ImageRefusal::NotAnImage,
    })?;
    if let Some(orientation) = orientation {
        decoded.apply_orientation(orientation);
    }
    let (width, height) = (decoded.width(), decoded.height());
    if width == 0 || height == 0 {
        return Err(ImageRefusal::NotAnImage);
    }
    let flat = flattened(&decoded);
    let mut variants: Vec<(ImageVariant, Bytes)> = Vec::new();
    for wanted in VARIANT_WIDTHS {
        let target = wanted.min(width);
        if variants.iter().any(|(v, _)| v.width == target) {
            continue;
        }
        let target_height = scaled(height, target, width);
        let resized = DynamicImage::ImageRgb8(flat.clone()).thumbnail_exact(target, target_height);
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
            .encode_image(&resized.to_rgb8())
            .map_err(|_| ImageRefusal::NotAnImage)?;
        variants.push((
            ImageVariant {
                key: media::key_for(&bytes, &format!("{wanted}.jpg")),
                width: target,
                height: target_height,
            },
            Bytes::from(jpeg),
        ));
    }
    Ok(Prepared {
        original_key: media::key_for(&bytes, &format!("original.{extension}")),
        original: bytes,
        width,
        height,
        variants,
    })
}

/// `height` scaled as `width` goes to `target`, at least one pixel.
fn scaled(height: u32, target: u32, width: u32) -> u32 {
    let exact = u64::from(height) * u64::from(target) / u64::from(width);
    u32::try_from(exact).unwrap_or(u32::MAX).max(1)
}

/// The image on a white background: JPEG has no transparency.
fn flattened(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let c = u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a));
            (c / 255) as u8
        };
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// A plain picture for `shop seed` and the tests: a diagonal gradient between two colours, as a JPEG.
pub fn generated_jpeg(width: u32, height: u32, from: [u8; 3], to: [u8; 3]) -> Vec<u8> {
    let span = (width + height).max(1);
    let picture = RgbImage::from_fn(width, height, |x, y| {
        let t = (x + y) * 255 / span;
        let mix = |a: u8, b: u8| ((u32::from(a) * (255 - t) + u32::from(b) * t) / 255) as u8;
        image::Rgb([
            mix(from[0], to[0]),
            mix(from[1], to[1]),
            mix(from[2], to[2]),
        ])
    });
    let mut jpeg = Vec::new();
    // Encoding a buffer into memory fails only on a size JPEG cannot hold (over 65,535 on a side).
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&picture)
        .expect("a generated picture fits in a JPEG");
    jpeg
}

/// Why an image could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddImageError {
    #[error(transparent)]
    Refused(#[from] ImageRefusal),
    #[error("the media store failed: {0}")]
    Media(#[from] MediaError),
    #[error(transparent)]
    Store(#[from] BusError<ProductError>),
    #[error("image work failed: {0}")]
    Worker(String),
}

/// Image work of one process: decodes a capped number at once, and stores through the media store.
#[derive(Clone, Debug)]
pub struct Images {
    media: MediaStore,
    decodes: Arc<Semaphore>,
}

impl Images {
    pub fn new(media: MediaStore, decodes_at_once: usize) -> Self {
        Self {
            media,
            decodes: Arc::new(Semaphore::new(decodes_at_once.max(1))),
        }
    }

    pub fn media(&self) -> &MediaStore {
        &self.media
    }

    /// [`prepare`], on the blocking threads, when one of the decode permits is free.
    pub async fn prepare(&self, bytes: Bytes) -> Result<Prepared, AddImageError> {
        let _permit = self
            .decodes
            .acquire()
            .await
            .map_err(|e| AddImageError::Worker(e.to_string()))?;
        tokio::task::spawn_blocking(move || prepare(bytes))
            .await
            .map_err(|e| AddImageError::Worker(e.to_string()))?
            .map_err(AddImageError::from)
    }

    /// Writes the original and the variants to the media store (again, harmlessly, if they are there).
    pub async fn store(&self, image: &Prepared) -> Result<(), MediaError> {
        self.media
            .put(&image.original_key, image.original.clone())
            .await?;
        for (variant, bytes) in &image.variants {
            self.media.put(&variant.key, bytes.clone()).await?;
        }
        Ok(())
    }

    /// The whole upload, cheapest checks first: the alt text, the product (it exists, has room for another
    /// image, and is at `expected_version` if one is given), then the decode and resizes, then the files,
    /// then `ProductImageAdded` (files before the event: a crash in between leaves only files no event names).
    pub async fn add(
        &self,
        bus: &CommandBus,
        product_id: ProductId,
        upload: Upload,
        metadata: &CommandMetadata,
        expected_version: Option<u64>,
    ) -> Result<Executed, AddImageError> {
        let alt = domain::product::valid_alt(&upload.alt).map_err(BusError::Rejected)?;
        let id = product_id.to_string();
        let (product, version) = bus.load::<Product>(&id).await?;
        if !product.exists() {
            return Err(BusError::Rejected(ProductError::NotFound).into());
        }
        if let Some(expected) = expected_version
            && expected != version
        {
            let stale = BusError::<ProductError>::VersionMismatch {
                expected,
                actual: version,
            };
            return Err(stale.into());
        }
        if product.images().len() >= MAX_IMAGES {
            return Err(BusError::Rejected(ProductError::TooManyImages).into());
        }
        let files = self.prepare(upload.bytes).await?;
        self.store(&files).await?;
        let command = ProductCommand::AddImage {
            image: files.image(upload.image_id, alt),
            at: Utc::now(),
        };
        Ok(bus
            .execute::<Product>(&id, command, metadata, expected_version)
            .await?)
    }
}

/// An uploaded image, as the request gave it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: Bytes,
    pub image_id: ImageId,
    pub alt: String,
}

#[cfg(test)]
mod tests {
    use image::codecs::png::PngEncoder;
    use image::{ExtendedColorType, ImageEncoder, RgbaImage};

    use super::*;

    fn png(width: u32, height: u32) -> Bytes {
        let picture = RgbaImage::from_pixel(width, height, image::Rgba([10, 20, 30, 0]));
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(picture.as_raw(), width, height, ExtendedColorType::Rgba8)
            .unwrap();
        Bytes::from(out)
    }

    #[test]
    fn a_photo_gets_two_jpeg_variants_at_its_own_aspect_ratio() {
        let jpeg = Bytes::from(generated_jpeg(2000, 1000, [200, 0, 0], [0, 0, 200]));
        let prepared = prepare(jpeg.clone()).unwrap();
        assert_eq!((prepared.width, prepared.height), (2000, 1000));
        assert!(prepared.original_key.ends_with("/original.jpg"));
        let sizes: Vec<(u32, u32)> = prepared
            .variants
            .iter()
            .map(|(v, _)| (v.width, v.height))
            .collect();
        assert_eq!(sizes, [(320, 160), (960, 480)]);
        for (variant, bytes) in &prepared.variants {
            let decoded = image::load_from_memory(bytes).unwrap();
            assert_eq!(
                (decoded.width(), decoded.height()),
                (variant.width, variant.height)
            );
            assert!(variant.key.starts_with(&prepared.original_key[..64]));
        }
    }

    #[test]
    fn a_small_image_is_never_upscaled() {
        let prepared = prepare(png(500, 250)).unwrap();
        let widths: Vec<u32> = prepared.variants.iter().map(|(v, _)| v.width).collect();
        assert_eq!(widths, [320, 500]);
        assert!(prepared.original_key.ends_with("/original.png"));
    }

    #[test]
    fn webp_is_taken_by_its_content() {
        let picture = image::RgbImage::from_pixel(400, 300, image::Rgb([0, 120, 60]));
        let mut webp = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
            .write_image(picture.as_raw(), 400, 300, ExtendedColorType::Rgb8)
            .unwrap();
        let prepared = prepare(Bytes::from(webp)).unwrap();
        assert!(prepared.original_key.ends_with("/original.webp"));
        assert_eq!((prepared.width, prepared.height), (400, 300));
        // A JPEG's bytes are a JPEG whatever the upload called them: the name is never asked.
        let jpeg = prepare(Bytes::from(generated_jpeg(50, 50, [0, 0, 0], [9, 9, 9]))).unwrap();
        assert!(jpeg.original_key.ends_with("/original.jpg"));
    }

    #[test]
    fn transparency_is_flattened_on_white() {
        let prepared = prepare(png(40, 40)).unwrap();
        let variant = image::load_from_memory(&prepared.variants[0].1)
            .unwrap()
            .to_rgb8();
        let [r, g, b] = variant.get_pixel(20, 20).0;
        assert!(r > 240 && g > 240 && b > 240, "{r} {g} {b}");
    }

    #[test]
    fn text_and_truncated_images_are_not_images() {
        assert_eq!(
            prepare(Bytes::from_static(b"hello, not a picture")).unwrap_err(),
            ImageRefusal::NotAnImage
        );
        let jpeg = generated_jpeg(100, 100, [0, 0, 0], [255, 255, 255]);
        let cut = Bytes::from(jpeg[..jpeg.len() / 3].to_vec());
        assert_eq!(prepare(cut).unwrap_err(), ImageRefusal::NotAnImage);
        let gif = Bytes::from_static(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;");
        assert_eq!(prepare(gif).unwrap_err(), ImageRefusal::NotAnImage);
    }

    #[test]
    fn too_many_pixels_are_refused_from_the_header() {
        // 8,000 × 6,000 = 48 megapixels, each side under the side limit.
        let big = bomb_png(8_000, 6_000);
        assert_eq!(
            prepare(big).unwrap_err(),
            ImageRefusal::TooLarge {
                width: 8_000,
                height: 6_000
            }
        );
        assert_eq!(
            prepare(bomb_png(50_000, 50_000)).unwrap_err(),
            ImageRefusal::TooLarge {
                width: 50_000,
                height: 50_000
            }
        );
        // A side over 16,384 pixels, under 40 megapixels.
        assert!(matches!(
            prepare(bomb_png(20_000, 100)).unwrap_err(),
            ImageRefusal::TooLarge { width: 20_000, .. }
        ));
    }

    /// A PNG whose header declares `width` × `height` but whose data is a few bytes: it must be refused
    /// before anything is decoded.
    pub(crate) fn bomb_png(width: u32, height: u32) -> Bytes {
        Bytes::from(crate::usecases::images::testing::png_header_only(
            width, height,
        ))
    }
}

/// Test pictures the API tests share.
pub mod testing {
    /// The bytes of a PNG that declares `width` × `height` (8-bit RGB) and holds one tiny compressed block:
    /// what a decompression bomb looks like from its header.
    pub fn png_header_only(width: u32, height: u32) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut png, b"IHDR", &ihdr);
        // A zlib stream of a few zero bytes: it would inflate to nothing like the declared size.
        chunk(
            &mut png,
            b"IDAT",
            &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
        );
        chunk(&mut png, b"IEND", &[]);
        png
    }

    fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        png.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffff_u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xedb8_8320 & mask);
            }
        }
        !crc
    }
}
