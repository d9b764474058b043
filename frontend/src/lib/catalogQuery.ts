/**
 * The catalog's state as it lives in the URL (`/?q=mug&category=Kitchen&sort=price_asc&page=2`), so a
 * search can be bookmarked, shared and navigated with the browser's back button. Parsing is forgiving (a
 * hand-edited URL falls back to defaults); serializing leaves defaults out, so URLs stay short.
 */

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
  inStock: boolean;
  /** From 1. */
  page: number;
}

export const DEFAULT_QUERY: CatalogQuery = { q: "", category: "", sort: "relevance", inStock: false, page: 1 };

export function parseCatalogQuery(search: string | URLSearchParams): CatalogQuery {
  const params = typeof search === "string" ? new URLSearchParams(search) : search;
  const sort = params.get("sort") ?? "";
  const page = Number(params.get("page"));
  return {
    q: (params.get("q") ?? "").trim(),
    category: (params.get("category") ?? "").trim(),
    sort: (SORTS as readonly string[]).includes(sort) ? (sort as Sort) : "relevance",
    inStock: params.get("in_stock") === "true",
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

/** The query string for a state, with a leading `?`, or "" when everything is default. */
export function catalogSearch(query: CatalogQuery): string {
  const params = new URLSearchParams();
  if (query.q.trim()) params.set("q", query.q.trim());
  if (query.category) params.set("category", query.category);
  if (query.sort !== "relevance") params.set("sort", query.sort);
  if (query.inStock) params.set("in_stock", "true");
  if (query.page > 1) params.set("page", String(query.page));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * A new state after a change. Changing what is searched (text, category, sort, stock filter) goes back to
 * page 1, since the old page number means nothing for the new results.
 */
export function updateCatalogQuery(current: CatalogQuery, change: Partial<CatalogQuery>): CatalogQuery {
  const next = { ...current, ...change };
  const refilters = (["q", "category", "sort", "inStock"] as const).some(
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
  params.set("sort", query.sort);
  if (query.inStock) params.set("in_stock", "true");
  params.set("page", String(query.page));
  params.set("limit", String(PAGE_SIZE));
  return params;
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
