import { act, fireEvent, render, renderHook, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PAGE_SIZE } from "../src/lib/catalogQuery";
import { useDebounced } from "../src/lib/useDebounced";
import { CatalogPage, SEARCH_DEBOUNCE_MS } from "../src/pages/CatalogPage";
import { AuthProvider } from "../src/store/auth";
import { CartProvider } from "../src/store/cart";
import { ToastProvider } from "../src/store/toast";

function anonymous(): Response {
  return new Response(JSON.stringify({ status: 401, title: "Unauthorized" }), {
    status: 401,
    headers: { "Content-Type": "application/problem+json" },
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("useDebounced", () => {
  it("calls back once, with the last arguments, after a pause", () => {
    vi.useFakeTimers();
    const callback = vi.fn();
    const { result } = renderHook(() => useDebounced(callback, 250));
    result.current("b");
    vi.advanceTimersByTime(200);
    result.current("bl");
    vi.advanceTimersByTime(200);
    result.current("blu");
    vi.advanceTimersByTime(249);
    expect(callback).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(callback).toHaveBeenCalledTimes(1);
    expect(callback).toHaveBeenCalledWith("blu");
  });

  it("calls the latest callback, so it sees the current state", () => {
    vi.useFakeTimers();
    const first = vi.fn();
    const second = vi.fn();
    const { result, rerender } = renderHook(({ cb }) => useDebounced(cb, 100), { initialProps: { cb: first } });
    const debounced = result.current;
    debounced("x");
    rerender({ cb: second });
    expect(result.current).toBe(debounced); // stable across renders
    vi.advanceTimersByTime(100);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledWith("x");
  });

  it("drops a pending call when cancelled or unmounted", () => {
    vi.useFakeTimers();
    const callback = vi.fn();
    const { result, unmount } = renderHook(() => useDebounced(callback, 100));
    result.current("a");
    result.current.cancel();
    vi.advanceTimersByTime(500);
    result.current("b");
    unmount();
    vi.advanceTimersByTime(500);
    expect(callback).not.toHaveBeenCalled();
  });
});

function stubApi() {
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      calls.push(url);
      // No session cookie: an anonymous visitor.
      if (url === "/api/v1/me") return anonymous();
      const body = url.startsWith("/api/v1/categories")
        ? { categories: [{ name: "Apparel", count: 2 }] }
        : {
            items: [
              { id: "p1", sku: "APP-SHT-BLU", name: "Blue Shirt", description: "", category: "Apparel",
                price: { amount: 2500, currency: "EUR" }, available: 3, in_stock: true, images: [],
                created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" },
            ],
            page: 1, limit: PAGE_SIZE, total: 1, pages: 1,
          };
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    }),
  );
  return { productCalls: () => calls.filter((c) => c.startsWith("/api/v1/products")) };
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

const box = () => screen.getByLabelText("Search products") as HTMLInputElement;

/** Types into the search box, `gap` ms between keystrokes (fake time). */
function typeSlowly(text: string, gap: number) {
  for (let i = 1; i <= text.length; i++) {
    act(() => {
      fireEvent.change(box(), { target: { value: text.slice(0, i) } });
      vi.advanceTimersByTime(gap);
    });
  }
}

describe("searching as the visitor types", () => {
  it("asks once after typing pauses, not per keystroke, and keeps the URL in step", async () => {
    const api = stubApi();
    renderCatalog();
    await screen.findByText("Blue Shirt");
    const before = api.productCalls().length;
    const push = vi.spyOn(window.history, "pushState");
    const replace = vi.spyOn(window.history, "replaceState");

    vi.useFakeTimers();
    typeSlowly("blue shi", 60);
    expect(api.productCalls().length).toBe(before);
    expect(window.location.search).toBe("");
    act(() => {
      vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS - 60);
    });
    expect(window.location.search).toBe("?q=blue+shi");
    expect(api.productCalls().slice(before)).toEqual([`/api/v1/products?q=blue+shi&sort=relevance&page=1&limit=${PAGE_SIZE}`]);
    expect(push).toHaveBeenCalledTimes(1);

    // Typing on after a pause replaces that history entry rather than adding one per pause.
    typeSlowly("blue shirt", 10);
    act(() => {
      vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    });
    expect(window.location.search).toBe("?q=blue+shirt");
    expect(push).toHaveBeenCalledTimes(1);
    expect(replace).toHaveBeenCalledTimes(1);
    expect(api.productCalls().length).toBe(before + 2);
  });

  it("keeps a trailing space that is being typed", async () => {
    stubApi();
    renderCatalog();
    await screen.findByText("Blue Shirt");
    vi.useFakeTimers();
    typeSlowly("blue ", 10);
    act(() => {
      vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    });
    expect(window.location.search).toBe("?q=blue");
    expect(box().value).toBe("blue ");
  });

  it("searches at once on Enter, without a second request when the pause runs out", async () => {
    const api = stubApi();
    renderCatalog();
    await screen.findByText("Blue Shirt");
    const before = api.productCalls().length;
    vi.useFakeTimers();
    act(() => {
      fireEvent.change(box(), { target: { value: "shirt" } });
      fireEvent.submit(screen.getByRole("search"));
    });
    expect(window.location.search).toBe("?q=shirt");
    act(() => {
      vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS * 2);
    });
    expect(api.productCalls().length).toBe(before + 1);
  });

  it("highlights the searched words in the names of the results", async () => {
    stubApi();
    window.history.replaceState(null, "", "/?q=BLUE+sh");
    renderCatalog();
    const card = await screen.findByTestId("product-card");
    const name = card.querySelector(".card-name") as HTMLElement;
    expect(name.textContent).toBe("Blue Shirt");
    expect([...name.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Blue", "Sh"]);
    expect(name.innerHTML).toBe("<mark>Blue</mark> <mark>Sh</mark>irt");
  });
});
