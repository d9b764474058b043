/**
 * Accounts and the session. The session itself is the HttpOnly `shop_session` cookie that the login sets: the
 * app never keeps the answer's `access_token` (see src/store/auth.tsx).
 */
import { get, request, write, type Answer, type Body, type ReadOptions, type WriteOptions } from "./client";
import type { Written } from "./types";

/** `POST /auth/register`: a new customer account (log in afterwards). */
export function register(registration: Body<"register">, options: WriteOptions = {}): Promise<Written> {
  return write("POST", "/auth/register", registration, options);
}

/** `POST /auth/login`: sets the session cookie. A wrong email or password is a 401 (not an ended session). */
export async function login(credentials: Body<"login">): Promise<Answer<"login">> {
  return (await request<Answer<"login">>("/auth/login", { method: "POST", body: credentials })).data;
}

/** `POST /auth/logout`: denies the session's token on every instance and clears the cookie. */
export async function logout(): Promise<void> {
  await request<Answer<"logout">>("/auth/logout", { method: "POST" });
}

/** `GET /me`: the caller's account; a 401 when there is no session. */
export function getMe(options: ReadOptions = {}): Promise<Answer<"get_me">> {
  return get<Answer<"get_me">>("/me", options);
}

/** `PATCH /me`: changes the caller's name. */
export function rename(name: string, options: WriteOptions = {}): Promise<Written> {
  const body: Body<"update_me"> = { name };
  return write("PATCH", "/me", body, options);
}
