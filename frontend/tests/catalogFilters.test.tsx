import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { CatalogFacets } from "../src/api/types";
import { CatalogFilters, priceBucketLabel } from "../src/components/CatalogFilters";
import { DEFAULT_QUERY, PAGE_SIZE, priceBucketRange, type CatalogQuery } from "../src/lib/catalogQuery";
import { CatalogPage } from "../src/pages/CatalogPage";
import { AuthProvider } from "../src/store/auth";
import { CartProvider } from "../src/store/cart";
import { ToastProvider } from "../src/store/toast";

function anonymous(): Response {
  return new Response(JSON.stringify({ status: 401, title: "Unauthorized" }), {
    status: 401,
    headers: { "Content-Type": "application/problem+json" },
  });
}

const FACETS: CatalogFacets = {
  categories: [
    { name: "Kitchen", count: 4 },
    { name: "Apparel", count: 3 },
    { name: "Home", count: 1 },
  ],
  price: [
    { min: 0, max: 10, count: 1 },
    { min: 10, max: 25, count: 5 },
    { min: 100, max: 250, count: 2 },
    { min: 250, max: null, count: 1 },
  ],
  in_stock: 7,
};

/** `facets: null` renders the sidebar as for a server that sends none. */
function renderFilters(query: Partial<CatalogQuery>, facets: CatalogFacets | null = FACETS) {
  const onChange = vi.fn();
  render(
    <CatalogFilters
      query={{ ...DEFAULT_QUERY, ...query }}
      facets={facets ?? undefined}
      categories={[{ name: "Kitchen", count: 30 }]}
      currency="EUR"
      onChange={onChange}
    />,
  );
  return onChange;
}

const group = (name: string) => screen.getByRole("group", { name });
const option = (groupName: string, name: string) => within(group(groupName)).getByRole("button", { name });
const description = (el: HTMLElement) =>
  document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent ?? "";

describe("price buckets", () => {
  it("become filters in minor units, both ends inclusive", () => {
    expect(priceBucketRange({ min: 0, max: 10 }, "EUR")).toEqual({ minPrice: null, maxPrice: 999 });
    expect(priceBucketRange({ min: 10, max: 25 }, "EUR")).toEqual({ minPrice: 1000, maxPrice: 2499 });
    expect(priceBucketRange({ min: 250, max: null }, "EUR")).toEqual({ minPrice: 25000, maxPrice: null });
    expect(priceBucketRange({ min: 250 }, "EUR")).toEqual({ minPrice: 25000, maxPrice: null });
    expect(priceBucketRange({ min: 10, max: 25 }, "JPY")).toEqual({ minPrice: 10, maxPrice: 24 });
  });

  it("are named in the catalog's currency", () => {
    expect(priceBucketLabel({ min: 0, max: 10 }, "EUR")).toBe("Under €10");
    expect(priceBucketLabel({ min: 10, max: 25 }, "EUR")).toBe("€10–€25");
    expect(priceBucketLabel({ min: 250, max: null }, "EUR")).toBe("€250 and over");
    expect(priceBucketLabel({ min: 250 }, "USD")).toBe("$250 and over");
  });
});

describe("the catalog's filter sidebar", () => {
  it("without facets is what it always was: a category select, the sort and the stock box", () => {
    renderFilters({}, null);
    expect(screen.getByLabelText("Category").tagName).toBe("SELECT");
    expect(screen.getByRole("option", { name: "Kitchen (30)" })).toBeTruthy();
    expect(screen.queryByRole("group")).toBeNull();
    expect(screen.getByLabelText("In stock only").getAttribute("aria-describedby")).toBeNull();
    expect(document.querySelector(".facet-count")).toBeNull();
  });

  it("lists the categories with their counts, the chosen one pressed", () => {
    renderFilters({ category: "Apparel" });
    expect(screen.queryByLabelText("Category", { selector: "select" })).toBeNull();
    const kitchen = option("Category", "Kitchen");
    expect(description(kitchen)).toBe("4 products");
    expect(kitchen.getAttribute("aria-pressed")).toBe("false");
    expect(option("Category", "Apparel").getAttribute("aria-pressed")).toBe("true");
    expect(description(option("Category", "Home"))).toBe("1 product");
    expect(option("Category", "All categories").getAttribute("aria-pressed")).toBe("false");
  });

  it("filters by a category when one is clicked, and undoes it when the chosen one is", () => {
    const onChange = renderFilters({ category: "Apparel" });
    fireEvent.click(option("Category", "Kitchen"));
    expect(onChange).toHaveBeenLastCalledWith({ category: "Kitchen" });
    fireEvent.click(option("Category", "Apparel"));
    expect(onChange).toHaveBeenLastCalledWith({ category: "" });
    fireEvent.click(option("Category", "All categories"));
    expect(onChange).toHaveBeenLastCalledWith({ category: "" });
  });

  it("keeps a chosen category that the counts leave out, so it can be undone", () => {
    renderFilters({ category: "Garden" });
    const garden = option("Category", "Garden");
    expect(garden.getAttribute("aria-pressed")).toBe("true");
    expect(description(garden)).toBe("0 products");
  });

  it("offers the price ranges with counts and sets min_price and max_price from one", () => {
    const onChange = renderFilters({});
    const names = within(group("Price"))
      .getAllByRole("button")
      .map((b) => b.getAttribute("aria-label"));
    expect(names).toEqual(["Any price", "Under €10", "€10–€25", "€100–€250", "€250 and over"]);
    expect(option("Price", "Any price").getAttribute("aria-pressed")).toBe("true");
    expect(description(option("Price", "€10–€25"))).toBe("5 products");

    fireEvent.click(option("Price", "€10–€25"));
    expect(onChange).toHaveBeenLastCalledWith({ minPrice: 1000, maxPrice: 2499 });
    fireEvent.click(option("Price", "€250 and over"));
    expect(onChange).toHaveBeenLastCalledWith({ minPrice: 25000, maxPrice: null });
  });

  it("shows the chosen price range pressed, and clears it from there or from Any price", () => {
    const onChange = renderFilters({ minPrice: 1000, maxPrice: 2499 });
    expect(option("Price", "€10–€25").getAttribute("aria-pressed")).toBe("true");
    expect(option("Price", "Any price").getAttribute("aria-pressed")).toBe("false");
    fireEvent.click(option("Price", "€10–€25"));
    expect(onChange).toHaveBeenLastCalledWith({ minPrice: null, maxPrice: null });
    fireEvent.click(option("Price", "Any price"));
    expect(onChange).toHaveBeenLastCalledWith({ minPrice: null, maxPrice: null });
  });

  it("gives the in-stock toggle its count", () => {
    const onChange = renderFilters({});
    const box = screen.getByLabelText("In stock only");
    expect(description(box)).toBe("7 products");
    fireEvent.click(box);
    expect(onChange).toHaveBeenLastCalledWith({ inStock: true });
  });

  it("offers to clear a price filter like any other", () => {
    renderFilters({ minPrice: 1000 });
    expect(screen.getByRole("link", { name: "Clear all" }).getAttribute("href")).toBe("/");
  });
});

function product(n: number, category = "Kitchen") {
  return {
    id: `p${n}`, sku: `SKU-${n}`, name: `Product ${n}`, description: "", category,
    price: { amount: 1000 + n, currency: "EUR" }, available: 3, in_stock: true, images: [],
    created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z",
  };
}

/** The API as a server with facets answers: the category facet ignores the category filter. */
function stubFacetedApi() {
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      calls.push(url);
      // No session cookie: an anonymous visitor.
      if (url === "/api/v1/me") return anonymous();
      const params = new URL(url, "http://shop").searchParams;
      const category = params.get("category");
      const body = url.startsWith("/api/v1/categories")
        ? { categories: [{ name: "Kitchen", count: 30 }, { name: "Apparel", count: 4 }] }
        : {
            items: category === "Apparel" ? [product(3, "Apparel")] : [product(1), product(2)],
            page: 1, limit: PAGE_SIZE, total: category === "Apparel" ? 3 : 7, pages: 1,
            facets: {
              categories: [{ name: "Kitchen", count: 4 }, { name: "Apparel", count: 3 }],
              price: [{ min: 10, max: 25, count: category === "Apparel" ? 3 : 7 }],
              in_stock: category === "Apparel" ? 2 : 6,
            },
          };
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    }),
  );
  return calls;
}

function renderCatalog() {
  return render(
    <AuthProvider>
      <CartProvider>
        <ToastProvider>
          <CatalogPage />
        </ToastProvider>
      </CartProvider>
    </AuthProvider>,
  );
}

describe("the catalog page with facets", () => {
  it("filters from the sidebar, keeping the other categories' counts, and puts it in the URL", async () => {
    const calls = stubFacetedApi();
    window.history.replaceState(null, "", "/?q=mug");
    renderCatalog();
    await screen.findByText("Product 1");
    expect(description(option("Category", "Apparel"))).toBe("3 products");
    expect(description(screen.getByLabelText("In stock only"))).toBe("6 products");

    act(() => {
      fireEvent.click(option("Category", "Apparel"));
    });
    expect(window.location.search).toBe("?q=mug&category=Apparel");
    await screen.findByText("Product 3");
    expect(option("Category", "Apparel").getAttribute("aria-pressed")).toBe("true");
    expect(description(option("Category", "Kitchen"))).toBe("4 products");
    expect(description(screen.getByLabelText("In stock only"))).toBe("2 products");

    act(() => {
      fireEvent.click(option("Price", "€10–€25"));
    });
    expect(window.location.search).toBe("?q=mug&category=Apparel&min_price=1000&max_price=2499");
    await waitFor(() =>
      expect(calls).toContain(
        `/api/v1/products?q=mug&category=Apparel&min_price=1000&max_price=2499&sort=relevance&page=1&limit=${PAGE_SIZE}`,
      ),
    );
    await waitFor(() => expect(option("Price", "€10–€25").getAttribute("aria-pressed")).toBe("true"));
  });
});
