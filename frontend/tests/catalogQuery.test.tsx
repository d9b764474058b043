import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import {
  catalogSearch,
  DEFAULT_QUERY,
  PAGE_SIZE,
  pageWindow,
  parseCatalogQuery,
  productsApiQuery,
  updateCatalogQuery,
} from "../src/lib/catalogQuery";
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

describe("catalog URL state", () => {
  it("reads every part from the query string", () => {
    expect(
      parseCatalogQuery("?q=blue+shirt&category=Apparel&min_price=1000&max_price=2499&sort=price_desc&in_stock=true&page=3"),
    ).toEqual({
      q: "blue shirt",
      category: "Apparel",
      sort: "price_desc",
      minPrice: 1000,
      maxPrice: 2499,
      inStock: true,
      page: 3,
    });
  });

  it("falls back to defaults for missing or hand-mangled values", () => {
    expect(parseCatalogQuery("")).toEqual(DEFAULT_QUERY);
    expect(parseCatalogQuery("?sort=cheapest&page=-2&in_stock=yes")).toEqual(DEFAULT_QUERY);
    expect(parseCatalogQuery("?page=1.5").page).toBe(1);
    expect(parseCatalogQuery("?page=abc").page).toBe(1);
    expect(parseCatalogQuery("?min_price=-5&max_price=12.5")).toEqual(DEFAULT_QUERY);
  });

  it("writes only what differs from the defaults", () => {
    expect(catalogSearch(DEFAULT_QUERY)).toBe("");
    expect(catalogSearch({ ...DEFAULT_QUERY, q: "  mug ", page: 2 })).toBe("?q=mug&page=2");
    expect(catalogSearch({ ...DEFAULT_QUERY, category: "Home & Garden" })).toBe("?category=Home+%26+Garden");
  });

  it("round-trips", () => {
    const state = {
      q: "café crème",
      category: "Kitchen",
      sort: "name" as const,
      minPrice: 0,
      maxPrice: 999,
      inStock: true,
      page: 4,
    };
    expect(parseCatalogQuery(catalogSearch(state))).toEqual(state);
  });

  it("goes back to page 1 when the search changes, but not when only the page does", () => {
    const on3 = { ...DEFAULT_QUERY, q: "mug", page: 3 };
    expect(updateCatalogQuery(on3, { sort: "price_asc" }).page).toBe(1);
    expect(updateCatalogQuery(on3, { category: "Kitchen" }).page).toBe(1);
    expect(updateCatalogQuery(on3, { minPrice: 1000, maxPrice: 2499 }).page).toBe(1);
    expect(updateCatalogQuery(on3, { q: "mug" }).page).toBe(3);
    expect(updateCatalogQuery(on3, { page: 4 }).page).toBe(4);
  });

  it("asks the API for one page of the state", () => {
    const params = productsApiQuery({ ...DEFAULT_QUERY, q: "mug", inStock: true, page: 2 });
    expect(params.toString()).toBe(`q=mug&sort=relevance&in_stock=true&page=2&limit=${PAGE_SIZE}`);
    const priced = productsApiQuery({ ...DEFAULT_QUERY, category: "Kitchen", minPrice: 1000, maxPrice: 2499 });
    expect(priced.toString()).toBe(`category=Kitchen&min_price=1000&max_price=2499&sort=relevance&page=1&limit=${PAGE_SIZE}`);
  });

  it("offers the first, last and nearby pages", () => {
    expect(pageWindow(1, 1)).toEqual([1]);
    expect(pageWindow(5, 10)).toEqual([1, null, 4, 5, 6, null, 10]);
    expect(pageWindow(2, 4)).toEqual([1, 2, 3, 4]);
  });
});

function product(n: number) {
  return {
    id: `p${n}`, sku: `SKU-${n}`, name: `Product ${n}`, description: "", category: "Kitchen",
    price: { amount: 1000 + n, currency: "EUR" }, available: 3, in_stock: true, images: [],
    created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z",
  };
}

function stubApi() {
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      calls.push(url);
      // No session cookie: an anonymous visitor.
      if (url === "/api/v1/me") return anonymous();
      const body = url.startsWith("/api/v1/categories")
        ? { categories: [{ name: "Kitchen", count: 30 }, { name: "Home", count: 4 }] }
        : { items: [product(1), product(2)], page: 2, limit: PAGE_SIZE, total: 30, pages: 3 };
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

describe("the catalog page", () => {
  it("shows the state in the URL and asks the API for it", async () => {
    const calls = stubApi();
    window.history.replaceState(null, "", "/?q=mug&sort=price_desc&page=2");
    renderCatalog();
    await screen.findByText("Product 1");
    expect((screen.getByLabelText("Search products") as HTMLInputElement).value).toBe("mug");
    expect((screen.getByLabelText("Sort by") as HTMLSelectElement).value).toBe("price_desc");
    expect(calls).toContain(`/api/v1/products?q=mug&sort=price_desc&page=2&limit=${PAGE_SIZE}`);
    expect(screen.getByRole("link", { name: "Page 2" }).getAttribute("aria-current")).toBe("page");
    expect(screen.getByRole("link", { name: "Next page" }).getAttribute("href")).toBe("/?q=mug&sort=price_desc&page=3");
    expect(screen.getByText("€10.01")).toBeTruthy();
    // A server without facets: the sidebar is as it always was.
    expect(screen.getByLabelText("Category").tagName).toBe("SELECT");
    expect(screen.queryByRole("group")).toBeNull();
  });

  it("puts filter changes in the URL, back on page 1", async () => {
    const calls = stubApi();
    window.history.replaceState(null, "", "/?q=mug&page=2");
    renderCatalog();
    await screen.findByText("Product 1");
    await screen.findByRole("option", { name: "Kitchen (30)" });

    act(() => {
      fireEvent.change(screen.getByLabelText("Category"), { target: { value: "Kitchen" } });
    });
    expect(window.location.search).toBe("?q=mug&category=Kitchen");
    await waitFor(() => expect(calls).toContain(`/api/v1/products?q=mug&category=Kitchen&sort=relevance&page=1&limit=${PAGE_SIZE}`));

    fireEvent.change(screen.getByLabelText("Search products"), { target: { value: "  pan " } });
    act(() => {
      fireEvent.submit(screen.getByRole("search"));
    });
    expect(window.location.search).toBe("?q=pan&category=Kitchen");

    act(() => {
      fireEvent.click(screen.getByRole("link", { name: "Page 3" }));
    });
    expect(window.location.search).toBe("?q=pan&category=Kitchen&page=3");

    // The back button restores the previous state, and the search box follows it.
    await act(async () => {
      window.history.back();
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(window.location.search).toBe("?q=pan&category=Kitchen");
  });
});
