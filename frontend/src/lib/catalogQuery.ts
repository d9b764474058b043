/**
 * The catalog's state as it lives in the URL (`/?q=mug&category=Kitchen&sort=price_asc&page=2`), so a
 * search can be bookmarked, shared and navigated with the browser's back button. Parsing is forgiving (a
 * hand-edited URL falls back to defaults); serializing leaves defaults out, so URLs stay short.
 * Prices in the URL are what `GET /products` takes: `min_price` and `max_price` in minor units, both inclusive.
 */
import type { PriceBucket } from "../api/types";
import { majorToMinor } from "./money";

export const SORTS = ["relevance", "price_asc", "price_desc", "name", "newest"] as const;
export type Sort = (typeof SORTS)[number];

export const SORT_LABELS: Record<Sort, string> = {
  relevance: "Best match",
  price_asc: "Price: low to high",
  price_desc: "Price: high to low",
  name: "Name: A to Z",
  newest: "Newest first",
};

export const PAGE_SIZE = 12;

export interface CatalogQuery {
  q: string;
  category: string;
  sort: Sort;
  /** Lowest price, in minor units, inclusive; null for none. */
  minPrice: number | null;
  /** Highest price, in minor units, inclusive; null for none. */
  maxPrice: number | null;
  inStock: boolean;
  /** From 1. */
  page: number;
}

export const DEFAULT_QUERY: CatalogQuery = {
  q: "",
  category: "",
  sort: "relevance",
  minPrice: null,
  maxPrice: null,
  inStock: false,
  page: 1,
};

function amountParam(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  const amount = Number(value);
  return Number.isSafeInteger(amount) ? amount : null;
}

export function parseCatalogQuery(search: string | URLSearchParams): CatalogQuery {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  const sort = params.get("sort") ?? "";
  const page = Number(params.get("page"));
  return {
    q: (params.get("q") ?? "").trim(),
    category: (params.get("category") ?? "").trim(),
    sort: (SORTS as readonly string[]).includes(sort) ? (sort as Sort) : "relevance",
    minPrice: amountParam(params.get("min_price")),
    maxPrice: amountParam(params.get("max_price")),
    inStock: params.get("in_stock") === "true",
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

/** The query string for a state, with a leading `?`, or "" when everything is default. */
export function catalogSearch(query: CatalogQuery): string {
  const params = new URLSearchParams();
  if (query.q.trim()) params.set("q", query.q.trim());
  if (query.category) params.set("category", query.category);
  setPrices(params, query);
  if (query.sort !== "relevance") params.set("sort", query.sort);
  if (query.inStock) params.set("in_stock", "true");
  if (query.page > 1) params.set("page", String(query.page));
  const text = params.toString();
  return text ? `?${text}` : "";
}

function setPrices(params: URLSearchParams, query: CatalogQuery): void {
  if (query.minPrice !== null) params.set("min_price", String(query.minPrice));
  if (query.maxPrice !== null) params.set("max_price", String(query.maxPrice));
}

/**
 * A new state after a change. Changing what is searched (text, category, price, sort, stock filter) goes back
 * to page 1, since the old page number means nothing for the new results.
 */
export function updateCatalogQuery(current: CatalogQuery, change: Partial<CatalogQuery>): CatalogQuery {
  const next = { ...current, ...change };
  const refilters = (["q", "category", "minPrice", "maxPrice", "sort", "inStock"] as const).some(
    (key) => key in change && change[key] !== current[key],
  );
  if (refilters && !("page" in change)) next.page = 1;
  return next;
}

/** The `GET /products` parameters for a state. */
export function productsApiQuery(query: CatalogQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  if (query.category) params.set("category", query.category);
  setPrices(params, query);
  params.set("sort", query.sort);
  if (query.inStock) params.set("in_stock", "true");
  params.set("page", String(query.page));
  params.set("limit", String(PAGE_SIZE));
  return params;
}

/** Whether any filter (or a sort other than the default) is set: then the page offers to clear them. */
export function isFiltered(query: CatalogQuery): boolean {
  return (
    !!query.q ||
    !!query.category ||
    query.minPrice !== null ||
    query.maxPrice !== null ||
    query.inStock ||
    query.sort !== "relevance"
  );
}

/**
 * The filter a price facet's bucket stands for. Buckets are in major units with `max` exclusive; the filter is
 * in minor units with both ends inclusive, so €10–€25 in EUR is 1000..=2499. The lowest bucket has no lower
 * bound and the top one no upper bound.
 */
export function priceBucketRange(
  bucket: Pick<PriceBucket, "min" | "max">,
  currency: string,
): Pick<CatalogQuery, "minPrice" | "maxPrice"> {
  return {
    minPrice: bucket.min > 0 ? majorToMinor(bucket.min, currency) : null,
    maxPrice: bucket.max === null || bucket.max === undefined ? null : majorToMinor(bucket.max, currency) - 1,
  };
}

/** The page numbers to offer: the first, the last, and a window around the current one, with gaps as null. */
export function pageWindow(current: number, pages: number, radius = 1): (number | null)[] {
  const out: (number | null)[] = [];
  for (let p = 1; p <= pages; p++) {
    if (p === 1 || p === pages || Math.abs(p - current) <= radius) out.push(p);
    else if (out[out.length - 1] !== null) out.push(null);
  }
  return out;
}
