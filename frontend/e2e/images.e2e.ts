import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, login, refusal, type Written } from "./api";
import { launch, loginThroughUi, screenshot, withPage } from "./browser";
import { ADMIN, BASE_URL } from "./env";
import { stripedPng } from "./png";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** A product of its own per test, so a kept database (E2E_KEEP_DB=1) or a second run starts without images. */
async function newProduct(adminToken: string, name: string): Promise<{ id: string; sku: string; position: string }> {
  const sku = `E2E-IMG-${Date.now()}`;
  const written = await call<Written>(
    "POST",
    "/products",
    {
      sku,
      name,
      description: "Oiled walnut, cut from one board.",
      category: "Kitchen",
      price: { amount: 3900, currency: "EUR" },
      stock: 6,
    },
    adminToken,
  );
  return { id: written.id, sku, position: written.position };
}

/** `POST /products/{id}/images`'s body, as the back office sends it (a copy: Blob wants an ArrayBuffer's view). */
function imageForm(alt: string, bytes: Buffer, name: string): FormData {
  const form = new FormData();
  form.append("alt", alt);
  form.append("image", new Blob([new Uint8Array(bytes)], { type: "image/png" }), name);
  return form;
}

/** The ids of the back office's image list, in its order. */
function listedImages(page: Page): Promise<(string | null)[]> {
  return page
    .getByTestId("product-image")
    .evaluateAll((items) => items.map((item) => item.getAttribute("data-image-id")));
}

/** Whether an <img> has loaded a picture (a broken or unloaded one has no natural width). */
function loaded(img: Locator): Promise<boolean> {
  return img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0);
}

/**
 * How long an upload may take to be listed (the server decodes and resizes it, then the product is read at the
 * answer's position) and a picture to load; vitest's `expect.poll` gives up after 1 s by default.
 */
const SETTLED = { timeout: 10_000, interval: 100 };

const FRONT = "A walnut serving board seen from above";
const SIDE = "The serving board's edge, showing the grain";
const DETAIL = "A close view of the board's handle";

describe("product images", () => {
  it("lets an administrator upload, reorder and remove images; the catalog and the product page show them", async () => {
    const { token } = await login(ADMIN.email, ADMIN.password);
    const product = await newProduct(token, "Walnut Serving Board");
    let side = "";

    await withPage(browser, "admin-product-images", async (page) => {
      await loginThroughUi(page, ADMIN.email, ADMIN.password);
      await page.goto(`/admin/products/${product.id}?position=${encodeURIComponent(product.position)}`);
      await page.getByRole("heading", { name: "Walnut Serving Board" }).waitFor();
      const panel = page.getByRole("region", { name: "Images" });
      await panel.getByText("No images yet").waitFor();

      // The upload form checks before sending: a file and its alt text are required.
      await panel.getByRole("button", { name: "Upload image" }).click();
      await panel.getByText("Choose an image, or drop one here.").waitFor();
      await panel.getByText("Describe the image for people who cannot see it.").waitFor();

      // The first image, chosen with the file input.
      await panel.getByLabel("Choose a file").setInputFiles({
        name: "board-front.png",
        mimeType: "image/png",
        buffer: stripedPng([120, 72, 40]),
      });
      await panel.getByTestId("chosen-file").getByText("board-front.png").waitFor();
      await panel.getByLabel("Alt text").fill(FRONT);
      await panel.getByRole("button", { name: "Upload image" }).click();
      // Listed once the product is read again at the upload's position.
      await expect.poll(() => listedImages(page), SETTLED).toHaveLength(1);
      const [front] = await listedImages(page);
      await panel.getByTestId("product-image").getByText(FRONT).waitFor();
      expect(await panel.getByLabel("Alt text").inputValue()).toBe("");

      // The second, dropped on the drop zone.
      const dropped = await page.evaluateHandle((base64) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "board-side.png", { type: "image/png" }));
        return transfer;
      }, stripedPng([40, 90, 120]).toString("base64"));
      await panel.getByTestId("image-drop-zone").dispatchEvent("drop", { dataTransfer: dropped });
      await panel.getByTestId("chosen-file").getByText("board-side.png").waitFor();
      await panel.getByLabel("Alt text").fill(SIDE);
      await panel.getByRole("button", { name: "Upload image" }).click();
      await expect.poll(() => listedImages(page), SETTLED).toHaveLength(2);
      side = (await listedImages(page)).find((id) => id !== front) ?? "";
      expect(await listedImages(page)).toEqual([front, side]);
      await screenshot(page, "steps/admin-images-uploaded");

      // Reorder: the side view first. The first image has no "up", the last no "down".
      expect(await panel.getByRole("button", { name: `Move ${FRONT} up` }).isDisabled()).toBe(true);
      expect(await panel.getByRole("button", { name: `Move ${SIDE} down` }).isDisabled()).toBe(true);
      await panel.getByRole("button", { name: `Move ${SIDE} up` }).click();
      await expect.poll(() => listedImages(page), SETTLED).toEqual([side, front]);

      // Remove the view from above, after confirming.
      await panel.getByRole("button", { name: `Remove ${FRONT}` }).click();
      await panel.getByRole("button", { name: "Yes, remove" }).click();
      await expect.poll(() => listedImages(page), SETTLED).toEqual([side]);
      await panel.getByRole("button", { name: `Remove ${SIDE}` }).waitFor();
    });

    // A second image through the API (multipart, as the form sends it), so the product page has a gallery.
    const form = imageForm(DETAIL, stripedPng([150, 150, 60]), "board-handle.png");
    const detail = await call<Written>("POST", `/products/${product.id}/images`, form, token);
    const read = await call<{ images: { id: string; url: string }[] }>(
      "GET",
      `/products/${product.id}?min_position=${encodeURIComponent(detail.position)}`,
    );
    expect(read.images.map((i) => i.id)).toEqual([side, detail.id]);

    await withPage(browser, "product-images-storefront", async (page) => {
      // The catalog card shows the first image, once the catalog's view has it.
      const img = page
        .getByTestId("product-card")
        .filter({ has: page.locator(`a[href="/products/${product.id}"]`) })
        .locator("img");
      await expect
        .poll(
          async () => {
            await page.goto(`/?q=${encodeURIComponent(product.sku)}`);
            await page.getByTestId("product-grid").or(page.getByText("No products match")).waitFor();
            return img.count();
          },
          { timeout: 10_000, interval: 250 },
        )
        .toBe(1);
      expect(await img.getAttribute("alt")).toBe(SIDE);
      expect(await img.getAttribute("loading")).toBe("lazy");
      const srcset = (await img.getAttribute("srcset")) ?? "";
      const candidates = srcset.split(",").map((c) => c.trim());
      expect(candidates.length).toBeGreaterThanOrEqual(1);
      for (const candidate of candidates) expect(candidate).toMatch(/^\/media\/\S+ \d+w$/);
      await img.scrollIntoViewIfNeeded();
      await expect.poll(() => loaded(img), SETTLED).toBe(true);

      // What the browser loaded is a JPEG variant, cached for good.
      const src = await img.evaluate((el: HTMLImageElement) => new URL(el.currentSrc).pathname);
      expect(src).toMatch(/^\/media\//);
      const media = await fetch(`${BASE_URL}${src}`);
      expect(media.status).toBe(200);
      expect(media.headers.get("content-type")).toMatch(/^image\/jpeg/);
      expect(media.headers.get("cache-control")).toContain("immutable");
      await screenshot(page, "steps/catalog-card-image");

      // The product page: the first image large, and a thumbnail button per image that shows it instead.
      await page.getByTestId("product-card").filter({ has: page.locator(`a[href="/products/${product.id}"]`) }).getByRole("link").click();
      await page.getByRole("heading", { name: "Walnut Serving Board" }).waitFor();
      const gallery = page.getByTestId("gallery");
      const main = gallery.locator("img.picture-large");
      await main.waitFor();
      expect(await main.getAttribute("alt")).toBe(SIDE);
      await expect.poll(() => loaded(main), SETTLED).toBe(true);
      const first = gallery.getByRole("button", { name: `Show picture 1 of 2: ${SIDE}` });
      const second = gallery.getByRole("button", { name: `Show picture 2 of 2: ${DETAIL}` });
      expect(await first.getAttribute("aria-pressed")).toBe("true");
      await second.click();
      await expect.poll(() => main.getAttribute("alt")).toBe(DETAIL);
      expect(await second.getAttribute("aria-pressed")).toBe("true");
      expect(await main.getAttribute("srcset")).toMatch(/^\/media\//);
      await expect.poll(() => loaded(main), SETTLED).toBe(true);
    });
  });

  it("shows the server's refusal of a file that is not an image, even one named .png", async () => {
    const { token } = await login(ADMIN.email, ADMIN.password);
    const product = await newProduct(token, "Walnut Cheese Board");
    const text = Buffer.from("This is a shopping list, not a picture.\nBread\nCheese\n");

    // The API's own words for it.
    const form = imageForm("Not a picture", text, "list.png");
    const problem = await refusal("POST", `/products/${product.id}/images`, form, token);
    expect(problem.status).toBe(422);

    await withPage(browser, "admin-image-refused", async (page) => {
      await loginThroughUi(page, ADMIN.email, ADMIN.password);
      await page.goto(`/admin/products/${product.id}?position=${encodeURIComponent(product.position)}`);
      const panel = page.getByRole("region", { name: "Images" });
      await panel.getByText("No images yet").waitFor();

      // The browser calls it image/png by its name, so it passes the form's check and reaches the server.
      await panel.getByLabel("Choose a file").setInputFiles({ name: "list.png", mimeType: "image/png", buffer: text });
      await panel.getByLabel("Alt text").fill("Not a picture");
      await panel.getByRole("button", { name: "Upload image" }).click();

      const alert = panel.getByRole("form", { name: "Upload an image" }).getByRole("alert");
      await alert.waitFor();
      expect((await alert.textContent())?.trim()).toBe(problem.detail?.trim() || "Some of the information is not valid.");
      const fieldMessage = problem.errors?.image;
      if (fieldMessage) {
        const shown = (await panel.getByTestId("image-drop-zone").locator(".field-error").textContent()) ?? "";
        expect(shown.toLowerCase()).toContain(fieldMessage.trim().replace(/\.$/, "").toLowerCase());
      }
      expect(await page.getByTestId("product-image").count()).toBe(0);
      await panel.getByText("No images yet").waitFor();
    });
  });
});
