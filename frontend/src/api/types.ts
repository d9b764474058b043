/**
 * The API's shapes under the names the app uses, all taken from the generated schema.ts (the server's OpenAPI
 * document, docs/openapi.json; `npm run api-types`). Nothing here is written by hand but what the document
 * leaves as a plain string: the order statuses and the roles, which the server describes in words only. A few
 * are taken from the schema that holds them (a cart's or an order's discount), so they do not hang on the
 * name the document gives them.
 */
import type { components } from "./schema";

type Schemas = components["schemas"];

/** An amount in minor units (cents) and an ISO 4217 currency code; never a float. */
export type Money = Schemas["Money"];

// --- catalog -----------------------------------------------------------------------------------------------

/** A product as the catalog shows it. `price` may be missing (`null` or left out): such a product cannot be bought. */
export type Product = Schemas["Product"];
/**
 * A picture of a product, first image first in `Product.images`. `url`, `width` and `height` are its largest
 * variant; `variants` are every size (JPEG), narrowest first. URLs are same-origin paths under /media/.
 */
export type ProductImage = Schemas["ProductImage"];
export type ImageVariant = Schemas["ImageVariant"];
export type Category = Schemas["Category"];
/** `GET /categories`. */
export type Categories = Schemas["Categories"];
/**
 * A price range of the catalog's facets, in major units (10 = €10.00): `min` inclusive, `max` exclusive, and no
 * `max` for the open-ended top bucket.
 */
export type PriceBucket = Schemas["PriceRange"];
/** Counts for the current search: each facet counts the products matching every filter except its own. */
export type CatalogFacets = Schemas["Facets"];
/** `GET /products`: a page of products with the facets of the query. */
export type ProductPage = Schemas["CatalogPage"];
/** `POST /products`. */
export type NewProduct = Schemas["NewProduct"];
/** `PATCH /products/{id}`: the fields to change. */
export type ProductChanges = Schemas["Changes"];

// --- cart --------------------------------------------------------------------------------------------------

/**
 * A line of the cart at the product's current price. `available` is `false` once the product is discontinued:
 * checkout refuses the cart until the line is removed.
 */
export type CartLine = Schemas["CartItem"];
/**
 * The caller's cart; `total` is `null` (or left out) while it is empty. With a discount code applied, `subtotal`
 * is before it and `total` after it, and each line it reduces has its share in `discount`.
 */
export type Cart = Schemas["Cart"];
/**
 * The code applied to a cart and what it takes off. When the code no longer applies (expired, below its minimum
 * since a line went, ...) `amount` is zero and `reason` says why in a sentence; checkout is then refused.
 */
export type CartDiscount = NonNullable<Cart["discount"]>;
/** `POST /cart/checkout`. */
export type CheckoutRequest = Schemas["Checkout"];

// --- orders ------------------------------------------------------------------------------------------------

/** Statuses as the API documents them; `Order.status` is typed as any string, so compare, don't assume. */
export type OrderStatus = "pending" | "confirmed" | "shipped" | "delivered" | "cancelled";
export const ORDER_STATUSES: readonly OrderStatus[] = ["pending", "confirmed", "shipped", "delivered", "cancelled"];

export function isOrderStatus(value: string | null | undefined): value is OrderStatus {
  return (ORDER_STATUSES as readonly (string | null | undefined)[]).includes(value);
}

/** Where an order goes. */
export type Address = Schemas["ShippingAddress"];
export type OrderSummary = Schemas["OrderSummary"];
/** `GET /orders`. */
export type OrderPage = Schemas["Page_OrderSummary"];
/** A line of an order, at the price of its checkout. */
export type OrderLine = Schemas["OrderLine"];
export type TimelineEntry = Schemas["Step"];
export type Payment = Schemas["Payment"];
/** `total` is after the order's discount, when it has one; `subtotal` is before it. */
export type Order = Schemas["Order"];
/** The code an order was placed with and what it took off. */
export type OrderDiscount = NonNullable<Order["discount"]>;
/** `POST /orders/{id}/ship`'s optional body. */
export type Shipment = Schemas["Shipment"];

// --- promotions (discount codes) ---------------------------------------------------------------------------

/** `GET /promotions`: a page of codes, newest first. */
export type PromotionPage = components["schemas"]["Page_Promotion"];
/**
 * A discount code with its terms: exactly one of `percent_off` and `amount_off`; `redeemed` counts confirmed
 * orders, `held` pending ones (a redemption held until the order is confirmed or cancelled).
 */
export type Promotion = PromotionPage["items"][number];
/** `POST /promotions`. */
export type NewPromotion = components["schemas"]["NewPromotion"];

/** A code's statuses, an enum in the API's document. */
export type PromotionStatus = Schemas["PromotionStatus"];
export const PROMOTION_STATUSES: readonly PromotionStatus[] = ["active", "paused", "ended"];

export function isPromotionStatus(value: string | null | undefined): value is PromotionStatus {
  return (PROMOTION_STATUSES as readonly (string | null | undefined)[]).includes(value);
}

// --- accounts ----------------------------------------------------------------------------------------------

/** The roles the API documents; the document types `role` as any string. */
export type Role = "customer" | "admin";

/** A role as the server sent it: only `admin` grants the back office, anything else is a customer. */
export function asRole(value: string): Role {
  return value === "admin" ? "admin" : "customer";
}

/** `POST /auth/login`'s answer; the app ignores `access_token` (the session is the HttpOnly cookie). */
export type LoginAnswer = Schemas["TokenAnswer"];
/** `GET /me`. */
export type Me = Schemas["Profile"];
export type Registration = Schemas["Registration"];
export type Credentials = Schemas["Login"];

// --- notifications -----------------------------------------------------------------------------------------

export type Notification = Schemas["Notification"];
export type NotificationPage = Schemas["Page_Notification"];

// --- audit -------------------------------------------------------------------------------------------------

/** An event as the log stored it; `payload` and `metadata` are free-form objects in the document. */
export type StoredEvent = Schemas["Event"];
/** `GET /admin/events`: a page of the feed; `next` is the `after` of the next page. */
export type EventFeed = Schemas["Feed"];
/** `GET /admin/streams/{type}/{id}`. */
export type EventStream = Schemas["Stream"];
/** `GET /admin/audit/verify`. */
export type AuditReport = Schemas["Verification"];
export type BrokenLink = Schemas["Broken"];

// --- writes ------------------------------------------------------------------------------------------------

/**
 * What every accepted write answers. `position` (for `X-Min-Position`, read-your-writes) may be `null` or
 * missing: then there is nothing to wait for.
 */
export type Written = Schemas["Written"];
