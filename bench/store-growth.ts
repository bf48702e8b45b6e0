/**
 * Store growth per run-hour: one simulated hour of a run whose log gets a step line every
 * second, read by the follow stream line by line (as it arrives on a live run) and polled every
 * 5 s through the real probe (local transport), on a simulated clock. Prints the bytes in use
 * (dbstat, after a checkpoint) that the hour added: as written; once housekeeping has folded
 * the hour's successful polls (an hour later), which is what each hour adds inside the raw
 * window; and once the hour is past the raw window (rolled up per minute and per hour), the
 * long-run growth. Tables that hold a fixed number of rows per run (the newest sample, the
 * newest step points, GPU names, the log offset) are shown apart as "bounded".
 * Run: `npx tsx bench/store-growth.ts [--minutes 60] [--poll-s 5] [--sample-every 30s]`.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema } from "../src/config/schema.ts";
import { ManualClock } from "../src/core/clock.ts";
import { parseDuration } from "../src/core/duration.ts";
import { RunMonitor } from "../src/monitors/run-monitor.ts";
import { POLLS_KEPT_EACH_MS } from "../src/runtime/housekeeping.ts";
import { openDatabase } from "../src/store/database.ts";
import { createMonitorStore } from "../src/store/monitor-store.ts";
import { LocalTransport } from "../src/transport/local-transport.ts";
import { createFakeRunDir, stepLine } from "../test/harness/fake-run-dir.ts";

const args = process.argv.slice(2);
const argOf = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : fallback;
};
const minutes = Number(argOf("--minutes", "60"));
const pollS = Number(argOf("--poll-s", "5"));
/** The config's `sampleEvery` (its default when not given; 0s stores every poll's sample). */
const sampleEvery = argOf("--sample-every", "");

const root = mkdtempSync(join(tmpdir(), "trainops-store-growth-"));
try {
  const { workdir, logPath, nvidiaSmi } = createFakeRunDir(root, "train.log", `${stepLine(1)}\n`);
  const config = configSchema.parse({
    runs: [
      {
        name: "exp001",
        ssh: "local",
        workdir,
        log: "train.log",
        nvidiaSmi,
        steps: { perEpoch: 4000, epochs: 32 },
      },
    ],
    ...(sampleEvery ? { sampleEvery } : {}),
  });
  const run = config.runs[0]!;
  const db = openDatabase(join(root, "trainops.db"));
  const store = createMonitorStore(db);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const monitor = new RunMonitor({
    run,
    transport: new LocalTransport(),
    store,
    clock,
    sampleEveryMs: parseDuration(config.sampleEvery),
  });
  /** Bytes in use per table and index (dbstat: pages less their unused space). */
  const perName = () => {
    db.pragma("wal_checkpoint(TRUNCATE)");
    const rows = db
      .prepare("SELECT name, SUM(pgsize - unused) AS bytes FROM dbstat GROUP BY name")
      .all() as Array<{ name: string; bytes: number }>;
    return new Map(rows.map((r) => [r.name, r.bytes]));
  };
  const grownSince = (before: Map<string, number>) =>
    [...perName()]
      .map(([name, bytes]) => ({ name, bytes: bytes - (before.get(name) ?? 0) }))
      .filter((r) => r.bytes !== 0)
      .sort((a, b) => b.bytes - a.bytes);
  /** Tables whose size does not grow with time: one row per run, or a fixed number per run. */
  const BOUNDED = new Set([
    "steps",
    "steps_run_at",
    "samples_latest",
    "sample_gpus",
    "log_offsets",
    "sqlite_autoindex_log_offsets_1",
  ]);
  await monitor.pollOnce();
  const start = clock.now();
  const base = perName();
  let step = 1;
  let polls = 0;
  const t0 = performance.now();
  for (let s = 1; s <= minutes * 60; s++) {
    clock.advance(1000);
    step += 1;
    const line = Buffer.from(`${stepLine(step, 128_000)}\n`);
    appendFileSync(logPath, line);
    // What a follow stream does when new bytes wake it: one read under the log lock.
    await monitor.readLog();
    if (s % pollS === 0) {
      const report = await monitor.pollOnce();
      if (report.outcome !== "ok") throw new Error(report.message ?? "poll failed");
      polls += 1;
    }
  }
  const hours = minutes / 60;
  const sum = (rows: Array<{ name: string; bytes: number }>, bounded: boolean) =>
    rows.filter((r) => BOUNDED.has(r.name) === bounded).reduce((n, r) => n + r.bytes, 0);
  const rows = (table: string) =>
    (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const asWritten = grownSince(base);
  const counts = `${rows("samples")} samples, ${rows("polls")} poll rows`;
  // An hour on, housekeeping folds the hour's successful polls into one row.
  store.polls.compact(clock.now() + POLLS_KEPT_EACH_MS);
  const folded = grownSince(base);
  const foldedCounts = `${rows("samples")} samples, ${rows("polls")} poll row`;
  // Past the raw window: what housekeeping leaves of this hour.
  const end = clock.now() + 3_600_000;
  store.sampleRollups.rollUp(run.name, end);
  store.steps.prune(end);
  store.polls.prune(end);
  // What this hour leaves for good: the roll-up rows and the events (none here).
  const after = grownSince(base).filter((r) => /^(samples_1[mh]|events)/.test(r.name));
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const mb = (bytes: number, digits = 3) => `${(bytes / 1e6).toFixed(digits)} MB`;
  console.log(
    `store growth, ${minutes} simulated min: a step line every 1 s (follow), a poll every ${pollS} s (${polls} polls, ${((performance.now() - t0) / 1000).toFixed(0)} s real), sampleEvery ${config.sampleEvery}`,
  );
  console.log("| | grows per run-hour | bounded per run |");
  console.log("|---|---|---|");
  console.log(
    `| raw window, as written (${counts}) | ${kb(sum(asWritten, false) / hours)} = ${mb(sum(asWritten, false) / hours)} | ${kb(sum(asWritten, true))} |`,
  );
  console.log(
    `| raw window, once the hour's polls are folded (${foldedCounts}) | ${kb(sum(folded, false) / hours)} = ${mb(sum(folded, false) / hours)} | ${kb(sum(folded, true))} |`,
  );
  console.log(
    `| after the raw window (${rows("samples_1m")} minute + ${rows("samples_1h")} hour roll-up rows) | ${kb(sum(after, false) / hours)} = ${mb(sum(after, false) / hours, 4)} | |`,
  );
  console.log("\nwhere the raw window's bytes go (in use per table or index, as written):");
  console.log("| table or index | per run-hour | bounded |");
  console.log("|---|---|---|");
  for (const r of asWritten) {
    console.log(`| ${r.name} | ${kb(r.bytes / hours)} | ${BOUNDED.has(r.name) ? "yes" : ""} |`);
  }
  console.log(`simulated from ${new Date(start).toISOString()}; target < 0.05 MB per run-hour`);
  db.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
