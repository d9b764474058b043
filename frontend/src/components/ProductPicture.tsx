/**
 * A product's pictures in the storefront: its first image on a catalog card, a gallery on its page. A product
 * without images keeps its coloured tile (`ProductArt`).
 */
import { useState } from "react";
import type { Product, ProductImage } from "../api/types";
import { CARD_SIZES, GALLERY_SIZES, srcSet, THUMB_SIZES } from "../lib/images";
import { ProductArt } from "./ui";

/** The product's first image at card size, or its tile. Lazy: most cards start below the fold. */
export function ProductPicture({ product }: { product: Pick<Product, "name" | "sku" | "images"> }) {
  const [first] = product.images;
  if (!first) return <ProductArt name={product.name} sku={product.sku} />;
  return <Picture image={first} sizes={CARD_SIZES} className="picture picture-card" lazy />;
}

/**
 * The product page's pictures: the one chosen, large, and a button per picture to choose it when there are
 * several. Without images, the large tile.
 */
export function ProductGallery({ product }: { product: Pick<Product, "name" | "sku" | "images"> }) {
  const [chosen, setChosen] = useState(0);
  const images = product.images;
  if (images.length === 0) return <ProductArt name={product.name} sku={product.sku} size="large" />;
  const shown = Math.min(chosen, images.length - 1);
  return (
    <div className="gallery" data-testid="gallery">
      {/* Keyed by the image, so the old picture is not left on screen while the new one loads. */}
      <Picture key={images[shown].id} image={images[shown]} sizes={GALLERY_SIZES} className="picture picture-large" />
      {images.length > 1 && (
        <ul className="gallery-thumbs" aria-label="Pictures">
          {images.map((image, i) => (
            <li key={image.id}>
              <button
                type="button"
                className="gallery-thumb"
                aria-label={`Show picture ${i + 1} of ${images.length}: ${image.alt}`}
                aria-pressed={i === shown}
                onClick={() => setChosen(i)}
              >
                <Picture image={image} sizes={THUMB_SIZES} className="picture picture-thumb" decorative lazy />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * One image with every variant in `srcset`, so the browser fetches the smallest that fills `sizes`; `width`
 * and `height` reserve its space before it loads. `decorative` when a label next to it already says what it is.
 */
export function Picture({
  image,
  sizes,
  className,
  lazy = false,
  decorative = false,
}: {
  image: ProductImage;
  sizes: string;
  className: string;
  lazy?: boolean;
  decorative?: boolean;
}) {
  return (
    <img
      className={className}
      src={image.url}
      srcSet={srcSet(image)}
      sizes={sizes}
      width={image.width}
      height={image.height}
      alt={decorative ? "" : image.alt}
      loading={lazy ? "lazy" : undefined}
      decoding="async"
    />
  );
}
