/** Orders: the customer's own (administrators see everyone's), and the administrators' steps. */
import { get, request, segment, write, type Answer, type Body, type Query, type ReadOptions, type WriteOptions } from "./client";
import type { Written } from "./types";

export type OrdersQuery = Query<"list_orders">;

/** `GET /orders`: newest first; `user_id` narrows an administrator's list to one customer. */
export function listOrders(query: OrdersQuery = {}, options: ReadOptions = {}): Promise<Answer<"list_orders">> {
  return get<Answer<"list_orders">>("/orders", { ...options, query });
}

/** `GET /orders/{id}` with its version (`ETag`). Someone else's order is not found (404). */
export async function getOrder(
  id: string,
  options: ReadOptions = {},
): Promise<{ order: Answer<"get_order">; etag: string | undefined }> {
  const answer = await request<Answer<"get_order">>(`/orders/${segment(id)}`, options);
  return { order: answer.data, etag: answer.headers.get("ETag") ?? undefined };
}

/** `POST /orders/{id}/cancel`: its owner or an administrator, while `pending` or `confirmed`. */
export function cancelOrder(id: string, options: WriteOptions = {}): Promise<Written> {
  return write("POST", `/orders/${segment(id)}/cancel`, undefined, options);
}

/** `POST /orders/{id}/ship` (administrators), with a tracking number when there is one. */
export function shipOrder(id: string, shipment: Body<"ship_order"> = {}, options: WriteOptions = {}): Promise<Written> {
  return write("POST", `/orders/${segment(id)}/ship`, shipment, options);
}

/** `POST /orders/{id}/deliver` (administrators). */
export function deliverOrder(id: string, options: WriteOptions = {}): Promise<Written> {
  return write("POST", `/orders/${segment(id)}/deliver`, undefined, options);
}
