/** The signed-in customer's cart, and checkout. */
import { get, segment, write, type Answer, type Body, type ReadOptions, type WriteOptions } from "./client";
import type { Written } from "./types";

/** `GET /cart`: every line at the product's current price, with `available` false for a discontinued product. */
export function getCart(options: ReadOptions = {}): Promise<Answer<"get_cart">> {
  return get<Answer<"get_cart">>("/cart", options);
}

/** `POST /cart/items`: adds to any quantity already in the cart. */
export function addCartItem(item: Body<"add_cart_item">, options: WriteOptions = {}): Promise<Written> {
  return write("POST", "/cart/items", item, options);
}

/** `PUT /cart/items/{product_id}`: sets a line's quantity; 0 removes it. */
export function setCartItemQuantity(productId: string, quantity: number, options: WriteOptions = {}): Promise<Written> {
  const body: Body<"change_cart_item"> = { quantity };
  return write("PUT", `/cart/items/${segment(productId)}`, body, options);
}

/** `DELETE /cart/items/{product_id}`. */
export function removeCartItem(productId: string, options: WriteOptions = {}): Promise<Written> {
  return write("DELETE", `/cart/items/${segment(productId)}`, undefined, options);
}

/**
 * `POST /cart/discount`: applies a discount code (any case), replacing one already applied. Refused (422) with a
 * sentence the customer can act on: an unknown, paused, ended, expired or used-up code, or a cart it does not
 * apply to.
 */
export function applyDiscount(code: string, options: WriteOptions = {}): Promise<Written> {
  const body: Body<"apply_cart_discount"> = { code };
  return write("POST", "/cart/discount", body, options);
}

/** `DELETE /cart/discount`: takes the applied code off the cart. */
export function removeDiscount(options: WriteOptions = {}): Promise<Written> {
  return write("DELETE", "/cart/discount", undefined, options);
}

/**
 * `POST /cart/checkout`: the cart becomes a `pending` order (its id is the answer's `id`). Send an
 * `idempotencyKey`, so a retry or a double click places one order. Refused (422 `product_discontinued`)
 * while a line is no longer available, and (422) while the applied discount code no longer applies or was used
 * up meanwhile; a code that applies is redeemed in the same write as the order.
 */
export function checkOut(checkout: Body<"check_out">, options: WriteOptions = {}): Promise<Written> {
  return write("POST", "/cart/checkout", checkout, options);
}
