import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it, vi } from "vitest";
import type { Cart, CartLine, Product } from "../src/api/types";
import { AddToCart } from "../src/components/AddToCart";
import { CartPage } from "../src/pages/CartPage";
import { CheckoutPage } from "../src/pages/CheckoutPage";
import { ProductPage } from "../src/pages/ProductPage";
import { AuthProvider } from "../src/store/auth";
import { CartProvider } from "../src/store/cart";
import { ToastProvider } from "../src/store/toast";

const ME = { id: "u-1", email: "casey@example.com", name: "Casey Customer", role: "customer", created_at: null };
const eur = (amount: number) => ({ amount, currency: "EUR" });

function line(id: string, name: string, price: number, quantity: number, available = true): CartLine {
  return {
    product_id: id, sku: `SKU-${id}`, name, unit_price: eur(price), quantity,
    line_total: eur(price * quantity), available, discount: null,
  };
}

const MUG = line("p-mug", "Stoneware Mug", 1400, 2);
const LAMP = line("p-lamp", "Rattan Pendant Lamp", 7450, 1, false);

function cartOf(items: CartLine[]): Cart {
  // As GET /cart totals today: every line at its current price, the discontinued ones too.
  const total = items.length ? eur(items.reduce((sum, l) => sum + l.line_total.amount, 0)) : null;
  return {
    items,
    subtotal: total,
    discount: null,
    total,
    item_count: items.reduce((sum, l) => sum + l.quantity, 0),
  };
}

function json(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
  });
}

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** A signed-in customer's shop: a cart whose lines can be removed, and products by id. */
function stubShop(lines: CartLine[], products: Record<string, Product> = {}) {
  let cart = [...lines];
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      calls.push({ method, url, headers: { ...(init.headers as Record<string, string>) } });
      const path = url.split("?")[0];
      if (path === "/api/v1/me") return json(200, ME);
      if (path === "/api/v1/cart" && method === "GET") return json(200, cartOf(cart));
      const item = /^\/api\/v1\/cart\/items\/(.+)$/.exec(path);
      if (item && method === "DELETE") {
        cart = cart.filter((l) => l.product_id !== decodeURIComponent(item[1]));
        return json(202, { id: ME.id, position: "42", version: 7 });
      }
      const product = /^\/api\/v1\/products\/(.+)$/.exec(path);
      if (product && method === "GET" && products[product[1]]) return json(200, products[product[1]]);
      return json(404, { status: 404, title: "Not Found", type: "/problems/not_found", detail: "Nothing here." });
    }),
  );
  return { calls };
}

function renderSignedIn(children: ReactNode) {
  return render(
    <AuthProvider>
      <CartProvider>
        <ToastProvider>{children}</ToastProvider>
      </CartProvider>
    </AuthProvider>,
  );
}

const lineOf = (name: string) =>
  screen.getAllByTestId("cart-line").find((li) => li.querySelector(".cart-line-name")?.textContent === name) as HTMLElement;

/** Waits for the cart to show these products' lines, in order. */
async function linesShown(...names: string[]) {
  await waitFor(() =>
    expect(screen.getAllByTestId("cart-line").map((li) => li.querySelector(".cart-line-name")?.textContent)).toEqual(names),
  );
}

describe("a cart line that is no longer available", () => {
  it("is marked as such, can only be removed, and keeps checkout disabled with the reason", async () => {
    stubShop([MUG, LAMP]);
    renderSignedIn(<CartPage />);
    await linesShown("Stoneware Mug", "Rattan Pendant Lamp");

    const lamp = lineOf("Rattan Pendant Lamp");
    expect(lamp.getAttribute("data-available")).toBe("false");
    expect(within(lamp).getByText("No longer available")).toBeTruthy();
    // No quantity to change, no link to a product page that is gone; removing it is what is offered.
    expect(within(lamp).queryByRole("group", { name: "Quantity of Rattan Pendant Lamp" })).toBeNull();
    expect(within(lamp).queryByRole("link")).toBeNull();
    expect(within(lamp).getByText("Quantity: 1")).toBeTruthy();
    expect(within(lamp).getByRole("button", { name: "Remove Rattan Pendant Lamp" })).toBeTruthy();

    // The line that is still sold is as it always was.
    const mug = lineOf("Stoneware Mug");
    expect(mug.getAttribute("data-available")).toBe("true");
    expect(within(mug).queryByText("No longer available")).toBeNull();
    expect(within(mug).getByRole("group", { name: "Quantity of Stoneware Mug" })).toBeTruthy();

    // Checkout is a disabled button that says why, not a link.
    expect(screen.queryByRole("link", { name: "Check out" })).toBeNull();
    const checkout = screen.getByRole("button", { name: "Check out" }) as HTMLButtonElement;
    expect(checkout.disabled).toBe(true);
    const reason = document.getElementById(checkout.getAttribute("aria-describedby") ?? "");
    expect(reason?.textContent).toBe("Rattan Pendant Lamp is no longer available. Remove it from your cart to check out.");

    // The total is the server's, which still counts the line until it is removed.
    const summary = screen.getByRole("complementary", { name: "Order summary" });
    expect(within(summary).getAllByText("€102.50").length).toBeGreaterThan(0);
  });

  it("lets the customer remove it, after which checkout is offered again", async () => {
    const shop = stubShop([MUG, LAMP]);
    renderSignedIn(<CartPage />);
    await linesShown("Stoneware Mug", "Rattan Pendant Lamp");

    fireEvent.click(screen.getByRole("button", { name: "Remove Rattan Pendant Lamp" }));
    await linesShown("Stoneware Mug");

    expect(shop.calls.some((c) => c.method === "DELETE" && c.url === "/api/v1/cart/items/p-lamp")).toBe(true);
    // The cart is read back at the removal's position (read-your-writes).
    expect(shop.calls.some((c) => c.url === "/api/v1/cart" && c.headers["X-Min-Position"] === "42")).toBe(true);
    expect(screen.getByRole("link", { name: "Check out" }).getAttribute("href")).toBe("/checkout");
    expect(screen.queryByRole("button", { name: "Check out" })).toBeNull();
    expect(screen.queryByTestId("checkout-blocked")).toBeNull();
  });

  it("says how many when there are several", async () => {
    stubShop([MUG, LAMP, line("p-pen", "Brass Fountain Pen", 4500, 1, false)]);
    renderSignedIn(<CartPage />);
    await linesShown("Stoneware Mug", "Rattan Pendant Lamp", "Brass Fountain Pen");
    expect(screen.getByTestId("checkout-blocked").textContent).toBe(
      "2 items in your cart are no longer available. Remove them from your cart to check out.",
    );
  });
});

describe("checkout with a line that is no longer available", () => {
  it("disables Place order with the reason before anything is sent", async () => {
    const shop = stubShop([MUG, LAMP]);
    renderSignedIn(<CheckoutPage />);
    const place = (await screen.findByRole("button", { name: "Place order" })) as HTMLButtonElement;
    await waitFor(() => expect(place.disabled).toBe(true));
    const reason = document.getElementById(place.getAttribute("aria-describedby") ?? "");
    expect(reason?.textContent).toBe("Rattan Pendant Lamp is no longer available. Remove it from your cart to check out.");

    // The summary marks the line; the customer can go back to the cart to remove it.
    const summary = screen.getByRole("complementary", { name: "Order summary" });
    expect(within(summary).getByText("No longer available")).toBeTruthy();
    expect(within(summary).getByRole("link", { name: "Edit cart" }).getAttribute("href")).toBe("/cart");

    // Even a submit (Enter in a field) places no order.
    fireEvent.submit(screen.getByRole("form", { name: "Checkout" }));
    expect(shop.calls.some((c) => c.url === "/api/v1/cart/checkout")).toBe(false);
  });

  it("leaves Place order enabled when every line is available", async () => {
    stubShop([MUG]);
    renderSignedIn(<CheckoutPage />);
    await screen.findByText("2 × Stoneware Mug");
    const place = screen.getByRole("button", { name: "Place order" }) as HTMLButtonElement;
    expect(place.disabled).toBe(false);
    expect(place.getAttribute("aria-describedby")).toBeNull();
    expect(screen.queryByTestId("checkout-blocked")).toBeNull();
  });
});

function product(overrides: Partial<Product> = {}): Product {
  return {
    id: "p-vase", sku: "HOM-VAS-01", name: "Clay Vase", description: "A vase.", category: "Home",
    price: eur(3900), available: 10, in_stock: true, images: [], created_at: null, updated_at: null,
    ...overrides,
  };
}

describe("a product without a price", () => {
  it("says so on its page and cannot be added to the cart", async () => {
    stubShop([], { "p-vase": product({ price: null }) });
    renderSignedIn(<ProductPage id="p-vase" />);
    await screen.findByRole("heading", { name: "Clay Vase" });
    expect(screen.getByText("Price unavailable")).toBeTruthy();
    const button = screen.getByRole("button", { name: "Unavailable" }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(document.getElementById(button.getAttribute("aria-describedby") ?? "")?.textContent).toMatch(
      /no price right now, so it cannot be added to the cart/,
    );
    expect(screen.queryByLabelText("Quantity")).toBeNull();
  });

  it("is not offered from a catalog card either, even when the price is left out entirely", async () => {
    stubShop([]);
    const { price: _left_out, ...unpriced } = product();
    renderSignedIn(<AddToCart product={unpriced} compact />);
    const button = screen.getByRole("button", { name: "Add Clay Vase to cart" }) as HTMLButtonElement;
    expect(button.textContent).toBe("Unavailable");
    expect(button.disabled).toBe(true);
  });

  it("is offered as usual when it has one", async () => {
    stubShop([], { "p-vase": product() });
    renderSignedIn(<ProductPage id="p-vase" />);
    await screen.findByRole("heading", { name: "Clay Vase" });
    expect(screen.getByText("€39.00")).toBeTruthy();
    expect(screen.queryByText("Price unavailable")).toBeNull();
    await waitFor(() =>
      expect((screen.getByRole("button", { name: "Add to cart" }) as HTMLButtonElement).disabled).toBe(false),
    );
  });
});
