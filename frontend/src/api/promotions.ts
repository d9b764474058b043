/** Discount codes (administrators): listing them, creating one, and pausing, resuming or ending it. */
import { get, segment, write, type Answer, type Body, type Query, type ReadOptions, type WriteOptions } from "./client";
import type { Written } from "./types";

export type PromotionsQuery = Query<"list_promotions">;

/** `GET /promotions`: newest first, with how often each code was redeemed (confirmed orders) and is held (pending). */
export function listPromotions(query: PromotionsQuery = {}, options: ReadOptions = {}): Promise<Answer<"list_promotions">> {
  return get<Answer<"list_promotions">>("/promotions", { ...options, query });
}

/**
 * `POST /promotions`: a new code, with a percentage or an amount off (exactly one). A code already taken is
 * refused (409); invalid terms are refused (422) with the rule they break.
 */
export function createPromotion(promotion: Body<"create_promotion">, options: WriteOptions = {}): Promise<Written> {
  return write("POST", "/promotions", promotion, options);
}

/** `POST /promotions/{id}/pause`: carts can no longer apply the code until it is resumed. */
export function pausePromotion(id: string, options: WriteOptions = {}): Promise<Written> {
  return write("POST", `/promotions/${segment(id)}/pause`, undefined, options);
}

/** `POST /promotions/{id}/resume`: a paused code applies again. An ended one cannot be resumed (422). */
export function resumePromotion(id: string, options: WriteOptions = {}): Promise<Written> {
  return write("POST", `/promotions/${segment(id)}/resume`, undefined, options);
}

/** `POST /promotions/{id}/end`: for good, an ended code cannot be resumed. */
export function endPromotion(id: string, options: WriteOptions = {}): Promise<Written> {
  return write("POST", `/promotions/${segment(id)}/end`, undefined, options);
}
