/** Talking to the shop's API directly, for set-up that is not what a test is about. */
import { BASE_URL } from "./env";

export interface Written {
  id: string;
  position: string;
}

/** Sends `body` as JSON, or as `multipart/form-data` when it is a `FormData` (fetch sets its boundary). */
function send(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
  const form = body instanceof FormData;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(`${BASE_URL}/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : form ? body : JSON.stringify(body),
  });
}

export async function call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const response = await send(method, path, body, token);
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface Refusal {
  status: number;
  type?: string;
  detail?: string;
  errors?: Record<string, string>;
}

/** Sends a request the API is expected to refuse and returns its problem; fails when it was accepted. */
export async function refusal(method: string, path: string, body?: unknown, token?: string): Promise<Refusal> {
  const response = await send(method, path, body, token);
  const text = await response.text();
  if (response.ok) throw new Error(`${method} ${path} → ${response.status}, not a refusal: ${text}`);
  const problem = text ? (JSON.parse(text) as Omit<Refusal, "status">) : {};
  return { status: response.status, type: problem.type, detail: problem.detail, errors: problem.errors };
}

export async function login(email: string, password: string): Promise<{ token: string; userId: string }> {
  const answer = await call<{ access_token: string; user_id: string }>("POST", "/auth/login", { email, password });
  return { token: answer.access_token, userId: answer.user_id };
}

let counter = 0;

/** A new customer with a unique email, registered through the API. */
export async function newCustomer(): Promise<{ email: string; password: string; name: string; token: string }> {
  const email = `customer-${Date.now()}-${process.pid}-${++counter}@example.com`;
  const password = "correct horse battery";
  const name = "Casey Customer";
  await call("POST", "/auth/register", { email, password, name });
  const { token } = await login(email, password);
  return { email, password, name, token };
}

export async function productBySku(sku: string): Promise<{ id: string; name: string; available: number }> {
  const page = await call<{ items: { id: string; sku: string; name: string; available: number }[] }>(
    "GET",
    `/products?q=${encodeURIComponent(sku)}&limit=100`,
  );
  const found = page.items.find((p) => p.sku === sku);
  if (!found) throw new Error(`no product with SKU ${sku}`);
  return found;
}

/**
 * Polls GET /orders/{id} until the order's status is one of `statuses`, and returns it; fails at the deadline.
 */
export async function waitForOrderStatus(
  written: Written,
  token: string,
  statuses: string[],
  deadlineMs: number,
): Promise<string> {
  const until = Date.now() + deadlineMs;
  const path = `/orders/${written.id}`;
  // The first read waits for the checkout's own write (read-your-writes); the rest poll.
  const read = async (query = "") => (await call<{ status: string }>("GET", path + query, undefined, token)).status;
  let seen = await read(`?min_position=${encodeURIComponent(written.position)}`);
  while (!statuses.includes(seen) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    seen = await read();
  }
  if (!statuses.includes(seen)) {
    throw new Error(`order ${written.id} is ${seen}, not ${statuses.join(" or ")}, after ${deadlineMs} ms`);
  }
  return seen;
}
