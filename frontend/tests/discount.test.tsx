import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it, vi } from "vitest";
import { AdminPromotionsPage, NewPromotionPage } from "../src/admin/PromotionAdmin";
import type { Cart, CartLine, Order, Promotion } from "../src/api/types";
import { OrderItems } from "../src/components/OrderDetails";
import { CartPage } from "../src/pages/CartPage";
import { CheckoutPage } from "../src/pages/CheckoutPage";
import { AuthProvider } from "../src/store/auth";
import { CartProvider } from "../src/store/cart";
import { ToastProvider } from "../src/store/toast";

const ME = { id: "u-1", email: "casey@example.com", name: "Casey Customer", role: "customer", created_at: null };
const eur = (amount: number) => ({ amount, currency: "EUR" });
const MINUS = "\u2212";

function line(id: string, name: string, price: number, quantity: number, discount: number | null = null): CartLine {
  return {
    product_id: id, sku: `SKU-${id}`, name, unit_price: eur(price), quantity,
    line_total: eur(price * quantity), available: true, discount: discount === null ? null : eur(discount),
  };
}

const MUG = line("p-mug", "Stoneware Mug", 1400, 2);
const PEN = line("p-pen", "Brass Fountain Pen", 4500, 1);

/** GET /cart as the contract has it: `total` is the subtotal less what the code takes off. */
function cartOf(items: CartLine[], discount: { code: string; percent: number; reason?: string } | null): Cart {
  const subtotal = items.reduce((sum, l) => sum + l.line_total.amount, 0);
  const off = (l: CartLine) => (discount && !discount.reason ? Math.round((l.line_total.amount * discount.percent) / 100) : 0);
  const lines = items.map((l) => ({ ...l, discount: discount && !discount.reason ? eur(off(l)) : null }));
  const taken = lines.reduce((sum, l) => sum + off(l), 0);
  return {
    items: lines,
    subtotal: items.length ? eur(subtotal) : null,
    discount: discount ? { code: discount.code, amount: eur(taken), reason: discount.reason ?? null } : null,
    total: items.length ? eur(subtotal - taken) : null,
    item_count: items.reduce((sum, l) => sum + l.quantity, 0),
  };
}

function json(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: body === undefined ? {} : { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });
}

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

type Route = (method: string, path: string, body: unknown) => Response | undefined;

/** A signed-in user's shop: `route` answers what the test is about; /me is always there. */
function stubShop(route: Route) {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
      calls.push({ method, url, headers: { ...(init.headers as Record<string, string>) }, body });
      const path = url.split("?")[0];
      if (path === "/api/v1/me") return json(200, ME);
      return (
        route(method, path, body) ??
        json(404, { status: 404, title: "Not Found", type: "/problems/not_found", detail: "Nothing here." })
      );
    }),
  );
  return { calls };
}

/** A cart that a code can be applied to and removed from; `known` codes take 10 % off. */
function stubCart(items: CartLine[], applied: { code: string; percent: number; reason?: string } | null = null) {
  let discount = applied;
  return stubShop((method, path, body) => {
    if (path === "/api/v1/cart" && method === "GET") return json(200, cartOf(items, discount));
    if (path === "/api/v1/cart/discount" && method === "POST") {
      const code = String((body as { code: string }).code).toUpperCase();
      if (code !== "SPRING10") {
        return json(422, {
          type: "/problems/discount_code_unknown", title: "Unprocessable Entity", status: 422,
          detail: `There is no discount code ${code}. Check the spelling and try again.`,
        });
      }
      discount = { code, percent: 10 };
      return json(202, { id: ME.id, position: "43", version: 8 });
    }
    if (path === "/api/v1/cart/discount" && method === "DELETE") {
      discount = null;
      return json(202, { id: ME.id, position: "44", version: 9 });
    }
    return undefined;
  });
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

const summary = () => screen.getByRole("complementary", { name: "Order summary" });

describe("the cart's discount code", () => {
  it("applies a code and reads the cart back at the write's position, showing what it takes off", async () => {
    const shop = stubCart([MUG, PEN]);
    renderSignedIn(<CartPage />);
    const field = await screen.findByLabelText("Discount code");
    expect(within(summary()).getByTestId("cart-total").textContent).toBe("Total€73.00");
    expect(screen.queryByTestId("cart-discount")).toBeNull();

    fireEvent.change(field, { target: { value: " spring10 " } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    await screen.findByTestId("cart-discount");

    expect(shop.calls.find((c) => c.method === "POST")).toMatchObject({ url: "/api/v1/cart/discount", body: { code: "spring10" } });
    expect(shop.calls.some((c) => c.url === "/api/v1/cart" && c.headers["X-Min-Position"] === "43")).toBe(true);
    expect(screen.getByTestId("cart-subtotal").textContent).toBe("Subtotal (3 items)€73.00");
    expect(screen.getByTestId("cart-discount").textContent).toBe(`Discount (SPRING10)${MINUS}€7.30`);
    expect(screen.getByTestId("cart-total").textContent).toBe("Total€65.70");
    // Each line's share, by the line.
    const shares = screen.getAllByTestId("line-discount").map((el) => el.textContent);
    expect(shares).toEqual([`${MINUS}€2.80 with SPRING10`, `${MINUS}€4.50 with SPRING10`]);
    expect(screen.getByTestId("discount-applied").textContent).toContain("Code SPRING10 applied");
    expect(screen.queryByLabelText("Discount code")).toBeNull();
  });

  it("shows a refused code's sentence under the field, and changes nothing", async () => {
    stubCart([MUG]);
    renderSignedIn(<CartPage />);
    const field = await screen.findByLabelText("Discount code");
    fireEvent.change(field, { target: { value: "NOPE" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));

    await screen.findByText("There is no discount code NOPE. Check the spelling and try again.");
    expect(field.getAttribute("aria-invalid")).toBe("true");
    const described = document.getElementById((field.getAttribute("aria-describedby") ?? "").split(" ").pop()!);
    expect(described?.textContent).toBe("There is no discount code NOPE. Check the spelling and try again.");
    expect(screen.queryByTestId("cart-discount")).toBeNull();
    expect(screen.getByTestId("cart-total").textContent).toBe("Total€28.00");
  });

  it("asks for a code before sending an empty one", async () => {
    const shop = stubCart([MUG]);
    renderSignedIn(<CartPage />);
    await screen.findByLabelText("Discount code");
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    await screen.findByText("Enter a discount code.");
    expect(shop.calls.some((c) => c.url === "/api/v1/cart/discount")).toBe(false);
  });

  it("removes the applied code", async () => {
    const shop = stubCart([MUG], { code: "SPRING10", percent: 10 });
    renderSignedIn(<CartPage />);
    await screen.findByTestId("cart-discount");
    fireEvent.click(screen.getByRole("button", { name: "Remove discount code SPRING10" }));
    await screen.findByLabelText("Discount code");

    expect(shop.calls.some((c) => c.method === "DELETE" && c.url === "/api/v1/cart/discount")).toBe(true);
    expect(shop.calls.some((c) => c.url === "/api/v1/cart" && c.headers["X-Min-Position"] === "44")).toBe(true);
    expect(screen.queryByTestId("cart-discount")).toBeNull();
    expect(screen.getByTestId("cart-total").textContent).toBe("Total€28.00");
  });

  it("shows why a code no longer applies instead of an amount, and holds checkout until it is removed", async () => {
    const reason = "SPRING10 needs a subtotal of €50.00 or more.";
    stubCart([MUG], { code: "SPRING10", percent: 10, reason });
    renderSignedIn(<CartPage />);
    await screen.findByTestId("cart-discount");

    expect(screen.getByTestId("cart-discount").textContent).toBe("Discount (SPRING10)");
    expect(screen.getByTestId("discount-reason").textContent).toBe(reason);
    expect(screen.queryByTestId("line-discount")).toBeNull();
    expect(screen.getByTestId("cart-total").textContent).toBe("Total€28.00");
    const checkout = screen.getByRole("button", { name: "Check out" }) as HTMLButtonElement;
    expect(checkout.disabled).toBe(true);
    expect(document.getElementById(checkout.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "The discount code SPRING10 no longer applies. Remove it from your cart to check out.",
    );

    fireEvent.click(screen.getByRole("button", { name: "Remove discount code SPRING10" }));
    await screen.findByRole("link", { name: "Check out" });
  });

  it("is part of the checkout page's summary too", async () => {
    stubCart([MUG], { code: "SPRING10", percent: 10 });
    renderSignedIn(<CheckoutPage />);
    await screen.findByTestId("cart-discount");
    expect(screen.getByTestId("cart-discount").textContent).toBe(`Discount (SPRING10)${MINUS}€2.80`);
    expect(screen.getByTestId("cart-total").textContent).toBe("Total€25.20");
  });
});

function order(overrides: Partial<Order> = {}): Order {
  return {
    id: "o-1", user_id: ME.id, status: "confirmed",
    items: [
      { product_id: "p-mug", sku: "SKU-p-mug", name: "Stoneware Mug", unit_price: eur(1400), quantity: 2, line_total: eur(2800), discount: eur(280) },
      { product_id: "p-pen", sku: "SKU-p-pen", name: "Brass Fountain Pen", unit_price: eur(4500), quantity: 1, line_total: eur(4500), discount: null },
    ],
    subtotal: eur(7300),
    discount: { code: "KITCHEN10", amount: eur(280) },
    total: eur(7020),
    payment: { status: "captured", method: "pm_card_visa", amount: eur(7020) },
    timeline: [],
    ...overrides,
  } as Order;
}

describe("an order's items", () => {
  it("show each line's discount, the subtotal, the code and the total after it", () => {
    render(<OrderItems order={order()} />);
    expect(screen.getByTestId("order-subtotal").textContent).toBe("Subtotal€73.00");
    expect(screen.getByTestId("order-discount").textContent).toBe(`Discount (KITCHEN10)${MINUS}€2.80`);
    expect(screen.getByTestId("order-total").textContent).toBe("Total€70.20");
    expect(screen.getAllByTestId("line-discount").map((el) => el.textContent)).toEqual([`${MINUS}€2.80`]);
  });

  it("are as before without a discount", () => {
    render(<OrderItems order={order({ discount: null, items: [order().items[1]], subtotal: eur(4500), total: eur(4500) })} />);
    expect(screen.queryByTestId("order-subtotal")).toBeNull();
    expect(screen.queryByTestId("order-discount")).toBeNull();
    expect(screen.queryByTestId("line-discount")).toBeNull();
    expect(screen.getByTestId("order-total").textContent).toBe("Total€45.00");
  });
});

function promotion(overrides: Partial<Promotion> = {}): Promotion {
  return {
    id: "pr-1", code: "SPRING10", percent_off: 10, amount_off: null, min_subtotal: eur(2000),
    valid_from: null, valid_until: null, max_redemptions: 100, max_per_customer: 1, categories: ["Kitchen"],
    redeemed: 3, held: 1, status: "active", created_at: "2026-03-01T08:00:00Z", updated_at: "2026-03-01T08:00:00Z",
    ...overrides,
  } as Promotion;
}

function renderAdmin(children: ReactNode) {
  return render(<ToastProvider>{children}</ToastProvider>);
}

describe("the back office's promotions", () => {
  it("lists each code's terms and counts, and pauses one, reading the list back at the write's position", async () => {
    let status: Promotion["status"] = "active";
    const shop = stubShop((method, path) => {
      if (path === "/api/v1/promotions" && method === "GET") {
        return json(200, { items: [promotion({ status }), promotion({ id: "pr-2", code: "FIVE", percent_off: null, amount_off: eur(500), min_subtotal: null, max_redemptions: null, max_per_customer: null, categories: [], redeemed: 0, held: 0, status: "ended" })], page: 1, limit: 25, total: 2, pages: 1 });
      }
      if (path === "/api/v1/promotions/pr-1/pause" && method === "POST") {
        status = "paused";
        return json(202, { id: "pr-1", position: "77", version: 2 });
      }
      return undefined;
    });
    renderAdmin(<AdminPromotionsPage />);
    const rows = await screen.findAllByTestId("promotion");
    const [spring, five] = rows;
    const cells = (row: HTMLElement) => within(row).getAllByRole("cell").map((c) => c.textContent);
    expect(cells(spring).slice(1, 8)).toEqual(["10 %Kitchen only", "€20.00", "Always", "100 in all, 1 per customer", "3", "1", "Active"]);
    expect(cells(five).slice(1, 8)).toEqual(["€5.00 offEvery category", "None", "Always", "No limit", "0", "0", "Ended"]);
    // What can be done follows the status: nothing once ended.
    expect(within(five).queryAllByRole("button")).toEqual([]);
    expect(within(spring).queryByRole("button", { name: "Resume SPRING10" })).toBeNull();

    fireEvent.click(within(spring).getByRole("button", { name: "Pause SPRING10" }));
    await waitFor(() => expect(screen.getAllByTestId("promotion")[0].getAttribute("data-status")).toBe("paused"));
    expect(shop.calls.some((c) => c.method === "POST" && c.url === "/api/v1/promotions/pr-1/pause")).toBe(true);
    expect(shop.calls.some((c) => c.url.startsWith("/api/v1/promotions?") && c.headers["X-Min-Position"] === "77")).toBe(true);
    expect(within(screen.getAllByTestId("promotion")[0]).getByRole("button", { name: "Resume SPRING10" })).toBeTruthy();
  });

  it("asks before ending a code", async () => {
    const shop = stubShop((method, path) => {
      if (path === "/api/v1/promotions" && method === "GET") return json(200, { items: [promotion()], page: 1, limit: 25, total: 1, pages: 1 });
      if (path === "/api/v1/promotions/pr-1/end") return json(202, { id: "pr-1", position: "78", version: 2 });
      return undefined;
    });
    renderAdmin(<AdminPromotionsPage />);
    const row = await screen.findByTestId("promotion");
    fireEvent.click(within(row).getByRole("button", { name: "End SPRING10" }));
    expect(shop.calls.some((c) => c.url.endsWith("/end"))).toBe(false);
    fireEvent.click(within(row).getByRole("button", { name: "Yes, end SPRING10" }));
    await waitFor(() => expect(shop.calls.some((c) => c.method === "POST" && c.url === "/api/v1/promotions/pr-1/end")).toBe(true));
  });

  it("checks a new code before sending it", async () => {
    const shop = stubShop(() => undefined);
    renderAdmin(<NewPromotionPage />);
    fireEvent.click(screen.getByRole("button", { name: "Create promotion" }));
    await screen.findByText("Use 3 to 32 letters, digits, '-' or '_'.");
    expect(screen.getByText("Enter a whole percentage from 1 to 100.")).toBeTruthy();
    expect(shop.calls.some((c) => c.url === "/api/v1/promotions")).toBe(false);
  });

  it("creates a code and goes to the list at the write's position", async () => {
    const shop = stubShop((method, path) =>
      path === "/api/v1/promotions" && method === "POST" ? json(201, { id: "pr-9", position: "90", version: 1 }) : undefined,
    );
    renderAdmin(<NewPromotionPage />);
    fireEvent.change(screen.getByLabelText("Code"), { target: { value: "five-off" } });
    fireEvent.click(screen.getByRole("radio", { name: "Fixed amount off" }));
    fireEvent.change(screen.getByLabelText("Amount (EUR)"), { target: { value: "5" } });
    fireEvent.change(screen.getByLabelText("Minimum subtotal (EUR, optional)"), { target: { value: "30" } });
    fireEvent.change(screen.getByLabelText("Max per customer (optional)"), { target: { value: "1" } });
    fireEvent.change(screen.getByLabelText("Categories (optional)"), { target: { value: "Kitchen, Home" } });
    fireEvent.click(screen.getByRole("button", { name: "Create promotion" }));

    await waitFor(() => expect(window.location.pathname + window.location.search).toBe("/admin/promotions?position=90"));
    expect(shop.calls.find((c) => c.method === "POST")?.body).toEqual({
      code: "FIVE-OFF", amount_off: eur(500), min_subtotal: eur(3000), max_per_customer: 1, categories: ["Kitchen", "Home"],
    });
  });

  it("shows a taken code's problem under the code", async () => {
    stubShop((method, path) =>
      path === "/api/v1/promotions" && method === "POST"
        ? json(409, { type: "/problems/already_taken", title: "Conflict", status: 409, detail: "The code SPRING10 is already taken." })
        : undefined,
    );
    renderAdmin(<NewPromotionPage />);
    fireEvent.change(screen.getByLabelText("Code"), { target: { value: "SPRING10" } });
    fireEvent.change(screen.getByLabelText("Percent"), { target: { value: "10" } });
    fireEvent.click(screen.getByRole("button", { name: "Create promotion" }));
    await screen.findByText("The code SPRING10 is already taken.");
    expect(screen.getByLabelText("Code").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("button", { name: "Create promotion" })).toBeTruthy();
  });

  it("shows any other refusal above the button", async () => {
    stubShop((method, path) =>
      path === "/api/v1/promotions" && method === "POST"
        ? json(422, { type: "/problems/validation_failed", title: "Unprocessable Entity", status: 422, detail: "The promotion is not valid." })
        : undefined,
    );
    renderAdmin(<NewPromotionPage />);
    fireEvent.change(screen.getByLabelText("Code"), { target: { value: "SPRING10" } });
    fireEvent.change(screen.getByLabelText("Percent"), { target: { value: "10" } });
    fireEvent.click(screen.getByRole("button", { name: "Create promotion" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The promotion is not valid.");
  });
});
