import { useEffect, useRef, useState, type FormEvent } from "react";
import { listCategories, listProducts } from "../api/catalog";
import { AddToCart } from "../components/AddToCart";
import { CatalogFilters } from "../components/CatalogFilters";
import { Highlight } from "../components/Highlight";
import { ProductPicture } from "../components/ProductPicture";
import { Availability, Empty, ErrorNote, Loading, NO_PRICE, Pagination, Price } from "../components/ui";
import {
  catalogSearch,
  parseCatalogQuery,
  productsApiQuery,
  updateCatalogQuery,
  type CatalogQuery,
} from "../lib/catalogQuery";
import { plural } from "../lib/format";
import { useTitle } from "../lib/page";
import { Link, navigate, useLocation } from "../lib/router";
import { useDebounced } from "../lib/useDebounced";
import { useFetch } from "../lib/useFetch";

/** Marked once per page load when the first products are on screen; the e2e run reads it. */
const FIRST_PRODUCT_MARK = "shop:first-product";

/** How long typing must pause before the results follow the search box. */
export const SEARCH_DEBOUNCE_MS = 250;

/** The currency that price facets are in when no product on screen says it. */
const DEFAULT_CURRENCY = "EUR";

export function CatalogPage() {
  const { search } = useLocation();
  const query = parseCatalogQuery(search);
  const apiQuery = productsApiQuery(query);
  const products = useFetch(apiQuery.toString(), (signal) => listProducts(apiQuery, { signal }));
  const categories = useFetch("categories", (signal) => listCategories({ signal }));
  const [text, setText] = useState(query.q);
  // The box follows the URL when it changes from elsewhere (back button, a link), but keeps what is being typed
  // ("blue " while the results show "blue").
  useEffect(() => setText((typed) => (typed.trim() === query.q ? typed : query.q)), [query.q]);

  useTitle(query.q ? `Search: ${query.q}` : query.category || "Catalog");

  const go = (change: Partial<CatalogQuery>) =>
    navigate(`/${catalogSearch(updateCatalogQuery(query, change))}`, { keepScroll: !("page" in change) });

  // The history entry that typing made last: further typing replaces it instead of adding one per pause.
  const typedEntry = useRef<string | null>(null);
  const searchAsTyped = useDebounced((typed: string) => {
    const q = typed.trim();
    if (q === query.q) return;
    const to = `/${catalogSearch(updateCatalogQuery(query, { q }))}`;
    const here = window.location.pathname + window.location.search;
    navigate(to, { keepScroll: true, replace: here === typedEntry.current });
    typedEntry.current = to;
  }, SEARCH_DEBOUNCE_MS);

  function onSearch(e: FormEvent) {
    e.preventDefault();
    searchAsTyped.cancel();
    go({ q: text.trim() });
  }

  const page = products.data;
  const items = page?.items ?? [];
  // Price facets are in the catalog's currency; the products on screen say which it is.
  const lastCurrency = useRef(DEFAULT_CURRENCY);
  const shownCurrency = items.find((p) => p.price)?.price?.currency;
  if (shownCurrency) lastCurrency.current = shownCurrency;
  const currency = lastCurrency.current;
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
            onChange={(e) => {
              setText(e.target.value);
              searchAsTyped(e.target.value);
            }}
            autoComplete="off"
            maxLength={200}
          />
          <button type="submit" className="btn">
            Search
          </button>
        </form>
      </section>

      <div className="catalog">
        <CatalogFilters
          query={query}
          facets={page?.facets}
          categories={categories.data?.categories}
          currency={currency}
          onChange={go}
        />

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
                    <ProductPicture product={p} />
                    <span className="card-category">{p.category}</span>
                    <span className="card-name">
                      <Highlight text={p.name} query={query.q} />
                    </span>
                  </Link>
                  <div className="card-foot">
                    <Price money={p.price} missing={NO_PRICE} />
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
