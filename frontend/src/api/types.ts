import type { Money } from "../lib/money";

export type Role = "customer" | "admin";

export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  price: Money;
  /** On hand minus reserved. */
  available: number;
  in_stock: boolean;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
  pages: number;
}

export interface Category {
  name: string;
  count: number;
}

/**
 * A price range of the catalog's facets, in major units (10 = €10.00): `min` inclusive, `max` exclusive, and no
 * `max` for the open-ended top bucket.
 */
export interface PriceBucket {
  min: number;
  max?: number | null;
  count: number;
}

/** Counts for the current search: each facet counts the products matching every filter except its own. */
export interface CatalogFacets {
  categories: Category[];
  price: PriceBucket[];
  /** How many of the matching products have units available. */
  in_stock: number;
}

/** `GET /products`. `facets` is optional: a server that does not count them yet leaves it out. */
export interface ProductPage extends Page<Product> {
  facets?: CatalogFacets;
}

export interface CartLine {
  product_id: string;
  sku: string;
  name: string;
  unit_price: Money;
  quantity: number;
  line_total: Money;
}

export interface Cart {
  items: CartLine[];
  total: Money | null;
  item_count: number;
}

export type OrderStatus = "pending" | "confirmed" | "shipped" | "delivered" | "cancelled";
export const ORDER_STATUSES: OrderStatus[] = ["pending", "confirmed", "shipped", "delivered", "cancelled"];

export interface Address {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  postal_code: string;
  country: string;
}

export interface OrderSummary {
  id: string;
  status: OrderStatus;
  total: Money;
  item_count: number;
  created_at: string;
}

export interface TimelineEntry {
  status: string;
  at: string;
  detail?: string | null;
}

export interface Order {
  id: string;
  user_id: string;
  status: OrderStatus;
  items: CartLine[];
  total: Money;
  shipping_address: Address;
  payment: { status: string; method: string; amount: Money | null } | null;
  cancellation_reason: string | null;
  tracking_number?: string | null;
  timeline: TimelineEntry[];
  created_at: string;
  updated_at: string;
}

export interface LoginAnswer {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  user_id: string;
  role: Role;
}

export interface Me {
  id: string;
  email: string;
  name: string;
  role: Role;
  created_at: string;
}

export interface StoredEvent {
  position: string;
  event_id: string;
  aggregate_type: string;
  aggregate_id: string;
  sequence: number;
  event_type: string;
  event_version: string | number;
  payload: unknown;
  metadata: { user_id?: string | null; correlation_id?: string; causation_id?: string; request_id?: string; [k: string]: unknown };
  recorded_at: string;
  hash: string;
}

export interface AuditReport {
  ok: boolean;
  checked: number;
  broken: { position: string; reason: string }[];
}
