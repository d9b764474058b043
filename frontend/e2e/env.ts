import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the end-to-end tests through scripts/e2e.sh`);
  return value;
}

export const BASE_URL = required("E2E_BASE_URL").replace(/\/$/, "");
export const ADMIN = { email: required("E2E_ADMIN_EMAIL"), password: required("E2E_ADMIN_PASSWORD") };
export const SCREENSHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));
export const TIMINGS_FILE = `${SCREENSHOTS}timings.txt`;
mkdirSync(SCREENSHOTS, { recursive: true });
