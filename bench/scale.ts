/**
 * Scale: N runs spread over H loopback sshd "hosts" (one sshd each), the whole daemon (startApp:
 * poll schedule, follow streams, alert rules, store) polling every run, and a writer process
 * appending a step line to every log each second. Prints time to sample every run, poll round
 * time p50/p99, daemon CPU and RSS, VM-side CPU per run (every sshd and what runs under it),
 * missed polls and store growth per run-hour.
 * Run: `npx tsx bench/scale.ts [--runs 10] [--hosts 1] [--minutes 2] [--poll-s 5]`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema } from "../src/config/schema.ts";
import { createLogger } from "../src/daemon/logger.ts";
import { startApp } from "../src/runtime/app.ts";
import { createFakeRunDir, stepLine } from "../test/harness/fake-run-dir.ts";
import { type SshdHarness, startSshd } from "../test/harness/sshd.ts";

const args = process.argv.slice(2);
const argOf = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : fallback;
};
const RUNS = Number(argOf("--runs", "10"));
const HOSTS = Number(argOf("--hosts", "1"));
const MINUTES = Number(argOf("--minutes", "2"));
const POLL_S = Number(argOf("--poll-s", "5"));
const CLK_TCK = 100;

/** CPU seconds (user + system, children reaped included) of a process and its descendants. */
function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const children = readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
        for (const child of children ? children.split(" ") : []) visit(Number(child));
      }
    } catch {
      // The process ended while we looked: its time is in its parent's reaped-children counts.
    }
  };
  visit(pid);
  return ticks / CLK_TCK;
}

function pct(sorted: number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

const root = mkdtempSync(join(tmpdir(), "trainops-scale-"));
const sshds: SshdHarness[] = [];
let writer: ReturnType<typeof spawn> | null = null;
try {
  for (let h = 0; h < HOSTS; h++) sshds.push(await startSshd());
  const logs: string[] = [];
  const runs = Array.from({ length: RUNS }, (_, i) => {
    const sshd = sshds[i % HOSTS] as SshdHarness;
    const { workdir, logPath, nvidiaSmi } = createFakeRunDir(
      join(root, `run${i}`),
      "train.log",
      `${stepLine(1, 128_000)}\n`,
    );
    logs.push(logPath);
    return {
      name: `run${String(i).padStart(4, "0")}`,
      ssh: sshd.runConfigSsh(),
      workdir,
      log: "train.log",
      nvidiaSmi,
    };
  });
  // The writer: one line a second to every log, in its own process (not the daemon's CPU).
  writeFileSync(join(root, "logs.json"), JSON.stringify(logs));
  writer = spawn(
    process.execPath,
    [
      "-e",
      `const fs=require("fs");const logs=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));let s=2;
       setInterval(()=>{for(const l of logs)fs.appendFileSync(l,"2026-11-28 10:00:00,000 - __main__ - INFO - Train step "+s+"/128000 loss=0.4213 time=1.0s\\n");s++;},1000);`,
      join(root, "logs.json"),
    ],
    { stdio: "ignore" },
  );

  const dbPath = join(root, "trainops.db");
  const config = configSchema.parse({
    store: dbPath,
    poll: `*/${POLL_S} * * * * *`,
    runs,
    alerts: { console: false },
  });
  const vmCpu0 = sshds.reduce((s, d) => s + treeCpuSeconds(d.pid), 0);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const app = await startApp({
    config,
    configDir: root,
    log: createLogger({ level: "error", pretty: false }),
    http: false,
    frontEnds: () => [],
  });
  const sampled = () =>
    (
      app.db.prepare("SELECT COUNT(DISTINCT run) AS n FROM samples WHERE reachable = 1").get() as {
        n: number;
      }
    ).n;
  let allSampledMs: number | null = null;
  let peakRss = 0;
  const pages = () => {
    app.db.pragma("wal_checkpoint(PASSIVE)");
    return (
      ((app.db.pragma("page_count", { simple: true }) as number) -
        (app.db.pragma("freelist_count", { simple: true }) as number)) *
      (app.db.pragma("page_size", { simple: true }) as number)
    );
  };
  let storeAtAll = 0;
  while (Date.now() - t0 < MINUTES * 60_000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (allSampledMs === null && sampled() === RUNS) {
      allSampledMs = Date.now() - t0;
      storeAtAll = pages();
    }
  }
  const elapsedS = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const vmCpu = sshds.reduce((s, d) => s + treeCpuSeconds(d.pid), 0) - vmCpu0;
  const polls = app.db
    .prepare(
      "SELECT run, started_at AS at, duration_ms AS ms, outcome FROM polls WHERE started_at >= ?",
    )
    .all(t0) as Array<{ run: string; at: number; ms: number | null; outcome: string }>;
  const storeEnd = pages();
  await app.stop();

  // Rounds: polls grouped by the interval they started in; a round ends with its last poll.
  const rounds = new Map<number, { start: number; end: number }>();
  for (const p of polls) {
    if (p.ms === null) continue;
    const key = Math.floor(p.at / (POLL_S * 1000));
    const round = rounds.get(key) ?? { start: key * POLL_S * 1000, end: 0 };
    round.end = Math.max(round.end, p.at + p.ms);
    rounds.set(key, round);
  }
  const roundMs = [...rounds.values()].map((r) => r.end - r.start).sort((a, b) => a - b);
  const expected = RUNS * Math.floor(elapsedS / POLL_S);
  const ok = polls.filter((p) => p.outcome === "ok").length;
  const failed = polls.filter((p) => p.outcome !== "ok").length;
  const outcomes = new Map<string, number>();
  for (const p of polls) outcomes.set(p.outcome, (outcomes.get(p.outcome) ?? 0) + 1);
  const runHours = (RUNS * (elapsedS - (allSampledMs ?? 0) / 1000)) / 3600;
  console.log(
    `scale: ${RUNS} runs on ${HOSTS} loopback sshd host(s), poll every ${POLL_S} s, a log line per run per second, ${elapsedS.toFixed(0)} s`,
  );
  console.log(
    "| runs | hosts | all sampled after | round p50 | round p99 | daemon CPU | daemon RSS peak | VM CPU per run | polls ok / failed or skipped / expected | store per run-hour |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  console.log(
    `| ${RUNS} | ${HOSTS} | ${allSampledMs === null ? "never" : `${(allSampledMs / 1000).toFixed(1)} s`} | ${pct(roundMs, 50).toFixed(0)} ms | ${pct(roundMs, 99).toFixed(0)} ms | ${((100 * (cpu.user + cpu.system)) / 1e6 / elapsedS).toFixed(1)} % of a core | ${(peakRss / 2 ** 20).toFixed(0)} MB | ${((100 * vmCpu) / elapsedS / RUNS).toFixed(2)} % of a core | ${ok} / ${failed} / ~${expected} | ${runHours > 0 ? `${((storeEnd - storeAtAll) / runHours / 1e6).toFixed(3)} MB` : "n/a"} |`,
  );
  console.log(
    `poll outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}; a round spreads its polls over half the interval, so its time includes that spread`,
  );
} finally {
  writer?.kill();
  for (const sshd of sshds) await sshd.stop();
  rmSync(root, { recursive: true, force: true });
}
