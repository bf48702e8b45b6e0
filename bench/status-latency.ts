/**
 * `/train status` latency over a realistic store: 10 runs × 35 days of 30-second samples
 * (1,008,000 samples), those older than the default 7-day raw window rolled up per minute and
 * per hour as the daemon does. Prints the median and p99 time to the finished message with its
 * chart PNG (24 h), and the same for a 30-day `/train chart` that reads the roll-ups.
 * Target: p99 < 200 ms, so every reply fits the platforms' 3-second window without deferring.
 *
 *   npx tsx bench/status-latency.ts [--iterations N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema } from "../src/config/schema.ts";
import { ManualClock } from "../src/core/clock.ts";
import type { RunSample } from "../src/model/monitoring.ts";
import { openDatabase } from "../src/store/database.ts";
import { EventsRepo } from "../src/store/events-repo.ts";
import { SampleRollupsRepo } from "../src/store/sample-rollups-repo.ts";
import { SamplesRepo } from "../src/store/samples-repo.ts";
import { quantile, readOnlyBot, timeChartReplies } from "./harness/chat-replies.ts";

const RUNS = 10;
const DAYS = 35;
const RAW_DAYS = 7;
const EVERY_MS = 30_000;
const iterations = Number(process.argv[process.argv.indexOf("--iterations") + 1]) || 200;

const dir = mkdtempSync(join(tmpdir(), "trainops-bench-"));
const db = openDatabase(join(dir, "bench.db"));
const now = Date.UTC(2026, 2, 31, 12, 0, 0);
const clock = new ManualClock(now);
const runNames = Array.from({ length: RUNS }, (_, i) => `exp${String(i + 1).padStart(3, "0")}`);
const samples = new SamplesRepo(db);
const rollups = new SampleRollupsRepo(db);
const events = new EventsRepo(db);

function* generate(): Generator<RunSample> {
  const perRun = (DAYS * 86_400_000) / EVERY_MS;
  for (const run of runNames) {
    for (let i = 0; i < perRun; i++) {
      const at = now - (perRun - i) * EVERY_MS;
      const phase = Math.floor((4 * i) / perRun);
      const stepTime = 18 / 2 ** phase + Math.sin(i / 50);
      yield {
        run,
        at,
        reachable: true,
        alive: true,
        step: Math.floor(i * (EVERY_MS / 1000 / stepTime)),
        totalSteps: 4000,
        epoch: 1 + Math.floor(i / 4000),
        loss: 1 / (1 + i / 1000),
        stepTimeSeconds: stepTime,
        stepsPerHour: 3600 / stepTime,
        etaSeconds: null,
        epochEtaSeconds: null,
        gpus: [0, 1].map((index) => ({
          index,
          name: "A100-SXM4-80GB",
          memoryUsedMiB: 76_000 + (i % 100) * 10,
          memoryTotalMiB: 81_920,
          utilizationPercent: 20 * phase + (i % 30),
          temperatureC: 60,
          powerW: 300,
        })),
        hostMemory: { usedBytes: (30 + 10 * phase) * 2 ** 30, totalBytes: 128 * 2 ** 30 },
        workers: { count: 1 + phase, rssBytes: 7 * (1 + phase) * 2 ** 30 },
        trainerRssBytes: 12 * 2 ** 30,
        diskFreeBytes: 500 * 2 ** 30,
      };
    }
  }
}

let started = performance.now();
const rows = samples.insertMany(generate());
for (const run of runNames) {
  // The newest poll, recorded as the daemon records each poll's sample.
  const newest = samples.latest(run);
  if (newest) samples.record({ ...newest, at: now }, EVERY_MS);
  events.insert(run, now - 3 * 3_600_000, {
    kind: "cuda_oom",
    line: "torch.OutOfMemoryError: CUDA out of memory",
    lineNumber: 1,
    source: "log",
  });
}
console.log(
  `store: ${rows.toLocaleString("en-US")} samples for ${RUNS} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
started = performance.now();
let rolled = 0;
for (const run of runNames) {
  for (let n = 1; n > 0; rolled += n) n = rollups.rollUp(run, now - RAW_DAYS * 86_400_000, 24 * 40);
}
console.log(
  `roll-ups: ${rolled.toLocaleString("en-US")} samples older than ${RAW_DAYS} days rolled up in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

const config = configSchema.parse({
  runs: runNames.map((name) => ({
    name,
    ssh: "local",
    workdir: "/tmp",
    log: "train.log",
    plan: "plan.yaml",
    steps: { perEpoch: 4000, epochs: 32 },
    limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
  })),
});
const core = readOnlyBot({
  config,
  db,
  samples,
  events,
  clock,
  plan: {
    run: "exp001",
    planName: "safe-optimization",
    current: { index: 2, name: "Test batch size 2", state: "evaluating" },
    phases: [],
    criteria: ["143/200 steps", "VRAM peak 77.4/80 GiB ✓", "step time 4.6 s vs 9.6 s ✓"],
  },
});
const ms = (v: number) => v.toFixed(1);

const status = await timeChartReplies(
  core,
  (i) => ({ subcommand: "status", args: { run: runNames[i % RUNS] as string } }),
  { count: iterations, warmUp: 5 },
);
console.log(
  `/train status with a 24 h chart (${status.pngBytes.toLocaleString("en-US")} B PNG), ${iterations} runs: median ${ms(quantile(status.wallMs, 0.5))} ms, p99 ${ms(quantile(status.wallMs, 0.99))} ms, max ${ms(Math.max(...status.wallMs))} ms (target p99 < 200 ms)`,
);

// A month-long chart: 23 days of it come from the roll-ups.
const month = await timeChartReplies(
  core,
  (i) => ({ subcommand: "chart", args: { run: runNames[i % RUNS] as string, window: "30d" } }),
  { count: Math.max(20, Math.floor(iterations / 4)), warmUp: 0 },
);
console.log(
  `/train chart over 30 days (${month.pngBytes.toLocaleString("en-US")} B PNG), ${month.wallMs.length} runs: median ${ms(quantile(month.wallMs, 0.5))} ms, p99 ${ms(quantile(month.wallMs, 0.99))} ms; CPU median ${ms(quantile(month.cpuMs, 0.5))} ms, p99 ${ms(quantile(month.cpuMs, 0.99))} ms`,
);
// CPU time is what the reply costs this process; wall time also counts waiting for a busy CPU.
console.log(
  `CPU per status: median ${ms(quantile(status.cpuMs, 0.5))} ms, p99 ${ms(quantile(status.cpuMs, 0.99))} ms; load average ${os.loadavg()[0]?.toFixed(1)} on ${os.availableParallelism()} CPUs`,
);
db.close();
if (process.env.KEEP_BENCH_STORE) console.log(`store kept at ${dir}`);
else rmSync(dir, { recursive: true, force: true });
