import { existsSync, readFileSync, rmSync } from "node:fs";
import { call, login } from "./api";
import { ADMIN, TIMINGS_FILE } from "./env";
import { SAGA_LANDED } from "./flags";
import { seedCatalog, SEED_PRODUCTS } from "./seed";

/** Seeds the catalog through the API once for the whole run; at the end, prints the timings tests measured. */
export default async function setup() {
  rmSync(TIMINGS_FILE, { force: true });
  const { token } = await login(ADMIN.email, ADMIN.password);
  const position = await seedCatalog(token);
  // Read-your-writes: the catalog view has every seeded product before the first test looks at it.
  const page = await call<{ total: number }>(
    "GET",
    `/products?limit=1${position ? `&min_position=${encodeURIComponent(position)}` : ""}`,
  );
  if (page.total < SEED_PRODUCTS.length) throw new Error(`catalog lists ${page.total} products after seeding`);
  console.log(`e2e: seeded ${SEED_PRODUCTS.length} products; saga checks ${SAGA_LANDED ? "ON (orders must confirm)" : "OFF (pending accepted; see e2e/flags.ts)"}`);

  return () => {
    if (existsSync(TIMINGS_FILE)) process.stdout.write(`\n${readFileSync(TIMINGS_FILE, "utf8")}`);
  };
}
