/**
 * The one way the app talks to the shop: `fetch` under /api/v1 on the page's own origin, JSON in and out
 * (XMLHttpRequest for uploads, which report their progress), and every failure turned into an `ApiError` whose
 * `message` a person can read. The typed calls per resource (catalog.ts, cart.ts, orders.ts, promotions.ts,
 * auth.ts, audit.ts, notifications.ts) are built on `request`, `get`, `write` and `upload` here; their types come
 * from the server's OpenAPI document (schema.ts, generated: `npm run api-types`).
 *
 * Authentication is the browser's business, not this module's: the server keeps the session in the HttpOnly
 * `shop_session` cookie, which `fetch` sends by itself (`credentials: "same-origin"`). The app never sees the
 * token and never sends an Authorization header. Every request carries `X-Requested-With`, which the server
 * requires of cookie-authenticated writes (a cross-site form cannot set it) — see src/store/auth.tsx.
 */
import type { operations } from "./schema";
import type { Written } from "./types";

export const API_BASE = "/api/v1";

/** An RFC 9457 problem as the API sends it (API.md, "Errors"). */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  /** Field → message for validation failures; keys may be dotted (`shipping_address.city`). */
  errors?: Record<string, string>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  /** Seconds the server asked us to wait (429, 503). */
  readonly retryAfter?: number;
  readonly requestId?: string;

  constructor(problem: Problem, retryAfter?: number, requestId?: string) {
    super(plainMessage(problem, retryAfter, requestId));
    this.name = "ApiError";
    this.status = problem.status;
    this.problem = problem;
    this.retryAfter = retryAfter;
    this.requestId = requestId;
  }

  /** Field messages from the problem's `errors` map (empty when there are none). */
  get fieldErrors(): Record<string, string> {
    return this.problem.errors ?? {};
  }

  /** The problem type's last segment (`/problems/sku_taken` → `sku_taken`). */
  get code(): string {
    return (this.problem.type ?? "").split("/").pop() ?? "";
  }
}

const FALLBACK: Record<number, string> = {
  0: "We can't reach the shop right now. Check your connection and try again.",
  400: "The request could not be understood.",
  401: "Please log in to continue.",
  403: "You don't have permission to do that.",
  404: "We couldn't find what you were looking for.",
  409: "That conflicts with something that already exists or just changed.",
  412: "Someone else changed this in the meantime. Reload it and try again.",
  413: "That is too large to send.",
  422: "Some of the information is not valid.",
  429: "Too many attempts. Please wait a moment and try again.",
  503: "The shop is briefly unavailable. Please try again shortly.",
};

/**
 * The sentence to show for a problem: the server's `detail` when it sent one (it is written for people),
 * otherwise a plain description of the status. 5xx answers get the request id, so support can find the log.
 */
export function plainMessage(problem: Problem, retryAfter?: number, requestId?: string): string {
  const status = problem.status;
  let message = problem.detail?.trim() || FALLBACK[status] ||
    (status >= 500 ? "Something went wrong on our side. Please try again." : "The request was refused.");
  if (status === 429 && retryAfter) {
    message = `${stripStop(message)}. Try again in ${retryAfter} second${retryAfter === 1 ? "" : "s"}.`;
  }
  if (status >= 500 && requestId) message = `${stripStop(message)}. (Reference: ${requestId})`;
  return message;
}

function stripStop(text: string): string {
  return text.replace(/[.\s]+$/, "");
}

/** Turns a failed response into an `ApiError`, whatever its body (problem+json, other JSON, text, nothing). */
export async function problemFrom(response: Response): Promise<ApiError> {
  let problem: Problem = { status: response.status };
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json")) {
    try {
      const body = await response.json();
      if (body && typeof body === "object") {
        problem = {
          type: typeof body.type === "string" ? body.type : undefined,
          title: typeof body.title === "string" ? body.title : undefined,
          status: typeof body.status === "number" ? body.status : response.status,
          detail: typeof body.detail === "string" ? body.detail : undefined,
          errors: isStringMap(body.errors) ? body.errors : undefined,
        };
      }
    } catch {
      // an unreadable body: the status alone will do
    }
  }
  const retry = Number(response.headers.get("Retry-After"));
  return new ApiError(
    problem,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
    response.headers.get("X-Request-Id") ?? undefined,
  );
}

function isStringMap(value: unknown): value is Record<string, string> {
  return (
    !!value &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.values(value as object).every((v) => typeof v === "string")
  );
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null> | URLSearchParams;
  /** Read-your-writes: the `position` of an earlier write (API.md, "Reads"). */
  minPosition?: string;
  /** Optimistic concurrency: the ETag of what the user edited. */
  ifMatch?: string;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

/** The header (and value) every request carries; the server refuses cookie-authenticated writes without it. */
export const REQUESTED_WITH = { name: "X-Requested-With", value: "shop-storefront" } as const;

/** Who hears about a 401 (set by the auth store, which decides whether it ended a session). */
let onUnauthorized: () => void = () => {};

export function configureAuth(unauthorized: () => void): void {
  onUnauthorized = unauthorized;
}

/** A 401 from these means wrong credentials, not an ended session. */
const CREDENTIAL_PATHS = new Set(["/auth/login"]);

export function buildUrl(path: string, query?: RequestOptions["query"]): string {
  const params =
    query instanceof URLSearchParams
      ? query
      : new URLSearchParams(
          Object.entries(query ?? {})
            .filter(([, v]) => v !== undefined && v !== null && v !== "")
            .map(([k, v]) => [k, String(v)]),
        );
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ""}`;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: "application/json", [REQUESTED_WITH.name]: REQUESTED_WITH.value };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.minPosition) headers["X-Min-Position"] = options.minPosition;
  if (options.ifMatch) headers["If-Match"] = options.ifMatch;
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;

  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError({ status: 0 });
  }
  if (!response.ok) {
    const error = await problemFrom(response);
    if (error.status === 401 && !CREDENTIAL_PATHS.has(path)) onUnauthorized();
    throw error;
  }
  const text = response.status === 204 ? "" : await response.text();
  return {
    data: (text ? JSON.parse(text) : undefined) as T,
    status: response.status,
    headers: response.headers,
  };
}

export async function get<T>(path: string, options: Omit<RequestOptions, "method" | "body"> = {}): Promise<T> {
  return (await request<T>(path, options)).data;
}

export async function write(
  method: "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  options: Omit<RequestOptions, "method" | "body"> = {},
): Promise<Written> {
  return (await request<Written>(path, { ...options, method, body })).data;
}

/** Options of a read: everything but the method and body. */
export type ReadOptions = Omit<RequestOptions, "method" | "body" | "query">;
/** Options of a write: the body is the typed call's argument. */
export type WriteOptions = Omit<RequestOptions, "method" | "body" | "query" | "minPosition">;

/** Options of an upload: those of a write, and who hears how far the bytes have gone. */
export interface UploadOptions extends WriteOptions {
  /** Called as the body goes out: bytes sent, and the total (0 when the browser does not know it). */
  onProgress?: (loaded: number, total: number) => void;
}

/**
 * POSTs a `multipart/form-data` body with XMLHttpRequest rather than `fetch`, which cannot report upload
 * progress. Otherwise as `write`: the same headers, the same `ApiError` for a refusal, the same 401 handling.
 */
export function upload(path: string, form: FormData, options: UploadOptions = {}): Promise<Written> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new DOMException("The upload was cancelled.", "AbortError"));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", buildUrl(path));
    // No Content-Type: the browser sets it, with the multipart boundary. Cookies go along (same origin).
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader(REQUESTED_WITH.name, REQUESTED_WITH.value);
    if (options.ifMatch) xhr.setRequestHeader("If-Match", options.ifMatch);
    if (options.idempotencyKey) xhr.setRequestHeader("Idempotency-Key", options.idempotencyKey);
    xhr.upload.onprogress = (e) => options.onProgress?.(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve((xhr.responseText ? JSON.parse(xhr.responseText) : undefined) as Written);
        } catch {
          reject(new ApiError({ status: 502, detail: "The shop's answer could not be read." }));
        }
        return;
      }
      // The failure as a `Response`, so it is read exactly as `request` reads one.
      const failed = new Response(xhr.responseText || null, {
        status: xhr.status >= 400 && xhr.status <= 599 ? xhr.status : 502,
        headers: responseHeaders(xhr),
      });
      const error = await problemFrom(failed);
      if (error.status === 401) onUnauthorized();
      reject(error);
    };
    xhr.onerror = () => reject(new ApiError({ status: 0 }));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    options.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** An XMLHttpRequest's response headers as `Headers` (`problemFrom` reads Content-Type, Retry-After, X-Request-Id). */
function responseHeaders(xhr: XMLHttpRequest): Headers {
  const headers = new Headers();
  for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}

type OperationId = keyof operations;
type Responses<Op extends OperationId> = operations[Op]["responses"];
type Success<R> = R extends { 200: infer A } ? A : R extends { 201: infer A } ? A : R extends { 202: infer A } ? A : R extends { 204: infer A } ? A : never;

/** The JSON body of an operation's successful answer (`undefined` for one without a body, like 204). */
export type Answer<Op extends OperationId> =
  Success<Responses<Op>> extends { content: { "application/json": infer Body } } ? Body : undefined;

/** The JSON body an operation takes. */
export type Body<Op extends OperationId> =
  operations[Op]["requestBody"] extends { content: { "application/json": infer B } } | undefined ? B : never;

/**
 * An operation's query parameters, less `min_position` (the client sends `X-Min-Position` instead). Values
 * are what the API takes: numbers for `page`, `limit`, `min_price`; booleans for `in_stock`.
 */
export type Query<Op extends OperationId> = Omit<NonNullable<operations[Op]["parameters"]["query"]>, "min_position">;

/** A path segment: ids are encoded, so an id can never reach another path. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** A fresh key for `Idempotency-Key`, so a retried or double-clicked POST is applied once. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A message for anything thrown: an `ApiError`'s plain words, or a generic sentence. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Something unexpected went wrong. Please try again.";
}
