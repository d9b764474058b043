import { act, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { get } from "../src/api/client";
import { AuthProvider, useAuth } from "../src/store/auth";

// What a real login answers: a JWT (three base64url parts). The app must not keep it anywhere.
const TOKEN =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTEiLCJyb2xlIjoiY3VzdG9tZXIifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
const ME = { id: "u-1", email: "casey@example.com", name: "Casey Customer", role: "customer", created_at: "2026-01-01T00:00:00Z" };

function json(status: number, body?: unknown, type = "application/json"): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: body === undefined ? {} : { "Content-Type": type },
  });
}
const unauthorized = () => json(401, { status: 401, title: "Unauthorized" }, "application/problem+json");

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  credentials?: RequestCredentials;
}

/**
 * A fake shop whose session is a cookie the page cannot see: login "sets" it, logout "clears" it, /me
 * answers 200 only while it is set.
 */
function stubShop({ signedIn = false, logoutStatus = 204 }: { signedIn?: boolean; logoutStatus?: number } = {}) {
  const shop = { cookie: signedIn, calls: [] as Call[], expire: () => (shop.cookie = false) };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      shop.calls.push({ url, method, headers: { ...(init.headers as Record<string, string>) }, credentials: init.credentials });
      if (url === "/api/v1/auth/login" && method === "POST") {
        shop.cookie = true;
        return json(200, { access_token: TOKEN, token_type: "Bearer", expires_in: 3600, user_id: ME.id, role: ME.role });
      }
      if (url === "/api/v1/auth/logout" && method === "POST") {
        if (!shop.cookie) return unauthorized();
        shop.cookie = false;
        return logoutStatus === 204 ? json(204) : json(logoutStatus, { status: logoutStatus }, "application/problem+json");
      }
      if (!shop.cookie) return unauthorized();
      if (url === "/api/v1/me") return json(200, ME);
      return json(200, { items: [] });
    }),
  );
  return shop;
}

let auth: ReturnType<typeof useAuth>;

function Probe() {
  auth = useAuth();
  const { state } = auth;
  return (
    <div>
      <p data-testid="status">{state.status}</p>
      {state.status === "signed-in" && <p data-testid="who">{state.session.name ?? state.session.email}</p>}
      {state.status === "anonymous" && state.notice && <p role="status">{state.notice}</p>}
    </div>
  );
}

function renderAuth() {
  return render(
    <AuthProvider>
      <Probe />
    </AuthProvider>,
  );
}

const status = () => screen.getByTestId("status").textContent;

function storedValues(): string[] {
  const values: string[] = [];
  for (const storage of [localStorage, sessionStorage]) {
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i)!;
      values.push(key, storage.getItem(key) ?? "");
    }
  }
  return values;
}

describe("the session", () => {
  it("is signed in on start when GET /me answers 200 (the cookie is there)", async () => {
    stubShop({ signedIn: true });
    renderAuth();
    expect(status()).toBe("loading");
    await waitFor(() => expect(status()).toBe("signed-in"));
    expect(screen.getByTestId("who").textContent).toBe("Casey Customer");
    expect(auth.session).toEqual({ userId: "u-1", role: "customer", name: "Casey Customer", email: "casey@example.com" });
  });

  it("is anonymous on start when GET /me answers 401, without the session-ended notice", async () => {
    stubShop();
    renderAuth();
    await waitFor(() => expect(status()).toBe("anonymous"));
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("forgets a token an earlier version left in localStorage", async () => {
    localStorage.setItem("shop.token", TOKEN);
    stubShop();
    renderAuth();
    await waitFor(() => expect(status()).toBe("anonymous"));
    expect(localStorage.getItem("shop.token")).toBeNull();
  });

  it("keeps the token out of storage and memory after login, and never sends it itself", async () => {
    const shop = stubShop();
    renderAuth();
    await waitFor(() => expect(status()).toBe("anonymous"));

    let returned: unknown;
    await act(async () => {
      returned = await auth.login("casey@example.com", "correct horse battery");
    });
    await waitFor(() => expect(screen.getByTestId("who").textContent).toBe("Casey Customer"));
    await act(() => get("/cart"));

    // Nothing that holds (a part of) the token: not storage, not the session, not what login returned.
    const signature = TOKEN.split(".")[2];
    for (const value of storedValues()) {
      expect(value).not.toContain(signature);
      expect(value).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    }
    expect(JSON.stringify(auth.session)).not.toContain(signature);
    expect(JSON.stringify(auth.state)).not.toContain(signature);
    expect(JSON.stringify(returned)).not.toContain(signature);
    expect(auth.session).toEqual({ userId: "u-1", role: "customer", name: "Casey Customer", email: "casey@example.com" });

    // Every request: the CSRF header, the page's own cookies, no Authorization header.
    expect(shop.calls.map((c) => `${c.method} ${c.url}`)).toEqual(
      expect.arrayContaining(["GET /api/v1/me", "POST /api/v1/auth/login", "GET /api/v1/cart"]),
    );
    for (const call of shop.calls) {
      expect(call.headers["X-Requested-With"]).toBe("shop-storefront");
      expect(Object.keys(call.headers).map((k) => k.toLowerCase())).not.toContain("authorization");
      expect(JSON.stringify(call.headers)).not.toContain(signature);
      expect(call.credentials).toBe("same-origin");
    }
  });

  it("ends with a notice when a request is refused while signed in", async () => {
    const shop = stubShop({ signedIn: true });
    renderAuth();
    await waitFor(() => expect(status()).toBe("signed-in"));
    shop.expire();
    await act(() => get("/cart").catch(() => {}));
    expect(status()).toBe("anonymous");
    expect(screen.getByRole("status").textContent).toBe("Your session has ended. Please log in again.");
  });

  it("does not end the session on a failed login", async () => {
    stubShop({ signedIn: true });
    renderAuth();
    await waitFor(() => expect(status()).toBe("signed-in"));
    vi.mocked(globalThis.fetch).mockResolvedValueOnce(unauthorized());
    await act(() => auth.login("casey@example.com", "wrong").catch(() => {}));
    expect(status()).toBe("signed-in");
  });

  it("logs out through the server, and is anonymous whatever it answered", async () => {
    const shop = stubShop({ signedIn: true });
    renderAuth();
    await waitFor(() => expect(status()).toBe("signed-in"));
    await act(() => auth.logout());
    expect(shop.calls.at(-1)).toMatchObject({ method: "POST", url: "/api/v1/auth/logout" });
    expect(shop.cookie).toBe(false);
    expect(status()).toBe("anonymous");
    expect(screen.queryByRole("status")).toBeNull();

    // A cookie that had already expired (401), or a server error: still anonymous, no notice.
    for (const logoutStatus of [401, 500]) {
      const again = stubShop({ signedIn: true, logoutStatus });
      await act(async () => {
        await auth.login("casey@example.com", "correct horse battery");
      });
      if (logoutStatus === 401) again.expire();
      await act(() => auth.logout());
      expect(status()).toBe("anonymous");
      expect(screen.queryByRole("status")).toBeNull();
    }
  });
});
