#!/usr/bin/env node
// Fails when src/api/schema.ts is not what `npm run api-types` would generate from docs/openapi.json now, so the
// app is never type-checked against an API that is not the server's. Run first by `npm run typecheck`.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generate, SOURCE, TARGET } from "./api-types.mjs";

const STALE = "src/api/schema.ts is stale: run npm run api-types";

if (!existsSync(SOURCE)) {
  console.error(`check-api-types: ${fileURLToPath(SOURCE)} does not exist; the check needs the repository's docs/`);
  process.exit(1);
}
const fresh = await generate();
const current = existsSync(TARGET) ? readFileSync(TARGET, "utf8") : null;
if (current !== fresh) {
  if (current === null) {
    console.error(`${STALE} (the file does not exist)`);
  } else {
    const had = current.split("\n");
    const wants = fresh.split("\n");
    let line = 0;
    while (line < had.length && line < wants.length && had[line] === wants[line]) line++;
    console.error(`${STALE} (first difference at line ${line + 1})`);
    console.error(`  checked in: ${had[line] ?? "<end of file>"}`);
    console.error(`  generated:  ${wants[line] ?? "<end of file>"}`);
  }
  process.exit(1);
}
