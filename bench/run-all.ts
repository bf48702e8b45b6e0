/**
 * `npm run bench`: runs every benchmark in this folder one after another (they share the
 * machine's two cores, so never in parallel) and prints their tables. Pass names to run some:
 * `npm run bench -- poll-cost status-latency`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run-all.ts")
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort();
let failed = 0;
for (const name of benches) {
  process.stdout.write(`\n== ${name}\n`);
  const result = spawnSync(process.execPath, ["--import", "tsx", join(here, `${name}.ts`)], {
    stdio: "inherit",
  });
  if (result.status !== 0) {
    failed += 1;
    process.stdout.write(`${name} failed (exit ${result.status})\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
