import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ProductImagesPanel } from "../src/admin/ProductImages";
import { uploadProductImage } from "../src/api/catalog";
import { ApiError, configureAuth } from "../src/api/client";
import type { Product, ProductImage } from "../src/api/types";
import { ProductGallery, ProductPicture } from "../src/components/ProductPicture";

function image(id: string, alt: string): ProductImage {
  const at = (width: number) => ({ url: `/media/${id}/${width}.jpg`, width, height: (width * 3) / 4 });
  return { id, alt, ...at(960), variants: [at(320), at(960)] };
}

const MUG = image("img-mug", "A blue mug on a table");
const MUG_SIDE = image("img-side", "The mug from the side");

function product(images: ProductImage[] = []): Product {
  return {
    id: "p-mug", sku: "KIT-MUG-01", name: "Stoneware Mug", description: "A mug.", category: "Kitchen",
    price: { amount: 1400, currency: "EUR" }, available: 4, in_stock: true, images,
    created_at: null, updated_at: null,
  };
}

/** A stand-in XMLHttpRequest: records the request, reports progress, then answers with `reply`. */
class FakeXhr {
  static sent: FakeXhr[] = [];
  static reply: { status: number; body: unknown; headers?: string } = { status: 201, body: {} };
  method = "";
  url = "";
  headers: Record<string, string> = {};
  body: unknown;
  status = 0;
  responseText = "";
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  private responseHeaders = "";

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getAllResponseHeaders() {
    return this.responseHeaders;
  }
  abort() {
    this.onabort?.();
  }
  send(body: unknown) {
    this.body = body;
    FakeXhr.sent.push(this);
    setTimeout(() => {
      this.upload.onprogress?.({ loaded: 50, total: 200, lengthComputable: true });
      const { status, body: answer, headers } = FakeXhr.reply;
      this.status = status;
      this.responseText = JSON.stringify(answer);
      this.responseHeaders = headers ?? "content-type: application/json\r\n";
      this.onload?.();
    }, 0);
  }
}

function stubXhr(reply: typeof FakeXhr.reply) {
  FakeXhr.sent = [];
  FakeXhr.reply = reply;
  vi.stubGlobal("XMLHttpRequest", FakeXhr);
}

const PROBLEM = "content-type: application/problem+json\r\nx-request-id: req-1\r\n";
const png = (name = "mug.png", bytes = 64) => new File([new Uint8Array(bytes)], name, { type: "image/png" });

describe("a catalog card's picture", () => {
  it("is the product's first image, lazy, with every variant in srcset and its size", () => {
    const { container } = render(<ProductPicture product={product([MUG, MUG_SIDE])} />);
    const img = container.querySelector("img");
    expect(img?.getAttribute("src")).toBe("/media/img-mug/960.jpg");
    expect(img?.getAttribute("srcset")).toBe("/media/img-mug/320.jpg 320w, /media/img-mug/960.jpg 960w");
    expect(img?.getAttribute("sizes")).toMatch(/50vw$/);
    expect(img?.getAttribute("width")).toBe("960");
    expect(img?.getAttribute("height")).toBe("720");
    expect(img?.getAttribute("alt")).toBe("A blue mug on a table");
    expect(img?.getAttribute("loading")).toBe("lazy");
    expect(img?.getAttribute("decoding")).toBe("async");
  });

  it("is the coloured tile with the initials when the product has no image", () => {
    const { container } = render(<ProductPicture product={product()} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector(".art-card")?.textContent).toBe("SM");
  });
});

describe("the product page's gallery", () => {
  it("shows the first image large, and a button per image that shows it instead", () => {
    const { container } = render(<ProductGallery product={product([MUG, MUG_SIDE])} />);
    const main = () => container.querySelector("img.picture-large");
    expect(main()?.getAttribute("alt")).toBe("A blue mug on a table");
    const first = screen.getByRole("button", { name: "Show picture 1 of 2: A blue mug on a table" });
    const second = screen.getByRole("button", { name: "Show picture 2 of 2: The mug from the side" });
    expect(first.getAttribute("aria-pressed")).toBe("true");

    fireEvent.click(second);
    expect(main()?.getAttribute("alt")).toBe("The mug from the side");
    expect(main()?.getAttribute("srcset")).toBe("/media/img-side/320.jpg 320w, /media/img-side/960.jpg 960w");
    expect(second.getAttribute("aria-pressed")).toBe("true");
    expect(first.getAttribute("aria-pressed")).toBe("false");
  });

  it("has no thumbnails for a single image", () => {
    const { container } = render(<ProductGallery product={product([MUG])} />);
    expect(container.querySelector("img.picture-large")).not.toBeNull();
    expect(screen.queryAllByRole("button")).toHaveLength(0);
  });

  it("is the large tile without images", () => {
    const { container } = render(<ProductGallery product={product()} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector(".art-large")).not.toBeNull();
  });
});

describe("uploading a product image", () => {
  it("sends the alt text and the file as multipart with the client's headers, and reports progress", async () => {
    stubXhr({ status: 201, body: { id: "img-new", position: "42" } });
    const progress: number[][] = [];
    const written = await uploadProductImage(
      "p-mug",
      { image: png(), alt: "A blue mug" },
      { idempotencyKey: "key-1", onProgress: (loaded, total) => progress.push([loaded, total]) },
    );

    expect(written).toEqual({ id: "img-new", position: "42" });
    expect(progress).toEqual([[50, 200]]);
    const [xhr] = FakeXhr.sent;
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toBe("/api/v1/products/p-mug/images");
    expect(xhr.headers).toEqual({
      Accept: "application/json",
      "X-Requested-With": "shop-storefront",
      "Idempotency-Key": "key-1",
    });
    const form = xhr.body as FormData;
    expect(form.get("alt")).toBe("A blue mug");
    expect((form.get("image") as File).name).toBe("mug.png");
  });

  it("turns a refusal into an ApiError with the server's detail and field errors", async () => {
    stubXhr({
      status: 422,
      body: { type: "/problems/validation", status: 422, detail: "The file is not an image.", errors: { image: "is not a JPEG, PNG or WebP image" } },
      headers: PROBLEM,
    });
    const error = await uploadProductImage("p-mug", { image: png(), alt: "A mug" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).message).toBe("The file is not an image.");
    expect((error as ApiError).fieldErrors).toEqual({ image: "is not a JPEG, PNG or WebP image" });
  });

  it("says a file is too large in plain words when the server answers 413 without a detail", async () => {
    stubXhr({ status: 413, body: { status: 413 }, headers: PROBLEM });
    const error = await uploadProductImage("p-mug", { image: png(), alt: "A mug" }).catch((e: unknown) => e);
    expect((error as ApiError).message).toBe("That is too large to send.");
  });

  it("tells the session store when the session has ended", async () => {
    const ended = vi.fn();
    configureAuth(ended);
    stubXhr({ status: 401, body: { status: 401 }, headers: PROBLEM });
    await uploadProductImage("p-mug", { image: png(), alt: "A mug" }).catch(() => {});
    expect(ended).toHaveBeenCalledOnce();
    configureAuth(() => {});
  });
});

interface Call {
  method: string;
  url: string;
  body: unknown;
}

function stubFetch() {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      calls.push({ method: init.method ?? "GET", url, body: init.body ? JSON.parse(String(init.body)) : undefined });
      return new Response(JSON.stringify({ id: "p-mug", position: "7" }), {
        status: 202,
        headers: { "Content-Type": "application/json" },
      });
    }),
  );
  return calls;
}

describe("the back office's images panel", () => {
  it("checks the file and the alt text before sending anything", async () => {
    stubXhr({ status: 201, body: { id: "img-new", position: "42" } });
    render(<ProductImagesPanel product={product()} refreshing={false} onDone={() => {}} />);

    fireEvent.click(screen.getByRole("button", { name: "Upload image" }));
    expect(screen.getByText("Choose an image, or drop one here.")).toBeTruthy();
    expect(screen.getByText("Describe the image for people who cannot see it.")).toBeTruthy();

    const text = new File(["hello"], "notes.txt", { type: "text/plain" });
    fireEvent.change(screen.getByLabelText("Choose a file"), { target: { files: [text] } });
    expect(screen.getByText("notes.txt is not a JPEG, PNG or WebP image.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Upload image" }));
    expect(FakeXhr.sent).toHaveLength(0);
  });

  it("uploads a dropped image with its alt text, then reloads the product at the answer's position", async () => {
    stubXhr({ status: 201, body: { id: "img-new", position: "42" } });
    const done = vi.fn();
    render(<ProductImagesPanel product={product()} refreshing={false} onDone={done} />);

    fireEvent.drop(screen.getByTestId("image-drop-zone"), { dataTransfer: { files: [png("dropped.png", 2048)] } });
    expect(screen.getByTestId("chosen-file").textContent).toBe("dropped.png · 0.1 MB");
    fireEvent.change(screen.getByLabelText("Alt text"), { target: { value: "  A blue mug  " } });
    fireEvent.click(screen.getByRole("button", { name: "Upload image" }));

    await waitFor(() => expect(done).toHaveBeenCalledWith("42"));
    const form = FakeXhr.sent[0].body as FormData;
    expect(form.get("alt")).toBe("A blue mug");
    expect((form.get("image") as File).name).toBe("dropped.png");
    expect(FakeXhr.sent[0].headers["Idempotency-Key"]).toBeTruthy();
    expect((screen.getByLabelText("Alt text") as HTMLInputElement).value).toBe("");
  });

  it("shows the server's words when it refuses an upload, next to the field it names", async () => {
    stubXhr({
      status: 422,
      body: { status: 422, detail: "The file is not a JPEG, PNG or WebP image.", errors: { image: "is not an image" } },
      headers: PROBLEM,
    });
    const done = vi.fn();
    render(<ProductImagesPanel product={product()} refreshing={false} onDone={done} />);
    fireEvent.change(screen.getByLabelText("Choose a file"), { target: { files: [png("fake.png")] } });
    fireEvent.change(screen.getByLabelText("Alt text"), { target: { value: "Not really a picture" } });
    fireEvent.click(screen.getByRole("button", { name: "Upload image" }));

    expect((await screen.findByRole("alert")).textContent).toBe("The file is not a JPEG, PNG or WebP image.");
    expect(screen.getByText("Is not an image.")).toBeTruthy();
    expect(done).not.toHaveBeenCalled();
  });

  it("lists the images and moves one with the whole new order", async () => {
    const calls = stubFetch();
    const done = vi.fn();
    render(<ProductImagesPanel product={product([MUG, MUG_SIDE])} refreshing={false} onDone={done} />);
    const items = screen.getAllByTestId("product-image");
    expect(items.map((li) => li.getAttribute("data-image-id"))).toEqual(["img-mug", "img-side"]);
    expect(within(items[0]).getByText("A blue mug on a table")).toBeTruthy();
    expect((screen.getByRole("button", { name: "Move A blue mug on a table up" }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "Move The mug from the side down" }) as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(screen.getByRole("button", { name: "Move The mug from the side up" }));
    await waitFor(() => expect(done).toHaveBeenCalledWith("7"));
    expect(calls).toEqual([{ method: "PUT", url: "/api/v1/products/p-mug/images", body: { order: ["img-side", "img-mug"] } }]);
  });

  it("removes an image only once the administrator confirms", async () => {
    const calls = stubFetch();
    const done = vi.fn();
    render(<ProductImagesPanel product={product([MUG, MUG_SIDE])} refreshing={false} onDone={done} />);

    fireEvent.click(screen.getByRole("button", { name: "Remove The mug from the side" }));
    expect(calls).toHaveLength(0);
    fireEvent.click(screen.getByRole("button", { name: "Keep" }));
    fireEvent.click(screen.getByRole("button", { name: "Remove The mug from the side" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, remove" }));

    await waitFor(() => expect(done).toHaveBeenCalledWith("7"));
    expect(calls).toEqual([{ method: "DELETE", url: "/api/v1/products/p-mug/images/img-side", body: undefined }]);
  });

  it("offers no moves while the product is read again after a write", () => {
    stubFetch();
    render(<ProductImagesPanel product={product([MUG, MUG_SIDE])} refreshing onDone={() => {}} />);
    expect((screen.getByRole("button", { name: "Move The mug from the side up" }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "Remove A blue mug on a table" }) as HTMLButtonElement).disabled).toBe(true);
  });
});
