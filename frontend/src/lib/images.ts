/**
 * Product images: `srcset` from an image's variants, the `sizes` each place shows them at, the checks a file
 * and its alt text pass before an upload (the server checks again, by content), and the order after a move.
 */
import type { ProductImage } from "../api/types";

/** What `POST /products/{id}/images` takes; the server checks the bytes, this is only the first look. */
export const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
/** 5 MB, counted as the server counts (MiB): a file this size or smaller is sent. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const MAX_ALT_LENGTH = 250;

/**
 * How wide an image is on screen, for the browser to pick a variant: the catalog grid (four columns beside the
 * filters, three, then two), the product page (half the page from 800 px, else the whole width), a thumbnail.
 */
export const CARD_SIZES = "(min-width: 1000px) 240px, (min-width: 700px) 33vw, 50vw";
export const GALLERY_SIZES = "(min-width: 800px) 600px, 100vw";
export const THUMB_SIZES = "64px";

/** `srcset` for an image: each variant at its width, narrowest first; the image itself when it has none. */
export function srcSet(image: Pick<ProductImage, "url" | "width" | "variants">): string {
  const variants = image.variants.length > 0 ? image.variants : [image];
  return [...variants]
    .sort((a, b) => a.width - b.width)
    .map((v) => `${v.url} ${v.width}w`)
    .join(", ");
}

/** Why a file cannot be uploaded, in words, or `null` when it may be sent. */
export function imageFileProblem(file: { name: string; type: string; size: number }): string | null {
  if (!(IMAGE_TYPES as readonly string[]).includes(file.type)) {
    return `${file.name} is not a JPEG, PNG or WebP image.`;
  }
  if (file.size > MAX_IMAGE_BYTES) {
    return `${file.name} is ${megabytes(file.size)}; an image can be at most 5 MB.`;
  }
  if (file.size === 0) return `${file.name} is empty.`;
  return null;
}

/** Why an alt text is refused, in words, or `null`. Length counts characters, as the server does. */
export function altTextProblem(alt: string): string | null {
  const length = [...alt.trim()].length;
  if (length === 0) return "Describe the image for people who cannot see it.";
  if (length > MAX_ALT_LENGTH) return `Use at most ${MAX_ALT_LENGTH} characters (this is ${length}).`;
  return null;
}

/** "6.2 MB": one decimal, in the unit the limit is given in, rounded up (a file just over 5 MB is not "5.0 MB"). */
export function megabytes(bytes: number): string {
  return `${(Math.ceil((bytes / (1024 * 1024)) * 10) / 10).toFixed(1)} MB`;
}

/**
 * The ids in their new order after moving the one at `index` by `by` places (−1 up, +1 down); the same order
 * when that would move it past either end. `PUT /products/{id}/images` takes the whole list.
 */
export function moveImage(ids: readonly string[], index: number, by: -1 | 1): string[] {
  const to = index + by;
  const order = [...ids];
  if (index < 0 || index >= order.length || to < 0 || to >= order.length) return order;
  [order[index], order[to]] = [order[to], order[index]];
  return order;
}

/** Upload progress as a whole percentage, 0 to 100; 0 while the total is not known. */
export function percent(loaded: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.min(100, Math.max(0, Math.round((loaded / total) * 100)));
}
