/** Debian's Chromium, headless, through playwright-core; one browser per test file, one context per test. */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { BASE_URL, SCREENSHOTS, TIMINGS_FILE } from "./env";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

export async function newContext(browser: Browser, viewport = DESKTOP): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    viewport,
    locale: "en-US",
    timezoneId: "Europe/Berlin",
    deviceScaleFactor: 1,
    isMobile: viewport === PHONE,
    hasTouch: viewport === PHONE,
  });
  context.setDefaultTimeout(10_000);
  return context;
}

/**
 * Runs `body` on a fresh page and saves a screenshot of wherever it ended, also when it failed, as
 * screenshots/NAME.png (steps on the way go to screenshots/steps/).
 */
export async function withPage(
  browser: Browser,
  name: string,
  body: (page: Page, context: BrowserContext) => Promise<void>,
  viewport = DESKTOP,
): Promise<void> {
  const context = await newContext(browser, viewport);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  try {
    await body(page, context);
  } finally {
    await screenshot(page, name);
    await context.close();
  }
  if (problems.length) throw new Error(problems.join("\n"));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  // Let toasts and spinners settle so the picture shows the page, not a transition.
  await page.waitForTimeout(150);
  const path = join(SCREENSHOTS, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
}

export function recordTiming(line: string): void {
  console.log(line);
  appendFileSync(TIMINGS_FILE, `${line}\n`);
}

/** The server's session cookie (HttpOnly, Secure, SameSite=Strict, Path=/api/v1), as `POST /auth/login` sets it. */
export const SESSION_COOKIE = "shop_session";

/**
 * Signs a context in with a token from an API login, the way the browser holds a session: the cookie the
 * server would have set (the storefront never sees or stores the token itself). Call before the first `goto`.
 * Playwright forbids `path` together with `url` (and derives `secure` from the URL's scheme), so the cookie is
 * given by domain and path.
 */
export async function signIn(context: BrowserContext, token: string): Promise<void> {
  await context.addCookies([
    {
      name: SESSION_COOKIE,
      value: token,
      domain: new URL(BASE_URL).hostname,
      path: "/api/v1",
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
    },
  ]);
}

/** Logs in through the form, as a person would. */
export async function loginThroughUi(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}
