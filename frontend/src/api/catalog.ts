/** The catalog: listing and reading products and categories, and the administrators' writes. */
import {
  get,
  request,
  segment,
  upload,
  write,
  type Answer,
  type Body,
  type Query,
  type ReadOptions,
  type UploadOptions,
  type WriteOptions,
} from "./client";
import type { Written } from "./types";

/** What `GET /products` takes; the catalog page builds it from the URL as `URLSearchParams`. */
export type ProductsQuery = Query<"list_products">;

/** `GET /products`: a page of the catalog, with the facets of the query. */
export function listProducts(
  query: ProductsQuery | URLSearchParams,
  options: ReadOptions = {},
): Promise<Answer<"list_products">> {
  return get<Answer<"list_products">>("/products", { ...options, query });
}

/** `GET /products/{id}` with its version (`ETag`, for `If-Match`). A discontinued product is not found (404). */
export async function getProduct(
  id: string,
  options: ReadOptions = {},
): Promise<{ product: Answer<"get_product">; etag: string | undefined }> {
  const answer = await request<Answer<"get_product">>(`/products/${segment(id)}`, options);
  return { product: answer.data, etag: answer.headers.get("ETag") ?? undefined };
}

/** `GET /categories`: the categories of listed products, with how many each has. */
export function listCategories(options: ReadOptions = {}): Promise<Answer<"list_categories">> {
  return get<Answer<"list_categories">>("/categories", options);
}

/** `POST /products` (administrators). */
export function createProduct(product: Body<"create_product">, options: WriteOptions = {}): Promise<Written> {
  return write("POST", "/products", product, options);
}

/** `PATCH /products/{id}` (administrators): the fields left out stay as they are. */
export function updateProduct(id: string, changes: Body<"update_product">, options: WriteOptions = {}): Promise<Written> {
  return write("PATCH", `/products/${segment(id)}`, changes, options);
}

/** `POST /products/{id}/stock` (administrators): a restock (> 0) or a write-off (< 0). */
export function adjustStock(id: string, change: Body<"adjust_stock">, options: WriteOptions = {}): Promise<Written> {
  return write("POST", `/products/${segment(id)}/stock`, change, options);
}

/** `POST /products/{id}/discontinue` (administrators): off the catalog for good. */
export function discontinueProduct(id: string, options: WriteOptions = {}): Promise<Written> {
  return write("POST", `/products/${segment(id)}/discontinue`, undefined, options);
}

/** What `POST /products/{id}/images` takes: the file (JPEG, PNG or WebP, at most 5 MB) and its alt text. */
export interface NewProductImage {
  image: Blob;
  /** What the image shows, 1 to 250 characters. */
  alt: string;
}

/** `PUT /products/{id}/images`: every current image id exactly once, in the new order. */
export type ImageOrder = Body<"reorder_product_images">;

/**
 * `POST /products/{id}/images` (administrators), as `multipart/form-data` with upload progress. Refused with
 * 413 over 5 MB, 422 for what is not an image, over 40 megapixels, or a bad alt text (`errors.alt`).
 */
export function uploadProductImage(id: string, image: NewProductImage, options: UploadOptions = {}): Promise<Written> {
  const form = new FormData();
  // The alt text first: a server reading the parts in order can refuse a bad one before the file's bytes.
  form.append("alt", image.alt);
  form.append("image", image.image);
  return upload(`/products/${segment(id)}/images`, form, options);
}

/** `PUT /products/{id}/images` (administrators): the new order; 422 unless it names every image once. */
export function reorderProductImages(id: string, order: ImageOrder, options: WriteOptions = {}): Promise<Written> {
  return write("PUT", `/products/${segment(id)}/images`, order, options);
}

/** `DELETE /products/{id}/images/{image_id}` (administrators); 404 for an image the product does not have. */
export function removeProductImage(id: string, imageId: string, options: WriteOptions = {}): Promise<Written> {
  return write("DELETE", `/products/${segment(id)}/images/${segment(imageId)}`, undefined, options);
}
