import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, newCustomer, productBySku } from "./api";
import { launch, PHONE, recordTiming, screenshot, SESSION_COOKIE, signIn, withPage } from "./browser";
import { SAGA_DEADLINE_MS, SAGA_LANDED } from "./flags";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** Waits for the order page's status to leave `pending` (when the saga exists) and returns it. */
async function orderStatus(page: Page, settle: boolean): Promise<string> {
  const status = page.getByTestId("order-status");
  await status.waitFor();
  if (settle) {
    await page.waitForFunction(
      () => document.querySelector("[data-testid=order-status]")?.getAttribute("data-status") !== "pending",
      undefined,
      { timeout: SAGA_DEADLINE_MS },
    );
  }
  return (await status.getAttribute("data-status")) ?? "";
}

describe("storefront", () => {
  it("renders the catalog's first products within a second of navigation (measured, not asserted)", async () => {
    await withPage(browser, "catalog-desktop", async (page) => {
      const started = Date.now();
      await page.goto("/");
      await page.getByTestId("product-card").first().waitFor();
      const wall = Date.now() - started;
      const mark = await page.evaluate(
        () => performance.getEntriesByName("shop:first-product")[0]?.startTime ?? Number.NaN,
      );
      recordTiming(
        `e2e: catalog first product rendered ${Math.round(mark)} ms after navigation start (page.goto → visible: ${wall} ms; target < 1000 ms)`,
      );
      expect(await page.getByTestId("product-card").count()).toBeGreaterThan(0);
      // Pagination and the sort are kept in the URL.
      await page.getByLabel("Sort by").selectOption("price_asc");
      await page.waitForURL(/sort=price_asc/);
      await page.getByRole("link", { name: "Next page" }).click();
      await page.waitForURL(/page=2/);
      await page.getByTestId("product-card").first().waitFor();
      await page.goBack();
      await page.waitForURL((url) => !url.search.includes("page=2"));
      await page.getByTestId("product-card").first().waitFor();
    });
  });

  it("searches as the visitor types and marks the matched words in the results", async () => {
    await withPage(browser, "catalog-search-as-you-type", async (page) => {
      await page.goto("/");
      await page.getByTestId("product-card").first().waitFor();
      const searches: string[] = [];
      page.on("request", (request) => {
        const url = new URL(request.url());
        if (url.pathname === "/api/v1/products" && url.searchParams.has("q")) searches.push(url.searchParams.get("q")!);
      });

      // No Enter: the results follow the box once typing pauses, not once per keystroke.
      await page.getByLabel("Search products").pressSequentially("stoneware mu", { delay: 40 });
      await page.waitForURL(/q=stoneware\+mu/);
      await page.getByRole("heading", { name: "Results for “stoneware mu”" }).waitFor();
      const mug = page.getByTestId("product-card").filter({ hasText: "Stoneware Mug" });
      await mug.waitFor();
      expect(await mug.locator(".card-name mark").allTextContents()).toEqual(["Stoneware", "Mu"]);
      expect(await page.getByRole("link", { name: /Stoneware Mug/ }).count()).toBe(1);
      expect(searches.length, `requests while typing: ${searches.join(" | ")}`).toBeLessThan(4);
      expect(searches.at(-1)).toBe("stoneware mu");
      await screenshot(page, "steps/search-as-you-type");

      // Typing made one history entry: back returns to the unfiltered catalog.
      await page.goBack();
      await page.waitForURL((url) => !url.search.includes("q="));
      await expect.poll(() => page.getByLabel("Search products").inputValue()).toBe("");
    });
  });

  it("filters with the sidebar's facets, when the server counts them", async () => {
    interface Facets {
      categories: { name: string; count: number }[];
      price: { min: number; max?: number | null; count: number }[];
      in_stock: number;
    }
    const answer = (query: string) => call<{ total: number; facets?: Facets }>("GET", `/products?limit=1${query}`);
    const all = await answer("");
    if (!all.facets) {
      // Today's server may not send facets yet; the page must then look and work as before (the test above).
      console.log("e2e: GET /products has no facets: facet checks skipped");
      return;
    }
    const products = (n: number) => `${n} ${n === 1 ? "product" : "products"}`;

    await withPage(browser, "catalog-facets", async (page) => {
      await page.goto("/");
      await page.getByTestId("product-card").first().waitFor();
      const categories = page.getByRole("group", { name: "Category" });
      const category = (name: string) => categories.getByRole("button", { name, exact: true });
      const count = (button: ReturnType<typeof category>) => button.locator(".facet-count").textContent();
      const resultCount = () => page.locator(".result-count").textContent();

      for (const c of all.facets!.categories) expect(await count(category(c.name))).toBe(products(c.count));
      expect(await page.getByTestId("in-stock-count").textContent()).toBe(products(all.facets!.in_stock));

      // Choosing a category filters; the other categories keep their counts (a facet ignores its own filter).
      await category("Kitchen").click();
      await page.waitForURL(/category=Kitchen/);
      const kitchen = await answer("&category=Kitchen");
      await expect.poll(resultCount).toBe(products(kitchen.total));
      await expect.poll(() => category("Kitchen").getAttribute("aria-pressed")).toBe("true");
      for (const c of kitchen.facets!.categories) expect(await count(category(c.name))).toBe(products(c.count));
      expect(kitchen.facets!.categories.length).toBeGreaterThan(1);

      // A price range sets min_price/max_price; the results are what its count said.
      const bucket = kitchen.facets!.price[0];
      const range = page.getByRole("group", { name: "Price" }).getByRole("button").nth(1);
      expect(await count(range)).toBe(products(bucket.count));
      await range.click();
      await page.waitForURL(/(min|max)_price=/);
      await expect.poll(resultCount).toBe(products(bucket.count));
      await screenshot(page, "steps/catalog-facets");

      // The in-stock toggle says how many it would leave, and leaves that many.
      const url = new URL(page.url());
      url.searchParams.delete("in_stock");
      const priced = await answer(`&${url.searchParams.toString()}`);
      await expect.poll(() => page.getByTestId("in-stock-count").textContent()).toBe(products(priced.facets!.in_stock));
      await page.getByLabel("In stock only").check();
      await page.waitForURL(/in_stock=true/);
      await expect.poll(resultCount).toBe(products(priced.facets!.in_stock));
    });
  });

  it("works on a phone: the catalog and a product page", async () => {
    await withPage(
      browser,
      "product-phone",
      async (page) => {
        await page.goto("/?category=Kitchen");
        await page.getByTestId("product-card").first().waitFor();
        await screenshot(page, "steps/catalog-phone");
        const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
        expect(await fits()).toBe(true);
        await page.getByRole("link", { name: /Cast Iron Skillet/ }).click();
        await page.getByRole("heading", { name: "Cast Iron Skillet" }).waitFor();
        await expect(page.getByTestId("availability").textContent()).resolves.toMatch(/In stock/);
        expect(await fits()).toBe(true);
      },
      PHONE,
    );
  });

  it("lets a customer register, search, add two products, check out with pm_card_visa and see the order", async () => {
    await withPage(browser, "checkout-order", async (page) => {
      // Register (and be logged in).
      const email = `shopper-${Date.now()}@example.com`;
      await page.goto("/register");
      await page.getByLabel("Name").fill("Robin Shopper");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("a long enough password");
      await screenshot(page, "steps/register");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("button", { name: "Log out" }).waitFor();
      await page.waitForURL((url) => url.pathname === "/");

      // Search, add the first product from the grid.
      await page.getByLabel("Search products").fill("mug");
      await page.getByLabel("Search products").press("Enter");
      await page.waitForURL(/q=mug/);
      await page.getByRole("heading", { name: /Results for “mug”/ }).waitFor();
      await page.getByRole("button", { name: "Add Stoneware Mug to cart" }).click();
      await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("1");

      // Search again, open the second product, add two of it from its page.
      await page.getByLabel("Search products").fill("linen shi");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await page.getByRole("link", { name: /Linen Shirt/ }).click();
      await page.getByRole("heading", { name: "Linen Shirt" }).waitFor();
      await page.getByLabel("Quantity").fill("2");
      await page.getByRole("button", { name: "Add to cart" }).click();
      await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("3");

      // The cart: two lines; one more mug, then back.
      await page.getByRole("link", { name: /^Cart/ }).click();
      await page.getByRole("heading", { name: "Your cart" }).waitFor();
      await page.getByTestId("cart-line").first().waitFor();
      expect(await page.getByTestId("cart-line").count()).toBe(2);
      await page.getByRole("button", { name: "One more Stoneware Mug" }).click();
      await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("4");
      await page.getByRole("button", { name: "One fewer Stoneware Mug" }).click();
      await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("3");
      await screenshot(page, "steps/cart");

      // Checkout: an empty form is refused next to its fields, then a full one goes through.
      await page.getByRole("link", { name: "Check out" }).click();
      await page.getByRole("heading", { name: "Checkout" }).waitFor();
      await page.getByLabel("Full name").fill("");
      await page.getByRole("button", { name: "Place order" }).click();
      await page.getByText("Please enter a city.").waitFor();
      await screenshot(page, "steps/checkout-errors");
      await page.getByLabel("Full name").fill("Robin Shopper");
      await page.getByLabel("Address", { exact: true }).fill("12 Harbour Street");
      await page.getByLabel("Postal code").fill("10115");
      await page.getByLabel("City").fill("Berlin");
      await page.getByLabel("Country").selectOption("DE");
      await page.getByRole("radio", { name: /Visa •••• 4242/ }).check();
      await page.getByRole("button", { name: "Place order" }).click();

      // The order page: read with X-Min-Position, then followed until it leaves pending.
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}/);
      await page.getByRole("heading", { name: /^Order / }).waitFor();
      const status = await orderStatus(page, SAGA_LANDED);
      if (SAGA_LANDED) expect(status).toBe("confirmed");
      else expect(["pending", "confirmed"]).toContain(status);
      await page.getByRole("cell", { name: /Stoneware Mug/ }).waitFor();
      await page.getByRole("cell", { name: /Linen Shirt/ }).waitFor();
      await page.getByTestId("timeline").waitFor();
      expect(await page.getByTestId("cart-count").count()).toBe(0); // the cart was emptied

      // "My orders" lists it.
      const orderUrl = page.url();
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My orders" }).click();
      await page.getByRole("heading", { name: "My orders" }).waitFor();
      await page.locator(".order-row").first().waitFor();
      expect(await page.locator(".order-row").count()).toBe(1);
      await screenshot(page, "steps/my-orders");
      await page.goto(orderUrl);
      await orderStatus(page, SAGA_LANDED);
    });
  });

  it("shows what a declined card does to the order", async () => {
    // Set-up through the API: a customer with one product in the cart.
    const customer = await newCustomer();
    const candle = await productBySku("HOM-CDL-SOY");
    await call("POST", "/cart/items", { product_id: candle.id, quantity: 1 }, customer.token);

    await withPage(browser, "declined-order", async (page, context) => {
      await signIn(context, customer.token);
      await page.goto("/checkout");
      await page.getByRole("heading", { name: "Checkout" }).waitFor();
      await page.getByLabel("Full name").fill("Dana Declined");
      await page.getByLabel("Address", { exact: true }).fill("1 Rue de Rivoli");
      await page.getByLabel("Postal code").fill("75001");
      await page.getByLabel("City").fill("Paris");
      await page.getByLabel("Country").selectOption("FR");
      await page.getByRole("radio", { name: /Declined by the bank/ }).check();
      await page.getByRole("button", { name: "Place order" }).click();
      await page.waitForURL(/\/orders\//);
      const status = await orderStatus(page, SAGA_LANDED);
      if (SAGA_LANDED) {
        expect(status).toBe("cancelled");
        await page.getByText("The payment was declined.").waitFor();
      } else {
        expect(["pending", "cancelled"]).toContain(status);
      }
    });
  });

  it("lets a customer cancel an order that has not shipped", async () => {
    const customer = await newCustomer();
    const pen = await productBySku("STA-PEN-BRS");
    await call("POST", "/cart/items", { product_id: pen.id, quantity: 1 }, customer.token);
    const order = await call<{ id: string; position: string }>(
      "POST",
      "/cart/checkout",
      {
        shipping_address: { name: "Kim Cancel", line1: "9 Via Roma", city: "Milano", postal_code: "20121", country: "IT" },
        payment_method: "pm_card_mastercard",
      },
      customer.token,
    );
    await withPage(browser, "cancelled-order", async (page, context) => {
      await signIn(context, customer.token);
      await page.goto(`/orders/${order.id}?position=${encodeURIComponent(order.position)}`);
      await orderStatus(page, SAGA_LANDED);
      await page.getByRole("button", { name: "Cancel order" }).click();
      await page.getByRole("button", { name: "Yes, cancel it" }).click();
      await page.waitForFunction(
        () => document.querySelector("[data-testid=order-status]")?.getAttribute("data-status") === "cancelled",
      );
      await page.getByText("You cancelled this order.").waitFor();
      expect(await page.getByRole("button", { name: "Cancel order" }).count()).toBe(0);
    });
  });

  it("sends an anonymous visitor to log in before adding to the cart, and back afterwards", async () => {
    const customer = await newCustomer();
    await withPage(browser, "login-redirect", async (page, context) => {
      // Every API request the page makes: with the CSRF header, never with an Authorization header.
      const apiRequests: { url: string; headers: Record<string, string> }[] = [];
      page.on("request", (request) => {
        if (new URL(request.url()).pathname.startsWith("/api/v1/")) {
          apiRequests.push({ url: request.url(), headers: request.headers() });
        }
      });
      await page.goto("/?q=notebook");
      await page.getByRole("button", { name: "Add Dot Grid Notebook to cart" }).click();
      await page.waitForURL(/\/login\?next=/);
      await page.getByLabel("Email").fill(customer.email);
      await page.getByLabel("Password").fill("wrong password");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByText("That email address and password don't match an account.").waitFor();
      await page.getByLabel("Password").fill(customer.password);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL(/\?q=notebook/);
      await page.getByRole("button", { name: "Add Dot Grid Notebook to cart" }).click();
      await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("1");

      // The session is the HttpOnly cookie the login set; no script on the page can read the token.
      const session = (await context.cookies()).find((c) => c.name === SESSION_COOKIE);
      expect(session).toMatchObject({ path: "/api/v1", httpOnly: true, secure: true, sameSite: "Strict" });
      const stored = await page.evaluate(() =>
        [localStorage, sessionStorage].flatMap((storage) =>
          Array.from({ length: storage.length }, (_, i) => `${storage.key(i)}=${storage.getItem(storage.key(i)!)}`),
        ),
      );
      const jwt = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
      for (const entry of stored) {
        expect(entry).not.toMatch(jwt);
        expect(entry).not.toContain(session!.value);
      }
      expect(await page.evaluate(() => document.cookie)).not.toContain(SESSION_COOKIE);
      expect(apiRequests.length).toBeGreaterThan(0);
      for (const { url, headers } of apiRequests) {
        expect(headers["x-requested-with"], url).toBe("shop-storefront");
        expect(headers.authorization, url).toBeUndefined();
      }
      // Not even a document under the cookie's own path sees it.
      const storefront = page.url();
      await page.goto("/api/v1/me");
      expect(await page.evaluate(() => document.cookie)).not.toContain(SESSION_COOKIE);
      await page.goto(storefront);

      // Log out: the token is denied and the cookie cleared.
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByRole("link", { name: "Log in" }).waitFor();
      expect((await context.cookies()).find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    });
  });
});
