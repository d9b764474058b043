/**
 * The catalog's sidebar, with its facets: categories and price ranges with how many products each would show,
 * and the in-stock toggle with its count. The counts come from `GET /products` (`facets`); each one leaves its own
 * filter out, so choosing a category still shows what the other categories hold.
 */
import { useId, type ReactNode } from "react";
import type { CatalogFacets, Category, PriceBucket } from "../api/types";
import {
  isFiltered,
  priceBucketRange,
  SORT_LABELS,
  SORTS,
  type CatalogQuery,
  type Sort,
} from "../lib/catalogQuery";
import { formatMoneyShort, majorToMinor } from "../lib/money";
import { Link } from "../lib/router";

type Change = (change: Partial<CatalogQuery>) => void;

/** One choice of a facet: a toggle button named by its label, its count read as its description. */
function FacetOption({
  label,
  count,
  selected,
  onSelect,
}: {
  label: string;
  count?: number;
  selected: boolean;
  onSelect: () => void;
}) {
  const countId = useId();
  return (
    <li>
      <button
        type="button"
        className="facet-option"
        aria-pressed={selected}
        aria-label={label}
        aria-describedby={count === undefined ? undefined : countId}
        onClick={onSelect}
      >
        <span className="facet-name">{label}</span>
        {count !== undefined && (
          <span className="facet-count" id={countId}>
            {count}
            <span className="visually-hidden"> {count === 1 ? "product" : "products"}</span>
          </span>
        )}
      </button>
    </li>
  );
}

function FacetGroup({ title, children }: { title: string; children: ReactNode }) {
  const titleId = useId();
  return (
    <div className="facet" role="group" aria-labelledby={titleId}>
      <h2 className="facet-title" id={titleId}>
        {title}
      </h2>
      <ul className="facet-list">{children}</ul>
    </div>
  );
}

function CategoryFacet({
  categories,
  selected,
  onChange,
}: {
  categories: Category[];
  selected: string;
  onChange: Change;
}) {
  // A chosen category that nothing else matches is left out of the counts; it stays listed so it can be undone.
  const shown =
    selected && !categories.some((c) => c.name === selected) ? [...categories, { name: selected, count: 0 }] : categories;
  return (
    <FacetGroup title="Category">
      <FacetOption label="All categories" selected={!selected} onSelect={() => onChange({ category: "" })} />
      {shown.map((c) => (
        <FacetOption
          key={c.name}
          label={c.name}
          count={c.count}
          selected={c.name === selected}
          onSelect={() => onChange({ category: c.name === selected ? "" : c.name })}
        />
      ))}
    </FacetGroup>
  );
}

/** "Under €10", "€10–€25", "€250 and over". */
export function priceBucketLabel(bucket: Pick<PriceBucket, "min" | "max">, currency: string): string {
  const at = (major: number) => formatMoneyShort({ amount: majorToMinor(major, currency), currency });
  const hasMax = bucket.max !== null && bucket.max !== undefined;
  if (bucket.min <= 0) return hasMax ? `Under ${at(bucket.max!)}` : "Any price";
  return hasMax ? `${at(bucket.min)}–${at(bucket.max!)}` : `${at(bucket.min)} and over`;
}

function PriceFacet({
  buckets,
  currency,
  minPrice,
  maxPrice,
  onChange,
}: {
  buckets: PriceBucket[];
  /** The catalog's currency, in which the buckets' bounds are. */
  currency: string;
  minPrice: number | null;
  maxPrice: number | null;
  onChange: Change;
}) {
  const anyPrice = minPrice === null && maxPrice === null;
  return (
    <FacetGroup title="Price">
      <FacetOption label="Any price" selected={anyPrice} onSelect={() => onChange({ minPrice: null, maxPrice: null })} />
      {buckets.map((bucket) => {
        const range = priceBucketRange(bucket, currency);
        const selected = range.minPrice === minPrice && range.maxPrice === maxPrice;
        return (
          <FacetOption
            key={`${bucket.min}-${bucket.max ?? ""}`}
            label={priceBucketLabel(bucket, currency)}
            count={bucket.count}
            selected={selected}
            onSelect={() => onChange(selected ? { minPrice: null, maxPrice: null } : range)}
          />
        );
      })}
    </FacetGroup>
  );
}

/** The in-stock filter; with facets it also says how many matching products are in stock. */
function InStockToggle({ checked, count, onChange }: { checked: boolean; count?: number; onChange: Change }) {
  const countId = useId();
  return (
    <div className="check">
      <input
        id="catalog-in-stock"
        type="checkbox"
        checked={checked}
        aria-describedby={count === undefined ? undefined : countId}
        onChange={(e) => onChange({ inStock: e.target.checked })}
      />
      <label htmlFor="catalog-in-stock">In stock only</label>
      {count !== undefined && (
        <span className="facet-count" id={countId} data-testid="in-stock-count">
          {count}
          <span className="visually-hidden"> {count === 1 ? "product" : "products"}</span>
        </span>
      )}
    </div>
  );
}

/**
 * The catalog's sidebar. Without `facets` (a server that does not count them) it is the category list of
 * `GET /categories`, the sort and the in-stock box; with them, categories and price ranges with their counts.
 */
export function CatalogFilters({
  query,
  facets,
  categories,
  currency,
  onChange,
}: {
  query: CatalogQuery;
  facets: CatalogFacets | undefined;
  /** The whole catalog's categories, for the select shown when there are no facets. */
  categories: Category[] | undefined;
  /** The catalog's currency, in which price buckets are given. */
  currency: string;
  onChange: Change;
}) {
  const priced = query.minPrice !== null || query.maxPrice !== null;
  return (
    <aside className={`filters${facets ? " filters-faceted" : ""}`} aria-label="Filters">
      {facets ? (
        <CategoryFacet categories={facets.categories ?? []} selected={query.category} onChange={onChange} />
      ) : (
        <CategorySelect categories={categories} selected={query.category} onChange={onChange} />
      )}
      <div className="field">
        <label htmlFor="catalog-sort">Sort by</label>
        <select id="catalog-sort" value={query.sort} onChange={(e) => onChange({ sort: e.target.value as Sort })}>
          {SORTS.map((s) => (
            <option key={s} value={s}>
              {SORT_LABELS[s]}
            </option>
          ))}
        </select>
      </div>
      {facets && ((facets.price?.length ?? 0) > 0 || priced) && (
        <PriceFacet
          buckets={facets.price ?? []}
          currency={currency}
          minPrice={query.minPrice}
          maxPrice={query.maxPrice}
          onChange={onChange}
        />
      )}
      <InStockToggle checked={query.inStock} count={facets?.in_stock} onChange={onChange} />
      {isFiltered(query) && (
        <Link to="/" className="btn btn-ghost btn-small clear-filters">
          Clear all
        </Link>
      )}
    </aside>
  );
}

function CategorySelect({
  categories,
  selected,
  onChange,
}: {
  categories: Category[] | undefined;
  selected: string;
  onChange: Change;
}) {
  return (
    <div className="field">
      <label htmlFor="catalog-category">Category</label>
      <select id="catalog-category" value={selected} onChange={(e) => onChange({ category: e.target.value })}>
        <option value="">All categories</option>
        {(categories ?? []).map((c) => (
          <option key={c.name} value={c.name}>
            {c.name} ({c.count})
          </option>
        ))}
        {selected && !categories?.some((c) => c.name === selected) && <option value={selected}>{selected}</option>}
      </select>
    </div>
  );
}
