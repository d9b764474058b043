/** The catalog: listing and reading products and categories, and the administrators' writes. */
import { get, request, segment, write, type Answer, type Body, type Query, type ReadOptions, type WriteOptions } from "./client";
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
