import { useEffect, useRef, useState, type FormEvent } from "react";
import { get } from "../api/client";
import type { Category, Page, Product } from "../api/types";
import { AddToCart } from "../components/AddToCart";
import { Availability, Empty, ErrorNote, Loading, Pagination, Price, ProductArt } from "../components/ui";
import {
  catalogSearch,
  parseCatalogQuery,
  productsApiQuery,
  SORT_LABELS,
  SORTS,
  updateCatalogQuery,
  type CatalogQuery,
} from "../lib/catalogQuery";
import { plural } from "../lib/format";
import { useTitle } from "../lib/page";
import { Link, navigate, useLocation } from "../lib/router";
import { useFetch } from "../lib/useFetch";

/** Marked once per page load when the first products are on screen; the e2e run reads it. */
const FIRST_PRODUCT_MARK = "shop:first-product";

export function CatalogPage() {
  const { search } = useLocation();
  const query = parseCatalogQuery(search);
  const apiQuery = productsApiQuery(query);
  const products = useFetch(apiQuery.toString(), (signal) =>
    get<Page<Product>>("/products", { query: apiQuery, signal }),
  );
  const categories = useFetch("categories", (signal) =>
    get<{ categories: Category[] }>("/categories", { signal }),
  );
  const [text, setText] = useState(query.q);
  // The box follows the URL when it changes from elsewhere (back button, a link).
  useEffect(() => setText(query.q), [query.q]);

  useTitle(query.q ? `Search: ${query.q}` : query.category || "Catalog");

  const go = (change: Partial<CatalogQuery>) =>
    navigate(`/${catalogSearch(updateCatalogQuery(query, change))}`, { keepScroll: !("page" in change) });

  function onSearch(e: FormEvent) {
    e.preventDefault();
    go({ q: text.trim() });
  }

  const page = products.data;
  const items = page?.items ?? [];
  const marked = useRef(false);
  useEffect(() => {
    if (items.length > 0 && !marked.current) {
      marked.current = true;
      performance.mark(FIRST_PRODUCT_MARK);
    }
  }, [items.length]);

  const heading = query.q ? `Results for “${query.q}”` : query.category || "All products";

  return (
    <div className="page">
      <section className="hero" aria-labelledby="catalog-heading">
        <div>
          <h1 id="catalog-heading">{heading}</h1>
          {!query.q && !query.category && <p className="tagline">Everyday things, made well and shipped fast.</p>}
        </div>
        <form className="search" role="search" onSubmit={onSearch}>
          <label htmlFor="catalog-search" className="visually-hidden">
            Search products
          </label>
          <input
            id="catalog-search"
            type="search"
            placeholder="Search by name, description, SKU…"
            value={text}
            onChange={(e) => setText(e.target.value)}
            autoComplete="off"
          />
          <button type="submit" className="btn">
            Search
          </button>
        </form>
      </section>

      <div className="catalog">
        <aside className="filters" aria-label="Filters">
          <div className="field">
            <label htmlFor="catalog-category">Category</label>
            <select id="catalog-category" value={query.category} onChange={(e) => go({ category: e.target.value })}>
              <option value="">All categories</option>
              {(categories.data?.categories ?? []).map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name} ({c.count})
                </option>
              ))}
              {query.category && !categories.data?.categories.some((c) => c.name === query.category) && (
                <option value={query.category}>{query.category}</option>
              )}
            </select>
          </div>
          <div className="field">
            <label htmlFor="catalog-sort">Sort by</label>
            <select id="catalog-sort" value={query.sort} onChange={(e) => go({ sort: e.target.value as CatalogQuery["sort"] })}>
              {SORTS.map((s) => (
                <option key={s} value={s}>
                  {SORT_LABELS[s]}
                </option>
              ))}
            </select>
          </div>
          <div className="check">
            <input
              id="catalog-in-stock"
              type="checkbox"
              checked={query.inStock}
              onChange={(e) => go({ inStock: e.target.checked })}
            />
            <label htmlFor="catalog-in-stock">In stock only</label>
          </div>
          {(query.q || query.category || query.inStock || query.sort !== "relevance") && (
            <Link to="/" className="btn btn-ghost btn-small clear-filters">
              Clear all
            </Link>
          )}
        </aside>

        <section className="results" aria-labelledby="catalog-heading" aria-busy={products.loading}>
          <div className="results-bar">
            <p className="result-count" aria-live="polite">
              {page ? plural(page.total, "product") : "\u00a0"}
            </p>
            {products.loading && page && <span className="spinner spinner-small" aria-label="Updating" />}
          </div>
          <ErrorNote error={products.error} onRetry={products.reload} />
          {!page && products.loading && <Loading label="Loading products…" />}
          {page && items.length === 0 && !products.error && (
            <Empty title="No products match">
              <p>Try other words, another category, or clear the filters.</p>
              <Link to="/" className="btn">
                Show all products
              </Link>
            </Empty>
          )}
          {items.length > 0 && (
            <ul className="grid" data-testid="product-grid">
              {items.map((p) => (
                <li key={p.id} className="card" data-testid="product-card">
                  <Link to={`/products/${p.id}`} className="card-link">
                    <ProductArt name={p.name} sku={p.sku} />
                    <span className="card-category">{p.category}</span>
                    <span className="card-name">{p.name}</span>
                  </Link>
                  <div className="card-foot">
                    <Price money={p.price} />
                    <Availability available={p.available} />
                  </div>
                  <AddToCart product={p} compact />
                </li>
              ))}
            </ul>
          )}
          {page && (
            <Pagination
              page={page.page}
              pages={page.pages}
              href={(n) => `/${catalogSearch({ ...query, page: n })}`}
              onPage={(n) => go({ page: n })}
              label="Catalog pages"
            />
          )}
        </section>
      </div>
    </div>
  );
}
