#!/usr/bin/env node
// Entry point. Runs the compiled CLI in dist/ (built by `npm run build`, which `npm ci` runs
// through `prepare`), so a call pays no transpiling. A checkout without dist/ — or with
// TRAINOPS_FROM_SOURCE=1, as the tests set it so they always run the code as edited — runs the
// TypeScript sources through tsx instead (slower to start, same behaviour).
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
let main;
if (process.env.TRAINOPS_FROM_SOURCE !== "1" && existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
