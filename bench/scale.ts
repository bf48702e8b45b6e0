/**
 * Scale: N runs spread over H loopback sshd "hosts" (one sshd each), the whole daemon (startApp:
 * poll schedule, follow streams, alert rules, store) polling every run, and a writer process
 * appending a step line to every log each second. Prints time to sample every run, poll round
 * time p50/p99, daemon CPU and RSS, VM-side CPU per run (every sshd and what runs under it),
 * missed polls, SSH connections per host and store growth per run-hour, with the load average
 * of the machine before and after (the bench shares its cores with whatever else runs).
 *
 * Every sshd runs with OpenSSH's own limits (`MaxStartups 10:30:100`, `MaxSessions 10`), and
 * each host has one nvidia-smi (as a VM has) shared by its runs. The bench acts only on the
 * processes it started (its sshds by pid, its writer) and removes its temp folder, also when
 * interrupted.
 * Run: `npx tsx bench/scale.ts [--runs 10] [--hosts 1] [--minutes 2] [--poll-s 5]`.
 */

import { spawn } from "node:child_process";
import {
  createWriteStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema } from "../src/config/schema.ts";
import { createLogger } from "../src/daemon/logger.ts";
import { startApp } from "../src/runtime/app.ts";
import { createFakeRunDir, stepLine } from "../test/harness/fake-run-dir.ts";
import { treeCpuSeconds } from "../test/harness/process-cpu.ts";
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

function pct(sorted: number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

/** SSH connections an sshd holds: its children (one per connection), read from /proc. */
function connectionsOf(pid: number): number {
  try {
    let n = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      n += children ? children.split(" ").length : 0;
    }
    return n;
  } catch {
    return 0;
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

const root = mkdtempSync(join(tmpdir(), "trainops-scale-"));
const sshds: SshdHarness[] = [];
let writer: ReturnType<typeof spawn> | null = null;
let cleaned = false;
const cleanup = async () => {
  if (cleaned) return;
  cleaned = true;
  writer?.kill();
  await Promise.allSettled(sshds.map((sshd) => sshd.stop()));
  rmSync(root, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
const loadBefore = load();
try {
  // Started a few at a time: the machine is small, and sshd start-up is not what is measured.
  for (let h = 0; h < HOSTS; h += 10) {
    const batch = Math.min(10, HOSTS - h);
    sshds.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () =>
          startSshd({ limits: { maxStartups: "10:30:100", maxSessions: 10 } }),
        ),
      )),
    );
  }
  // One nvidia-smi per host, as on a VM: the runs of a host share it.
  const smis = sshds.map((sshd) => {
    const path = join(sshd.dir, "nvidia-smi");
    writeFileSync(
      path,
      '#!/bin/sh\ncase "$*" in *query-gpu*) echo "0, NVIDIA A100-SXM4-80GB, 78822, 81920, 7, 36, 83.10";; *) ;; esac\n',
      { mode: 0o755 },
    );
    return path;
  });
  const logs: string[] = [];
  const runs = Array.from({ length: RUNS }, (_, i) => {
    const sshd = sshds[i % HOSTS] as SshdHarness;
    const { workdir, logPath } = createFakeRunDir(
      join(root, `run${i}`),
      "train.log",
      `${stepLine(1, 128_000)}\n`,
    );
    logs.push(logPath);
    return {
      name: `run${String(i).padStart(4, "0")}`,
      // The product's own timeouts (10 s to connect, 30 s a probe), not the tests' short ones.
      ssh: { ...sshd.runConfigSsh(), connectTimeout: "10s", execTimeout: "30s" },
      workdir,
      log: "train.log",
      nvidiaSmi: smis[i % HOSTS] as string,
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
    log: createLogger({
      level: "warn",
      pretty: false,
      destination: createWriteStream(join(root, "daemon.log")),
    }),
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
  let peakConnections = 0;
  while (Date.now() - t0 < MINUTES * 60_000) {
    await new Promise((resolve) => setTimeout(resolve, allSampledMs === null ? 250 : 1000));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (allSampledMs === null && sampled() === RUNS) {
      allSampledMs = Date.now() - t0;
      storeAtAll = pages();
    }
    peakConnections = Math.max(peakConnections, ...sshds.map((d) => connectionsOf(d.pid)));
  }
  const elapsedS = (Date.now() - t0) / 1000;
  const loadAfter = load();
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
  const probeMs = polls.flatMap((p) => (p.ms === null ? [] : [p.ms])).sort((a, b) => a - b);
  // Every round started (a cron tick, and the first poll at start) is expected to poll every
  // run: skip records count the rounds that found a run's previous poll still going.
  const started = new Set(polls.map((p) => Math.floor(p.at / (POLL_S * 1000))));
  const expected = RUNS * started.size;
  const ok = polls.filter((p) => p.outcome === "ok").length;
  const failed = polls.filter((p) => p.outcome !== "ok").length;
  // A round that gave a run no good poll (skipped, failed or never started) missed it.
  const missed = Math.max(0, expected - ok);
  const outcomes = new Map<string, number>();
  for (const p of polls) outcomes.set(p.outcome, (outcomes.get(p.outcome) ?? 0) + 1);
  const runHours = (RUNS * (elapsedS - (allSampledMs ?? 0) / 1000)) / 3600;
  console.log(
    `scale: ${RUNS} runs on ${HOSTS} loopback sshd host(s), poll every ${POLL_S} s, a log line per run per second, ${elapsedS.toFixed(0)} s, load average ${loadBefore} before, ${loadAfter} after`,
  );
  console.log(
    "| runs | hosts | all sampled after | round p50 | round p99 | daemon CPU | daemon RSS peak | VM CPU per run | SSH connections per host (peak) | polls ok / missed / expected | store per run-hour |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  console.log(
    `| ${RUNS} | ${HOSTS} | ${allSampledMs === null ? "never" : `${(allSampledMs / 1000).toFixed(1)} s`} | ${pct(roundMs, 50).toFixed(0)} ms | ${pct(roundMs, 99).toFixed(0)} ms | ${((100 * (cpu.user + cpu.system)) / 1e6 / elapsedS).toFixed(1)} % of a core | ${(peakRss / 2 ** 20).toFixed(0)} MB | ${((100 * vmCpu) / elapsedS / RUNS).toFixed(2)} % of a core | ${peakConnections} | ${ok} / ${missed} / ${expected} | ${runHours > 0 ? `${((storeEnd - storeAtAll) / runHours / 1e6).toFixed(3)} MB` : "n/a"} |`,
  );
  console.log(
    `poll (probe) time p50 ${pct(probeMs, 50).toFixed(0)} ms, p99 ${pct(probeMs, 99).toFixed(0)} ms; poll outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")} (${failed} not ok); a round spreads its polls over half the interval, so its time includes that spread`,
  );
  // What the daemon warned about, by message, with one example line each.
  const warnings = new Map<string, { n: number; example: string }>();
  for (const line of readFileSync(join(root, "daemon.log"), "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const key = (JSON.parse(line) as { msg?: string }).msg ?? "?";
    const seen = warnings.get(key) ?? { n: 0, example: line.slice(0, 400) };
    seen.n += 1;
    warnings.set(key, seen);
  }
  for (const [msg, { n, example }] of [...warnings].sort((a, b) => b[1].n - a[1].n).slice(0, 6)) {
    console.log(`daemon log: ${n}x ${msg}, e.g. ${example}`);
  }
} finally {
  await cleanup();
}
