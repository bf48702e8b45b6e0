/**
 * A store at 100 runs × 7 days: 100 runs of 30-s samples (the default `sampleEvery`) over the
 * 7-day raw window and 2 hours more (2,040,000 samples). Prints the CPU of housekeeping's
 * round once a minute (its first round rolls up the 2 hours past the window; then steady
 * rounds; then the first rounds after retention is cut to 3 days, which must delete 1.15
 * million samples a bounded bite at a time), and of what people ask of such a store:
 * `/train status` with its chart, `trainops status` (every run) and a 7-day digest, in process,
 * and `trainops status --json` and `trainops digest --since 7d --json` as commands when the
 * CLI is built (`npm run build`).
 *
 *   npx tsx bench/store-at-scale.ts [--runs 100] [--days 7]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { buildDigest } from "../src/alerts/digest/digest-report.ts";
import { configSchema } from "../src/config/schema.ts";
import { ManualClock } from "../src/core/clock.ts";
import type { RunSample } from "../src/model/monitoring.ts";
import { readRunStatus } from "../src/monitors/run-status.ts";
import { housekeep } from "../src/runtime/housekeeping.ts";
import { openDatabase } from "../src/store/database.ts";
import { DigestFactsRepo } from "../src/store/digest-facts-repo.ts";
import { createMonitorStore } from "../src/store/monitor-store.ts";
import { PhasesRepo } from "../src/store/phases-repo.ts";
import { cpuMsOf, quantile, readOnlyBot, timeChartReplies } from "./harness/chat-replies.ts";

const args = process.argv.slice(2);
const argOf = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) || fallback : fallback;
};
const RUNS = argOf("--runs", 100);
const DAYS = argOf("--days", 7);
const EVERY_MS = 30_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.UTC(2026, 2, 31, 12, 0, 0);
const runNames = Array.from({ length: RUNS }, (_, i) => `exp${String(i + 1).padStart(3, "0")}`);

const dir = mkdtempSync(join(tmpdir(), "trainops-bench-scale-store-"));
const dbPath = join(dir, "trainops.db");
const db = openDatabase(dbPath);
const store = createMonitorStore(db);

function* generate(): Generator<RunSample> {
  const perRun = (DAYS * DAY + 2 * HOUR) / EVERY_MS;
  for (const run of runNames) {
    for (let i = 0; i < perRun; i++) {
      const stepTime = 9 + Math.sin(i / 50);
      yield {
        run,
        at: now - (perRun - i) * EVERY_MS,
        reachable: true,
        alive: true,
        step: Math.floor(i * 3.3),
        totalSteps: 128_000,
        epoch: 1 + Math.floor(i / 4000),
        loss: 1 / (1 + i / 1000),
        stepTimeSeconds: stepTime,
        stepsPerHour: 3600 / stepTime,
        etaSeconds: null,
        epochEtaSeconds: null,
        gpus: [0, 1, 2, 3].map((index) => ({
          index,
          name: "A100-SXM4-80GB",
          memoryUsedMiB: 76_000 + (i % 100) * 10,
          memoryTotalMiB: 81_920,
          utilizationPercent: 80 + (i % 20),
          temperatureC: 60,
          powerW: 300,
        })),
        hostMemory: { usedBytes: 60 * 2 ** 30, totalBytes: 128 * 2 ** 30 },
        workers: { count: 8, rssBytes: 40 * 2 ** 30 },
        trainerRssBytes: 12 * 2 ** 30,
        diskFreeBytes: 500 * 2 ** 30,
      };
    }
  }
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

const started = performance.now();
const rows = store.samples.insertMany(generate());
for (const run of runNames) {
  const newest = store.samples.latest(run);
  if (newest) store.samples.record({ ...newest, at: now }, EVERY_MS);
  store.polls.insert({ run, startedAt: now, durationMs: 40, outcome: "ok", message: null });
  store.events.insert(run, now - 3 * HOUR, {
    kind: "cuda_oom",
    line: "torch.OutOfMemoryError: CUDA out of memory",
    lineNumber: 1,
    source: "log",
  });
}
console.log(
  `store: ${rows.toLocaleString("en-US")} samples for ${RUNS} runs × ${DAYS} days + 2 h in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

// Housekeeping, once a minute, as the daemon runs it.
const clock = new ManualClock(now);
const housekeeping = (retentionMs: number) => () =>
  housekeep({
    clock,
    retentionMs,
    rawMs: DAYS * DAY,
    runs: () => runNames,
    store,
    alerting: { prune: () => ({ batches: 0, alerts: 0 }) },
    core: { expireConfirmations: () => 0 },
  });
const count = () => (db.prepare("SELECT COUNT(*) AS n FROM samples").get() as { n: number }).n;
const first = cpuMsOf(housekeeping(90 * DAY));
const rolled = rows - count();
const steady: number[] = [];
for (let i = 0; i < 20; i++) {
  clock.advance(60_000);
  steady.push(cpuMsOf(housekeeping(90 * DAY)));
}
console.log(
  `housekeeping: first round ${ms(first)} (rolled up ${rolled.toLocaleString("en-US")} samples past the raw window); steady round median ${ms(quantile(steady, 0.5))}, max ${ms(Math.max(...steady))}`,
);
const cut: number[] = [];
let left = count();
for (let i = 0; i < 5; i++) {
  clock.advance(60_000);
  cut.push(cpuMsOf(housekeeping(3 * DAY)));
}
const deletedPerRound = (left - count()) / cut.length;
left = (
  db.prepare("SELECT COUNT(*) AS n FROM samples WHERE at < ?").get(clock.now() - 3 * DAY) as {
    n: number;
  }
).n;
console.log(
  `retention cut to 3 days: ${deletedPerRound.toLocaleString("en-US")} samples deleted a round at ${ms(quantile(cut, 0.5))} CPU median (max ${ms(Math.max(...cut))}); ${left.toLocaleString("en-US")} left, about ${Math.ceil(left / deletedPerRound)} more rounds (minutes)`,
);
// Back to a store of 7 days for the reads below: nothing more is deleted.

const config = configSchema.parse({
  store: dbPath,
  runs: runNames.map((name) => ({
    name,
    ssh: "local",
    workdir: "/tmp",
    log: "train.log",
    steps: { perEpoch: 4000, epochs: 32 },
    limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
    cost: { perHour: 32.77, currency: "USD" },
  })),
});
const core = readOnlyBot({
  config,
  db,
  samples: store.samples,
  events: store.events,
  clock: new ManualClock(clock.now()),
});
const status = await timeChartReplies(
  core,
  (i) => ({ subcommand: "status", args: { run: runNames[(i * 7) % RUNS] as string } }),
  { count: Math.min(100, 2 * RUNS), warmUp: 3 },
);
console.log(
  `/train status with a 24 h chart: CPU median ${ms(quantile(status.cpuMs, 0.5))}, p99 ${ms(quantile(status.cpuMs, 0.99))}; wall median ${ms(quantile(status.wallMs, 0.5))}, p99 ${ms(quantile(status.wallMs, 0.99))}`,
);
const allStatus = Array.from({ length: 5 }, () =>
  cpuMsOf(() =>
    runNames.map((name) =>
      readRunStatus(store, name, {
        run: config.runs.find((r) => r.name === name),
        now: clock.now(),
      }),
    ),
  ),
);
const digestSources = {
  facts: new DigestFactsRepo(db),
  phases: new PhasesRepo(db),
  samples: store.samples,
};
const digest = Array.from({ length: 5 }, () =>
  cpuMsOf(() => buildDigest(digestSources, config.runs, clock.now() - 7 * DAY, clock.now())),
);
console.log(
  `in process: status of all ${RUNS} runs ${ms(quantile(allStatus, 0.5))} CPU; a 7-day digest of ${RUNS} runs ${ms(quantile(digest, 0.5))} CPU (medians of 5)`,
);
db.close();

const BIN = fileURLToPath(new URL("../bin/trainops.js", import.meta.url));
if (existsSync(fileURLToPath(new URL("../dist/cli/main.js", import.meta.url)))) {
  const configPath = join(dir, "trainops.yaml");
  writeFileSync(
    configPath,
    stringify({
      store: dbPath,
      runs: config.runs.map(({ name }) => ({
        name,
        ssh: "local",
        workdir: "/tmp",
        log: "train.log",
        steps: { perEpoch: 4000, epochs: 32 },
      })),
    }),
  );
  const CLK_TCK = 100;
  const childrenCpuMs = () => {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
  };
  const command = (argv: string[]) => {
    const costs = Array.from({ length: 3 }, () => {
      const c0 = childrenCpuMs();
      const t0 = performance.now();
      const result = spawnSync(process.execPath, [BIN, ...argv, "-c", configPath], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (result.status !== 0) throw new Error(`trainops ${argv.join(" ")}: ${result.stderr}`);
      return {
        wall: performance.now() - t0,
        cpu: childrenCpuMs() - c0,
        bytes: result.stdout.length,
      };
    });
    const wall = quantile(
      costs.map((c) => c.wall),
      0.5,
    );
    const cpu = quantile(
      costs.map((c) => c.cpu),
      0.5,
    );
    return `${ms(wall)} wall, ${ms(cpu)} CPU (${costs[0]?.bytes.toLocaleString("en-US")} B out)`;
  };
  console.log(`trainops status --json: ${command(["status", "--json"])}`);
  console.log(
    `trainops digest --since 7d --json: ${command(["digest", "--since", "7d", "--json"])}`,
  );
} else {
  console.log("no dist/: run `npm run build` to time the trainops commands too");
}
console.log(`load average ${os.loadavg()[0]?.toFixed(1)} on ${os.availableParallelism()} CPUs`);
if (process.env.KEEP_BENCH_STORE) console.log(`store kept at ${dir}`);
else rmSync(dir, { recursive: true, force: true });
