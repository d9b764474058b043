import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, newCustomer, productBySku, waitForOrderStatus, type Written } from "./api";
import { launch, loginThroughUi, screenshot, signIn, withPage } from "./browser";
import { ADMIN } from "./env";
import { SAGA_DEADLINE_MS, SAGA_LANDED } from "./flags";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe("back office", () => {
  it("lets an administrator create a product that then appears in the catalog", async () => {
    const sku = `E2E-LAMP-${Date.now()}`;
    await withPage(browser, "admin-product-in-catalog", async (page) => {
      await loginThroughUi(page, ADMIN.email, ADMIN.password);
      await page.getByRole("link", { name: "Back office" }).click();
      await page.getByRole("heading", { name: "Products" }).waitFor();
      await page.getByRole("link", { name: "New product" }).click();
      await page.getByRole("heading", { name: "New product" }).waitFor();

      // The form checks before sending.
      await page.getByRole("button", { name: "Create product" }).click();
      await page.getByText("Please enter a name.").waitFor();

      await page.getByLabel("SKU").fill(sku);
      await page.getByLabel("Name").fill("Rattan Pendant Lamp");
      await page.getByLabel("Category").fill("Home");
      await page.getByLabel("Price").fill("74.50");
      await page.getByLabel("Initial stock").fill("7");
      await page.getByLabel("Description").fill("A woven rattan shade that throws a soft, patterned light.");
      await page.getByRole("button", { name: "Create product" }).click();

      // The edit page reads its own write, with the ETag for later edits.
      await page.getByRole("heading", { name: "Rattan Pendant Lamp" }).waitFor();
      await page.getByText(sku).waitFor();
      const id = /\/admin\/products\/([0-9a-f-]{36})/.exec(page.url())?.[1];
      expect(id).toBeTruthy();

      // Restock, then edit the price (PATCH with If-Match).
      await page.getByLabel("Change by").fill("5");
      await page.getByRole("button", { name: "Apply" }).click();
      await expect.poll(() => page.locator(".stock-number").textContent()).toBe("12");
      await page.getByLabel("Price").fill("69.00");
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.getByText("Product saved").waitFor();
      await screenshot(page, "steps/admin-product-edit");

      // A customer's view: the catalog finds it by a word of its name, at the new price.
      await page.goto("/?q=rattan");
      const card = page.getByTestId("product-card").filter({ has: page.locator(`a[href="/products/${id}"]`) });
      await card.waitFor();
      await expect(card.textContent()).resolves.toContain("€69.00");
      await card.getByRole("link").click();
      await page.getByRole("heading", { name: "Rattan Pendant Lamp" }).waitFor();
      await page.getByText("12 available").waitFor();
    });
  });

  it("shows the audit chain as intact when the administrator verifies it", async () => {
    await withPage(browser, "admin-audit-verify", async (page) => {
      await loginThroughUi(page, ADMIN.email, ADMIN.password);
      await page.goto("/admin/audit");
      await page.getByRole("heading", { name: "Audit log" }).waitFor();
      await page.getByTestId("events").waitFor();
      // Payloads expand.
      const first = page.locator(".event summary").first();
      await first.click();
      await page.locator(".event pre").first().waitFor();
      // Filters go to the API.
      await page.getByLabel("Aggregate").selectOption("product");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.waitForURL(/aggregate_type=product/);
      await page.getByText("ProductCreated").first().waitFor();

      await page.getByRole("button", { name: "Verify the chain" }).click();
      const result = page.getByTestId("verify-result");
      await result.getByText(/Chain intact/).waitFor();
      expect(await result.locator("[data-ok]").getAttribute("data-ok")).toBe("true");
      const text = (await result.textContent()) ?? "";
      const checked = Number(/(\d[\d,]*) events? checked/.exec(text)?.[1].replace(/,/g, ""));
      expect(checked).toBeGreaterThan(0);
      await page.locator(".verify").scrollIntoViewIfNeeded();
    });
  });

  it("lets an administrator follow an order and ship it; the customer then sees it shipped", async () => {
    // Set-up through the API: a customer's order paid with pm_card_visa.
    const customer = await newCustomer();
    const bottle = await productBySku("OUT-BTL-750");
    await call("POST", "/cart/items", { product_id: bottle.id, quantity: 1 }, customer.token);
    const order = await call<Written>(
      "POST",
      "/cart/checkout",
      {
        shipping_address: { name: "Sam Shipped", line1: "5 Dock Road", city: "London", postal_code: "E1 6AN", country: "GB" },
        payment_method: "pm_card_visa",
      },
      customer.token,
    );

    // With the saga the order is confirmed within 2 s. Without it (SAGA_LANDED off) it may still be pending.
    await waitForOrderStatus(
      order,
      customer.token,
      SAGA_LANDED ? ["confirmed"] : ["pending", "confirmed"],
      SAGA_DEADLINE_MS,
    );
    const shortId = order.id.replace(/-/g, "").slice(-8).toUpperCase();
    let shipped = false;

    await withPage(browser, "admin-order", async (page) => {
      await loginThroughUi(page, ADMIN.email, ADMIN.password);
      await page.getByRole("link", { name: "Back office" }).click();
      await page.getByRole("link", { name: "Orders", exact: true }).click();
      await page.getByRole("heading", { name: "Orders" }).waitFor();
      if (SAGA_LANDED) {
        // The status filter goes to GET /orders?status=confirmed.
        await page.getByLabel("Status").selectOption("confirmed");
        await page.waitForURL(/status=confirmed/);
      }
      await page.getByRole("link", { name: shortId }).waitFor();
      await screenshot(page, "steps/admin-orders");
      await page.getByRole("link", { name: shortId }).click();
      const status = page.getByTestId("order-status");
      await status.waitFor();
      const now = (await status.getAttribute("data-status")) ?? "";
      expect(["pending", "confirmed"]).toContain(now);
      if (now === "pending") {
        expect(SAGA_LANDED).toBe(false);
        // Not confirmed yet: shipping is not offered, cancelling is.
        expect(await page.getByRole("button", { name: "Mark as shipped" }).count()).toBe(0);
        await page.getByRole("button", { name: "Cancel order" }).waitFor();
        return;
      }
      await page.getByLabel("Tracking number (optional)").fill("TRK-E2E-0001");
      await page.getByRole("button", { name: "Mark as shipped" }).click();
      await page.waitForFunction(
        () => document.querySelector("[data-testid=order-status]")?.getAttribute("data-status") === "shipped",
      );
      await page.getByRole("button", { name: "Mark as delivered" }).waitFor();
      shipped = true;
    });
    if (SAGA_LANDED) expect(shipped).toBe(true);

    if (shipped) {
      await withPage(browser, "customer-sees-shipped", async (page, context) => {
        await signIn(context, customer.token);
        await page.goto(`/orders/${order.id}`);
        await page.waitForFunction(
          () => document.querySelector("[data-testid=order-status]")?.getAttribute("data-status") === "shipped",
        );
        await page.getByTestId("tracking-number").getByText("TRK-E2E-0001").waitFor();
      });
    }
  });
});
