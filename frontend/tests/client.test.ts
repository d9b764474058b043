import { describe, expect, it, vi } from "vitest";
import { checkOut, setCartItemQuantity } from "../src/api/cart";
import { updateProduct } from "../src/api/catalog";
import { ApiError, configureAuth, errorMessage, get, plainMessage, request, write } from "../src/api/client";
import { getOrder, listOrders } from "../src/api/orders";

function answer(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  const text = body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body);
  return new Response(text, { status, headers });
}

function stubFetch(response: Response | (() => Promise<Response>)) {
  const fetch = vi.fn(typeof response === "function" ? response : async () => response);
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error("expected the request to fail");
}

const PROBLEM = { "Content-Type": "application/problem+json" };

describe("the API client's problem handling", () => {
  it("turns a validation problem into field errors and the server's detail", async () => {
    stubFetch(
      answer(
        422,
        {
          type: "/problems/validation",
          title: "Unprocessable Entity",
          status: 422,
          detail: "2 fields are not valid.",
          errors: { "shipping_address.city": "must not be empty", payment_method: "must be one of pm_card_visa" },
        },
        PROBLEM,
      ),
    );
    const error = await failure(write("POST", "/cart/checkout", {}));
    expect(error.status).toBe(422);
    expect(error.code).toBe("validation");
    expect(error.message).toBe("2 fields are not valid.");
    expect(error.fieldErrors).toEqual({
      "shipping_address.city": "must not be empty",
      payment_method: "must be one of pm_card_visa",
    });
  });

  it("shows a refusal's detail in plain words", async () => {
    stubFetch(answer(409, { type: "/problems/sku_taken", title: "Conflict", status: 409, detail: "A product with SKU X-1 already exists." }, PROBLEM));
    const error = await failure(write("POST", "/products", {}));
    expect(error.message).toBe("A product with SKU X-1 already exists.");
    expect(error.code).toBe("sku_taken");
    expect(error.fieldErrors).toEqual({});
  });

  it("says how long to wait when rate limited", async () => {
    stubFetch(answer(429, { status: 429, title: "Too Many Requests", detail: "Too many failed logins." }, { ...PROBLEM, "Retry-After": "30" }));
    const error = await failure(request("/auth/login", { method: "POST", body: {} }));
    expect(error.retryAfter).toBe(30);
    expect(error.message).toBe("Too many failed logins. Try again in 30 seconds.");
  });

  it("describes a failure without a body by its status, with the request id for server errors", async () => {
    stubFetch(answer(502, "<html>Bad gateway</html>", { "Content-Type": "text/html", "X-Request-Id": "req-42" }));
    const error = await failure(get("/products"));
    expect(error.status).toBe(502);
    expect(error.message).toBe("Something went wrong on our side. Please try again. (Reference: req-42)");

    stubFetch(answer(412));
    expect((await failure(write("PATCH", "/products/1", {}))).message).toMatch(/Someone else changed this/);
  });

  it("ignores an errors map that is not field → message", async () => {
    stubFetch(answer(422, { status: 422, detail: "Nope.", errors: ["a", "b"] }, PROBLEM));
    const error = await failure(write("POST", "/x", {}));
    expect(error.fieldErrors).toEqual({});
    expect(error.message).toBe("Nope.");
  });

  it("reports an unreachable server as a connection problem", async () => {
    stubFetch(() => Promise.reject(new TypeError("Failed to fetch")));
    const error = await failure(get("/products"));
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/can't reach the shop/);
    expect(errorMessage(error)).toBe(error.message);
    expect(errorMessage(new Error("internal stuff"))).not.toMatch(/internal stuff/);
  });

  it("tells the session about a 401, but not about a failed login", async () => {
    const unauthorized = vi.fn();
    configureAuth(unauthorized);
    stubFetch(answer(401, { status: 401, detail: "The token is not valid." }, PROBLEM));
    await failure(get("/me"));
    expect(unauthorized).toHaveBeenCalledOnce();
    stubFetch(answer(401, { status: 401, detail: "Wrong email or password." }, PROBLEM));
    await failure(request("/auth/login", { method: "POST", body: {} }));
    expect(unauthorized).toHaveBeenCalledOnce();
    configureAuth(() => {});
  });

  it("formats a problem without a detail by its status", () => {
    expect(plainMessage({ status: 404 })).toBe("We couldn't find what you were looking for.");
    expect(plainMessage({ status: 418 })).toBe("The request was refused.");
    expect(plainMessage({ status: 503, detail: "" }, 2)).toMatch(/briefly unavailable/);
  });
});

describe("the API client's requests", () => {
  it("sends X-Requested-With, the read-your-writes position, If-Match and idempotency key, and no token", async () => {
    const fetch = stubFetch(answer(202, { id: "o1", position: "9.1" }, { "Content-Type": "application/json" }));
    const written = await write("POST", "/orders/o1/cancel", { a: 1 }, { ifMatch: '"3"', idempotencyKey: "k-1" });
    expect(written).toEqual({ id: "o1", position: "9.1" });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/orders/o1/cancel");
    const headers = init.headers as Record<string, string>;
    expect(headers.Authorization).toBeUndefined();
    expect(headers["X-Requested-With"]).toBe("shop-storefront");
    expect(init.credentials).toBe("same-origin");
    expect(headers["If-Match"]).toBe('"3"');
    expect(headers["Idempotency-Key"]).toBe("k-1");
    expect(headers["Content-Type"]).toBe("application/json");
    expect(init.body).toBe('{"a":1}');

    stubFetch(answer(200, { items: [] }, { "Content-Type": "application/json" }));
    const reading = vi.mocked(globalThis.fetch);
    await get("/cart", { minPosition: "9.1", query: { page: 2, q: "", sort: undefined } });
    const [readUrl, readInit] = reading.mock.calls[0] as unknown as [string, RequestInit];
    expect(readUrl).toBe("/api/v1/cart?page=2");
    expect((readInit.headers as Record<string, string>)["X-Min-Position"]).toBe("9.1");
    expect((readInit.headers as Record<string, string>)["X-Requested-With"]).toBe("shop-storefront");
    expect(readInit.credentials).toBe("same-origin");
  });

  it("accepts an empty 204 answer", async () => {
    stubFetch(answer(204));
    const { data, status } = await request("/auth/logout", { method: "POST" });
    expect(status).toBe(204);
    expect(data).toBeUndefined();
  });
});

describe("the typed calls per resource", () => {
  it("send the method, path, body and headers of their operation through the one client", async () => {
    const fetch = stubFetch(async () => answer(202, { id: "o-9", position: "12.3", version: 1 }, { "Content-Type": "application/json" }));
    const address = { name: "Robin", line1: "1 Main St", city: "Berlin", postal_code: "10115", country: "DE" };
    const written = await checkOut({ shipping_address: address, payment_method: "pm_card_visa" }, { idempotencyKey: "k-9" });
    expect(written).toEqual({ id: "o-9", position: "12.3", version: 1 });
    await setCartItemQuantity("a/b", 3);
    await updateProduct("p-1", { name: "New name" }, { ifMatch: '"4"' });

    const sent = fetch.mock.calls.map((call) => {
      const [url, init] = call as unknown as [string, RequestInit];
      return { url, method: init.method, body: init.body, headers: init.headers as Record<string, string>, credentials: init.credentials };
    });
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual([
      "POST /api/v1/cart/checkout",
      "PUT /api/v1/cart/items/a%2Fb",
      "PATCH /api/v1/products/p-1",
    ]);
    expect(sent[0].headers["Idempotency-Key"]).toBe("k-9");
    expect(JSON.parse(String(sent[0].body))).toEqual({ shipping_address: address, payment_method: "pm_card_visa" });
    expect(sent[1].body).toBe('{"quantity":3}');
    expect(sent[2].headers["If-Match"]).toBe('"4"');
    for (const s of sent) {
      expect(s.headers["X-Requested-With"]).toBe("shop-storefront");
      expect(s.credentials).toBe("same-origin");
    }
  });

  it("read with the query, X-Min-Position and the ETag", async () => {
    const fetch = stubFetch(async () =>
      answer(200, { id: "o-1", status: "pending", items: [], payment: { status: "pending", method: "pm_card_visa" }, timeline: [] }, {
        "Content-Type": "application/json",
        ETag: '"2"',
      }),
    );
    const { order, etag } = await getOrder("o-1", { minPosition: "7.1" });
    expect(order.status).toBe("pending");
    expect(etag).toBe('"2"');
    await listOrders({ status: "confirmed", page: 2, limit: 25, user_id: undefined });
    const urls = fetch.mock.calls.map((call) => (call as unknown as [string])[0]);
    expect(urls).toEqual(["/api/v1/orders/o-1", "/api/v1/orders?status=confirmed&page=2&limit=25"]);
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect((init.headers as Record<string, string>)["X-Min-Position"]).toBe("7.1");
  });

  it("turn a refusal into the same ApiError as any request", async () => {
    stubFetch(
      answer(
        422,
        { type: "/problems/product_discontinued", title: "Unprocessable Entity", status: 422, detail: "Lamp is no longer sold; remove it from the cart." },
        PROBLEM,
      ),
    );
    const error = await failure(checkOut({ shipping_address: { name: "R", line1: "1", city: "B", postal_code: "1", country: "DE" }, payment_method: "pm_card_visa" }));
    expect(error.code).toBe("product_discontinued");
    expect(error.message).toBe("Lamp is no longer sold; remove it from the cart.");
  });
});
