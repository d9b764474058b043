import { defineConfig } from "vitest/config";

// End-to-end tests: Node drives Debian's Chromium through playwright-core against a running `shop serve`
// (scripts/e2e.sh starts one and passes E2E_BASE_URL). One browser, one file at a time, in order.
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    globalSetup: ["e2e/global-setup.ts"],
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["verbose"],
  },
});
