/**
 * Store growth per run-hour: one simulated hour of a run whose log gets a step line every
 * second, read by the follow stream line by line (as it arrives on a live run) and polled every
 * 5 s through the real probe (local transport), on a simulated clock. Prints what the SQLite
 * file grew by (pages in use, after a checkpoint) while the samples are raw, and what stays
 * once the hour is past the raw window (rolled up per minute and per hour; step points and
 * poll records dropped), which is the long-run growth: the bytes of its roll-up rows.
 * Run: `npx tsx bench/store-growth.ts [--minutes 60] [--poll-s 5]`.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSchema } from "../src/config/schema.ts";
import { ManualClock } from "../src/core/clock.ts";
import { RunMonitor } from "../src/monitors/run-monitor.ts";
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

const root = mkdtempSync(join(tmpdir(), "trainops-store-growth-"));
try {
  const { workdir, logPath, nvidiaSmi } = createFakeRunDir(root, "train.log", `${stepLine(1)}\n`);
  const run = runSchema.parse({
    name: "exp001",
    ssh: "local",
    workdir,
    log: "train.log",
    nvidiaSmi,
    steps: { perEpoch: 4000, epochs: 32 },
  });
  const db = openDatabase(join(root, "trainops.db"));
  const store = createMonitorStore(db);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const monitor = new RunMonitor({ run, transport: new LocalTransport(), store, clock });
  const used = () => {
    db.pragma("wal_checkpoint(TRUNCATE)");
    const pages = db.pragma("page_count", { simple: true }) as number;
    const free = db.pragma("freelist_count", { simple: true }) as number;
    return (pages - free) * (db.pragma("page_size", { simple: true }) as number);
  };
  /** Bytes of pages per table and index (dbstat), for where the growth goes. */
  const perName = () => {
    db.pragma("wal_checkpoint(TRUNCATE)");
    const rows = db
      .prepare(
        "SELECT name, SUM(pgsize) AS bytes, SUM(payload) AS payload FROM dbstat GROUP BY name",
      )
      .all() as Array<{ name: string; bytes: number; payload: number }>;
    return new Map(rows.map((r) => [r.name, r]));
  };
  await monitor.pollOnce();
  const start = clock.now();
  const base = used();
  const baseByName = perName();
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
  const raw = used() - base;
  const grown = [...perName()]
    .map(([name, r]) => ({
      name,
      bytes: r.bytes - (baseByName.get(name)?.bytes ?? 0),
      payload: r.payload - (baseByName.get(name)?.payload ?? 0),
    }))
    .filter((r) => r.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  const rows = (table: string) =>
    (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const counts = `samples ${rows("samples")}, steps ${rows("steps")}, polls ${rows("polls")}`;
  // Past the raw window: what housekeeping leaves of this hour.
  const end = clock.now() + 3_600_000;
  store.samples.rollUp(run.name, end);
  store.steps.prune(end);
  store.polls.prune(end);
  // What this hour leaves for good: the roll-up rows (their bytes, keys included; a page
  // holds many hours of them) and the events (none here).
  const kept = (
    db
      .prepare(
        "SELECT SUM(payload) AS bytes FROM dbstat WHERE name IN ('samples_1m', 'samples_1h', 'events')",
      )
      .get() as { bytes: number | null }
  ).bytes as number;
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(
    `store growth, ${minutes} simulated min: a step line every 1 s (follow), a poll every ${pollS} s (${polls} polls, ${((performance.now() - t0) / 1000).toFixed(0)} s real)`,
  );
  console.log(`| | per run-hour | MB per run-hour |`);
  console.log(`|---|---|---|`);
  console.log(
    `| raw window (${counts}) | ${kb(raw / hours)} | ${(raw / hours / 1e6).toFixed(3)} |`,
  );
  console.log(
    `| after the raw window (${rows("samples_1m")} minute + ${rows("samples_1h")} hour roll-up rows) | ${kb(kept / hours)} | ${(kept / hours / 1e6).toFixed(4)} |`,
  );
  console.log("\nwhere the raw window's bytes go (pages per table or index, per run-hour):");
  console.log("| table or index | pages' bytes | of which payload |");
  console.log("|---|---|---|");
  for (const r of grown) {
    console.log(`| ${r.name} | ${kb(r.bytes / hours)} | ${kb(r.payload / hours)} |`);
  }
  console.log(`simulated from ${new Date(start).toISOString()}; target < 0.05 MB per run-hour`);
  db.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
