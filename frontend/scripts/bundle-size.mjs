#!/usr/bin/env node
// Measures what the storefront's first page downloads: the JavaScript that dist/index.html loads (its module
// script and any modulepreload links), gzipped. Fails when it is over the budget (issue 5: < 150 KiB).
//
//   node scripts/bundle-size.mjs [dist]      BUDGET_KIB overrides the budget.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = process.argv[2] ?? new URL("../dist", import.meta.url).pathname;
const budget = Number(process.env.BUDGET_KIB ?? 150);
const html = readFileSync(join(dist, "index.html"), "utf8");

const assets = (pattern) => [...html.matchAll(pattern)].map((m) => m[1]).filter((src) => src.startsWith("/"));
const js = [
  ...new Set([
    ...assets(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
    ...assets(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ]),
];
const css = assets(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g);

const kib = (n) => (n / 1024).toFixed(1);
function measure(files) {
  let raw = 0;
  let gz = 0;
  for (const file of files) {
    const bytes = readFileSync(join(dist, file));
    const zipped = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length;
    gz += zipped;
    console.log(`  ${file}  ${kib(bytes.length)} KiB, ${kib(zipped)} KiB gzipped`);
  }
  return { raw, gz };
}

console.log("first page JavaScript:");
const total = measure(js);
console.log("first page CSS:");
const styles = measure(css);
console.log(
  `bundle-size: first-page JS ${kib(total.gz)} KiB gzipped (${kib(total.raw)} KiB raw), CSS ${kib(styles.gz)} KiB gzipped; budget ${budget} KiB`,
);
if (js.length === 0) {
  console.error("bundle-size: no module script found in index.html");
  process.exit(1);
}
if (total.gz > budget * 1024) {
  console.error(`bundle-size: over budget by ${kib(total.gz - budget * 1024)} KiB`);
  process.exit(1);
}
