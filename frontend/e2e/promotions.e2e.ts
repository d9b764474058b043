import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, newCustomer, productBySku, refusal } from "./api";
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

// One code per run, so a kept database (E2E_KEEP_DB=1) or a second run never finds it taken. The first test
// creates it in the back office; the second redeems it.
const CODE = `E2E10-${Date.now()}`;
let created = false;

/** 10 % off Stationery from €10.00: the Dot Grid Notebook (€12.50) gets €1.25 off, for €11.25. */
const NOTEBOOK = { sku: "STA-NTB-DOT", name: "Dot Grid Notebook" };
const MINUS = "\u2212";

/** The back office's row of a code; `status` narrows it to that status, to wait for a change. */
function promotionRow(page: Page, code: string, status?: string) {
  return page.locator(`[data-testid=promotion][data-code="${code}"]${status ? `[data-status="${status}"]` : ""}`);
}

describe("discount codes", () => {
  it("lets an administrator create a code in the back office, see it listed, pause and resume it", async () => {
    await withPage(browser, "admin-promotions", async (page) => {
      await loginThroughUi(page, ADMIN.email, ADMIN.password);
      await page.getByRole("link", { name: "Back office" }).click();
      await page.getByRole("navigation", { name: "Back office" }).getByRole("link", { name: "Promotions" }).click();
      await page.getByRole("heading", { name: "Promotions" }).waitFor();
      await page.getByRole("link", { name: "New promotion" }).click();
      await page.getByRole("heading", { name: "New promotion" }).waitFor();

      // The form checks before sending.
      await page.getByRole("button", { name: "Create promotion" }).click();
      await page.getByText("Use 3 to 32 letters, digits, '-' or '_'.").waitFor();
      await page.getByText("Enter a whole percentage from 1 to 100.").waitFor();

      // Typed in lower case: codes are case-insensitive and kept upper case.
      await page.getByLabel("Code", { exact: true }).fill(CODE.toLowerCase());
      await page.getByRole("radio", { name: "Percentage off" }).check();
      await page.getByLabel("Percent", { exact: true }).fill("10");
      await page.getByLabel("Minimum subtotal (EUR, optional)").fill("10.00");
      await page.getByLabel("Categories (optional)").fill("Stationery");
      await page.getByLabel("Valid until (optional)").fill("2099-12-31T23:59");
      await page.getByLabel("Max per customer (optional)").fill("1");
      await screenshot(page, "steps/admin-promotion-new");
      await page.getByRole("button", { name: "Create promotion" }).click();

      // The list reads its own write (X-Min-Position from the answer's position).
      await page.waitForURL(/\/admin\/promotions\?position=/);
      const row = promotionRow(page, CODE);
      await row.waitFor();
      created = true;
      expect(await row.getAttribute("data-status")).toBe("active");
      const cells = await row.locator("td").allTextContents();
      expect(cells[0]).toContain(CODE);
      expect(cells[1]).toBe("10 %Stationery only");
      expect(cells[2]).toBe("€10.00");
      expect(cells[3]).toMatch(/^Until Dec 31, 2099/);
      expect(cells[4]).toBe("1 per customer");
      expect(cells.slice(5, 7)).toEqual(["0", "0"]);
      await screenshot(page, "steps/admin-promotions");

      // Pause, then resume: each button follows the status, and the list is read back at the write's position.
      await row.getByRole("button", { name: `Pause ${CODE}` }).click();
      await promotionRow(page, CODE, "paused").waitFor();
      expect(await row.getByRole("button", { name: `Pause ${CODE}` }).count()).toBe(0);
      await row.getByRole("button", { name: `Resume ${CODE}` }).click();
      await promotionRow(page, CODE, "active").waitFor();
      await row.getByRole("button", { name: `Pause ${CODE}` }).waitFor();

      // The same code again is refused (409), next to the code.
      await page.getByRole("link", { name: "New promotion" }).click();
      await page.getByLabel("Code", { exact: true }).fill(CODE);
      await page.getByLabel("Percent", { exact: true }).fill("5");
      await page.getByRole("button", { name: "Create promotion" }).click();
      await page.locator("input[name=code][aria-invalid=true]").waitFor();
      expect(page.url()).toMatch(/\/admin\/promotions\/new$/);
    });
  });

  it("lets a customer apply the code in the cart and check out with it; the order and the back office show it", async () => {
    expect(created, "the back-office test created the code").toBe(true);
    const customer = await newCustomer();
    let orderId = "";

    await withPage(browser, "discount-checkout", async (page, context) => {
      await signIn(context, customer.token);
      await page.goto("/?q=notebook");
      await page.getByRole("button", { name: `Add ${NOTEBOOK.name} to cart` }).click();
      await expect.poll(() => page.getByTestId("cart-count").textContent()).toBe("1");

      await page.getByRole("link", { name: /^Cart/ }).click();
      await page.getByRole("heading", { name: "Your cart" }).waitFor();
      expect(await page.getByTestId("cart-total").textContent()).toBe("Total€12.50");
      await page.getByLabel("Discount code").fill(CODE.toLowerCase());
      await page.getByRole("button", { name: "Apply" }).click();

      // The cart read back after the write: the code, the line's share, the subtotal, the discount, a lower total.
      await page.getByTestId("cart-discount").waitFor();
      expect(await page.getByTestId("cart-discount").textContent()).toBe(`Discount (${CODE})${MINUS}€1.25`);
      expect(await page.getByTestId("cart-subtotal").textContent()).toBe("Subtotal (1 item)€12.50");
      expect(await page.getByTestId("cart-total").textContent()).toBe("Total€11.25");
      expect(await page.getByTestId("line-discount").textContent()).toBe(`${MINUS}€1.25 with ${CODE}`);
      await page.getByRole("button", { name: `Remove discount code ${CODE}` }).waitFor();
      await screenshot(page, "steps/cart-discount");

      // Checkout: its summary carries the discount too.
      await page.getByRole("link", { name: "Check out" }).click();
      await page.getByRole("heading", { name: "Checkout" }).waitFor();
      expect(await page.getByTestId("cart-total").textContent()).toBe("Total€11.25");
      await page.getByLabel("Full name").fill("Dee Discount");
      await page.getByLabel("Address", { exact: true }).fill("3 Canal Street");
      await page.getByLabel("Postal code").fill("1012 AB");
      await page.getByLabel("City").fill("Amsterdam");
      await page.getByLabel("Country").selectOption("NL");
      await page.getByRole("radio", { name: /Visa •••• 4242/ }).check();
      await page.getByRole("button", { name: "Place order" }).click();

      // The order page: the line's discount, the subtotal, the code and the total after it.
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}/);
      orderId = /\/orders\/([0-9a-f-]{36})/.exec(page.url())?.[1] ?? "";
      await page.getByTestId("order-discount").waitFor();
      expect(await page.getByTestId("order-subtotal").textContent()).toBe("Subtotal€12.50");
      expect(await page.getByTestId("order-discount").textContent()).toBe(`Discount (${CODE})${MINUS}€1.25`);
      expect(await page.getByTestId("order-total").textContent()).toBe("Total€11.25");
      expect(await page.getByTestId("line-discount").textContent()).toBe(`${MINUS}€1.25`);
      if (SAGA_LANDED) {
        await page.waitForFunction(
          () => document.querySelector("[data-testid=order-status]")?.getAttribute("data-status") === "confirmed",
          undefined,
          { timeout: SAGA_DEADLINE_MS },
        );
        // The card was charged the total after the discount.
        await page.locator("dl.specs").getByText("€11.25").waitFor();
      }
    });
    expect(orderId).not.toBe("");

    // The back office counts the use: redeemed once the order is confirmed, held while it is pending. Its
    // view follows the order's events, so the page is read again until it does, up to a deadline.
    await withPage(browser, "admin-promotion-redeemed", async (page) => {
      await loginThroughUi(page, ADMIN.email, ADMIN.password);
      await page.goto("/admin/promotions");
      const row = promotionRow(page, CODE);
      const counts = async () => {
        await page.reload();
        await row.waitFor();
        return [await row.getByTestId("redeemed").textContent(), await row.getByTestId("held").textContent()];
      };
      await expect
        .poll(counts, { timeout: SAGA_DEADLINE_MS, interval: 250 })
        .toEqual(SAGA_LANDED ? ["1", "0"] : ["0", "1"]);
    });
  });

  it("shows an unknown code's problem next to the field in the cart", async () => {
    const customer = await newCustomer();
    const candle = await productBySku("HOM-CDL-SOY");
    await call("POST", "/cart/items", { product_id: candle.id, quantity: 1 }, customer.token);
    const unknown = `NOPE-${Date.now()}`;

    await withPage(browser, "discount-unknown", async (page, context) => {
      await signIn(context, customer.token);
      await page.goto("/cart");
      await page.getByRole("heading", { name: "Your cart" }).waitFor();
      await page.getByLabel("Discount code").fill(unknown);
      await page.getByRole("button", { name: "Apply" }).click();

      await page.locator("input[name=discount_code][aria-invalid=true]").waitFor();
      const shown = await page.locator(".discount-form .field-error").textContent();
      // The words are the API's own for that code.
      const problem = await refusal("POST", "/cart/discount", { code: unknown }, customer.token);
      expect(problem.status).toBe(422);
      expect(problem.type).toBe("/problems/discount_code_unknown");
      expect(shown).toBe(problem.detail?.trim());
      expect(await page.getByTestId("cart-discount").count()).toBe(0);
      expect(await page.getByTestId("cart-total").textContent()).toBe("Total€22.00");
    });
  });
});
