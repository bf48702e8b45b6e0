/**
 * Scale: N runs spread over H loopback sshd "hosts" (one sshd each), the daemon (`trainops
 * start`, in its own process: poll schedule, follow streams, alert rules, store) polling every
 * run, and a writer process appending a step line to every log each second. Prints time to
 * sample every run, poll round time p50/p99, the daemon's CPU and peak RSS (its process alone,
 * read from /proc), VM-side CPU per run (every sshd and what runs under it), missed polls, SSH
 * connections per host, store growth per run-hour, and what the harness itself cost (this
 * process and the writer), with the load average of the machine (the bench shares its cores
 * with whatever else runs).
 *
 * Missed polls, exactly: each cron tick after start begins a round, and a round's window lasts
 * until the next tick. Every full window between the first tick and the end of the measurement
 * should give every run one good poll (outcome ok) that started inside it; a run that got none
 * there (skipped, failed, late into the next window, never started) missed that round. The
 * first round at start (an extra one) is judged by "all sampled after" instead.
 *
 * Every sshd runs with OpenSSH's own limits (`MaxStartups 10:30:100`, `MaxSessions 10`), and
 * each host has one nvidia-smi (as a VM has) shared by its runs. The sshds start before the
 * measured window. The bench acts only on the processes it started (its sshds, the daemon and
 * the writer, by pid) and removes its temp folder, also when interrupted.
 * Run: `npx tsx bench/scale.ts [--runs 10] [--hosts 1] [--minutes 2] [--poll-s 5] [--profile DIR]`.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { TRAINOPS_BIN } from "../test/harness/cli.ts";
import { createFakeRunDir, stepLine } from "../test/harness/fake-run-dir.ts";
import { freePort } from "../test/harness/free-port.ts";
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
/** A folder for a CPU profile of the daemon (node --cpu-prof), to see where its time goes. */
const PROFILE = argOf("--profile", "");
if (!Number.isInteger(POLL_S) || POLL_S < 1 || 60 % POLL_S !== 0) {
  throw new Error(`--poll-s ${POLL_S}: use a divisor of 60 (the rounds are cron's */N seconds)`);
}
const POLL_MS = POLL_S * 1000;

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

/** CPU seconds of one process (its threads included, not its children), from /proc. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Resident memory of a process: now (VmRSS) or its peak so far (VmHWM), in bytes. */
function rssOf(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    readFileSync(`/proc/${pid}/status`, "utf8"),
  );
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

const root = mkdtempSync(join(tmpdir(), "trainops-scale-"));
const sshds: SshdHarness[] = [];
let writer: ChildProcess | null = null;
let daemon: ChildProcess | null = null;
let cleaned = false;
const cleanup = async () => {
  if (cleaned) return;
  cleaned = true;
  writer?.kill();
  daemon?.kill("SIGKILL");
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
  // The writer: one line a second to every log, in its own process, each log kept open.
  writeFileSync(join(root, "logs.json"), JSON.stringify(logs));
  writer = spawn(
    process.execPath,
    [
      "-e",
      `const fs=require("fs");const fds=JSON.parse(fs.readFileSync(process.argv[1],"utf8")).map((l)=>fs.openSync(l,"a"));let s=2;
       setInterval(()=>{const line="2026-11-28 10:00:00,000 - __main__ - INFO - Train step "+s+"/128000 loss=0.4213 time=1.0s\\n";for(const fd of fds)fs.writeSync(fd,line);s++;},1000);`,
      join(root, "logs.json"),
    ],
    { stdio: "ignore" },
  );

  const dbPath = join(root, "trainops.db");
  const port = await freePort();
  const configPath = join(root, "trainops.yaml");
  // JSON is YAML: the daemon reads it as its config file.
  writeFileSync(
    configPath,
    JSON.stringify({
      store: dbPath,
      poll: `*/${POLL_S} * * * * *`,
      runs,
      alerts: { console: false },
      http: { port, host: "127.0.0.1" },
      logLevel: "warn",
    }),
  );
  const daemonLog = join(root, "daemon.log");
  const logFd = openSync(daemonLog, "w");
  const writerCpu0 = processCpuSeconds(writer.pid as number);
  const profile = PROFILE ? ["--cpu-prof", "--cpu-prof-dir", PROFILE] : [];
  // The daemon runs the bundle in dist/, as an installed trainops does, built here from the
  // sources as they are; TRAINOPS_FROM_SOURCE=1 runs the sources through tsx instead, which
  // costs ~60 MB more RSS (the transpiler's thread) and more CPU at start.
  const fromSource = process.env.TRAINOPS_FROM_SOURCE === "1";
  if (!fromSource) execFileSync("npm", ["run", "--silent", "build"], { stdio: "ignore" });
  daemon = spawn(process.execPath, [...profile, TRAINOPS_BIN, "start", "--config", configPath], {
    env: { ...process.env, TRAINOPS_FROM_SOURCE: fromSource ? "1" : "0" },
    stdio: ["ignore", "ignore", logFd],
  });
  closeSync(logFd);
  const daemonPid = daemon.pid as number;
  const spawnedAt = Date.now();
  const exited = new Promise<void>((resolve) => daemon?.once("exit", () => resolve()));
  // Ready when /metrics answers: the store is open and the schedule starts next. Module
  // loading (and transpiling from source) is before the window, as the sshds' start-up is.
  const metrics = () =>
    fetch(`http://127.0.0.1:${port}/metrics`).then((r) => (r.ok ? r.text() : null));
  for (;;) {
    if (daemon.exitCode !== null) {
      throw new Error(`the daemon exited at start:\n${readFileSync(daemonLog, "utf8")}`);
    }
    if (await metrics().catch(() => null)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const loadAtStart = load();
  const readyAfterS = (Date.now() - spawnedAt) / 1000;
  const rssAtReady = rssOf(daemonPid, "VmRSS");
  const vmCpu0 = sshds.reduce((s, d) => s + treeCpuSeconds(d.pid), 0);
  const daemonCpu0 = processCpuSeconds(daemonPid);
  const harnessCpu0 = process.cpuUsage();
  const t0 = Date.now();
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const sampledStatement = db.prepare(
    "SELECT COUNT(DISTINCT run) AS n FROM samples WHERE reachable = 1",
  );
  // Bytes in use, as this reader sees the store (the WAL's pages included).
  const pages = () =>
    ((db.pragma("page_count", { simple: true }) as number) -
      (db.pragma("freelist_count", { simple: true }) as number)) *
    (db.pragma("page_size", { simple: true }) as number);
  let allSampledMs: number | null = null;
  let storeAtAll = 0;
  let peakConnections = 0;
  let lastConnectionsCheck = 0;
  /** The daemon's resident memory every 5 s: [seconds since start, MB]. */
  const rssTimeline: Array<[number, number]> = [];
  /**
   * The start-up, every 5 s for the first two minutes: where the CPU went (the daemon, the
   * VMs' sshds and what runs under them), the load, and how many runs had been sampled.
   */
  const startup: string[] = [];
  let last = { at: t0, daemon: daemonCpu0, vm: vmCpu0 };
  while (Date.now() - t0 < MINUTES * 60_000) {
    await new Promise((resolve) => setTimeout(resolve, allSampledMs === null ? 250 : 1000));
    if (allSampledMs === null && (sampledStatement.get() as { n: number }).n === RUNS) {
      allSampledMs = Date.now() - t0;
      storeAtAll = pages();
    }
    if (Date.now() - lastConnectionsCheck >= 5000) {
      lastConnectionsCheck = Date.now();
      peakConnections = Math.max(peakConnections, ...sshds.map((d) => connectionsOf(d.pid)));
      rssTimeline.push([
        Math.round((Date.now() - t0) / 1000),
        Math.round(rssOf(daemonPid, "VmRSS") / 2 ** 20),
      ]);
      if (Date.now() - t0 <= 120_000) {
        const now = {
          at: Date.now(),
          daemon: processCpuSeconds(daemonPid),
          vm: sshds.reduce((s, d) => s + treeCpuSeconds(d.pid), 0),
        };
        const span = (now.at - last.at) / 1000;
        const sampled = (sampledStatement.get() as { n: number }).n;
        startup.push(
          `${Math.round((now.at - t0) / 1000)}s: load ${loadavg()[0]?.toFixed(1)}, daemon ${((100 * (now.daemon - last.daemon)) / span).toFixed(0)} %, VMs ${((100 * (now.vm - last.vm)) / span).toFixed(0)} %, sampled ${sampled}`,
        );
        last = now;
      }
    }
  }
  const tEnd = Date.now();
  const elapsedS = (tEnd - t0) / 1000;
  const loadAtEnd = load();
  const daemonCpu = processCpuSeconds(daemonPid) - daemonCpu0;
  const peakRss = rssOf(daemonPid, "VmHWM");
  const vmCpu = sshds.reduce((s, d) => s + treeCpuSeconds(d.pid), 0) - vmCpu0;
  const harnessCpu = process.cpuUsage(harnessCpu0);
  const writerCpu = processCpuSeconds(writer.pid as number) - writerCpu0;
  const scraped = (await metrics().catch(() => null)) ?? "";
  const metric = (name: string) => new RegExp(`^${name} (\\S+)$`, "m").exec(scraped)?.[1] ?? "n/a";
  const mb = (name: string) => `${(Number(metric(name)) / 2 ** 20).toFixed(0)} MB`;
  // The daemon finishes the polls in flight and drops those not started: all are in the store.
  daemon.kill("SIGTERM");
  await exited;
  daemon = null;

  const polls = db
    .prepare(
      "SELECT run, started_at AS at, duration_ms AS ms, outcome FROM polls WHERE started_at >= ?",
    )
    .all(t0) as Array<{ run: string; at: number; ms: number | null; outcome: string }>;
  const storeEnd = pages();

  // Full windows: from the first tick after start to the last tick at or before the end.
  const firstTick = Math.ceil((t0 + 1) / POLL_MS) * POLL_MS;
  const windows: number[] = [];
  for (let t = firstTick; t + POLL_MS <= tEnd; t += POLL_MS) windows.push(t);
  const lastWindowEnd = firstTick + windows.length * POLL_MS;
  const good = new Set<string>();
  for (const p of polls) {
    if (p.outcome !== "ok" || p.at < firstTick || p.at >= lastWindowEnd) continue;
    good.add(`${p.run} ${Math.floor((p.at - firstTick) / POLL_MS)}`);
  }
  const expected = RUNS * windows.length;
  const missed = expected - good.size;
  // Round time: from its tick to the end of its last poll.
  const roundMs = windows
    .map((start) =>
      polls
        .filter((p) => p.ms !== null && p.at >= start && p.at < start + POLL_MS)
        .reduce((end, p) => Math.max(end, p.at + (p.ms as number) - start), 0),
    )
    .sort((a, b) => a - b);
  const probeMs = polls.flatMap((p) => (p.ms === null ? [] : [p.ms])).sort((a, b) => a - b);
  const outcomes = new Map<string, number>();
  for (const p of polls) outcomes.set(p.outcome, (outcomes.get(p.outcome) ?? 0) + 1);
  const runHours = (RUNS * (elapsedS - (allSampledMs ?? 0) / 1000)) / 3600;
  db.close();
  const pctOfCore = (seconds: number) => `${((100 * seconds) / elapsedS).toFixed(1)} %`;
  console.log(
    `scale: ${RUNS} runs on ${HOSTS} loopback sshd host(s), poll every ${POLL_S} s, a log line per run per second, ${elapsedS.toFixed(0)} s measured; load average ${loadBefore} before the sshds, ${loadAtStart} at start, ${loadAtEnd} at end`,
  );
  console.log(
    "| runs | hosts | all sampled after | round p50 | round p99 | daemon CPU | daemon RSS peak | VM CPU per run | SSH connections per host (peak) | polls ok / missed / expected | store per run-hour |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  console.log(
    `| ${RUNS} | ${HOSTS} | ${allSampledMs === null ? "never" : `${(allSampledMs / 1000).toFixed(1)} s`} | ${pct(roundMs, 50).toFixed(0)} ms | ${pct(roundMs, 99).toFixed(0)} ms | ${pctOfCore(daemonCpu)} of a core | ${(peakRss / 2 ** 20).toFixed(0)} MB | ${((100 * vmCpu) / elapsedS / RUNS).toFixed(2)} % of a core | ${peakConnections} | ${good.size} / ${missed} / ${expected} | ${runHours > 0 ? `${((storeEnd - storeAtAll) / runHours / 1e6).toFixed(3)} MB` : "n/a"} |`,
  );
  console.log(
    `rounds judged: ${windows.length} full windows of ${POLL_S} s; poll (probe) time p50 ${pct(probeMs, 50).toFixed(0)} ms, p99 ${pct(probeMs, 99).toFixed(0)} ms; poll outcomes: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}; a round spreads its polls over half the interval, so its time includes that spread`,
  );
  console.log(
    `daemon /metrics: rounds ${metric("trainops_poll_rounds_total")}, overruns ${metric("trainops_poll_round_overruns_total")}, skipped ${metric("trainops_poll_skipped_total")}, ticks missed ${metric("trainops_poll_ticks_missed_total")}, last round ${metric("trainops_poll_round_seconds")} s`,
  );
  console.log(
    `daemon: ready ${readyAfterS.toFixed(1)} s after spawn with ${(rssAtReady / 2 ** 20).toFixed(0)} MB resident; at end heap used ${mb("nodejs_heap_size_used_bytes")} of ${mb("nodejs_heap_size_total_bytes")}, external ${mb("nodejs_external_memory_bytes")}, event loop lag p99 ${metric("nodejs_eventloop_lag_p99_seconds")} s`,
  );
  // Polls by when they started, 10 s at a time over the first two minutes.
  const byStart: string[] = [];
  for (let from = t0; from < Math.min(tEnd, t0 + 120_000); from += 10_000) {
    const bucket = polls.filter((p) => p.at >= from && p.at < from + 10_000);
    const ms = bucket.flatMap((p) => (p.ms === null ? [] : [p.ms])).sort((a, b) => a - b);
    const bad = bucket.filter((p) => p.outcome !== "ok").length;
    byStart.push(
      `${(from - t0) / 1000}s: ${bucket.length} polls, p50 ${pct(ms, 50).toFixed(0)} ms, max ${(ms.at(-1) ?? 0).toFixed(0)} ms${bad ? `, ${bad} not ok` : ""}`,
    );
  }
  console.log(`start-up every 5 s (CPU in % of a core): ${startup.join("; ")}`);
  console.log(`polls by start, 10 s at a time: ${byStart.join("; ")}`);
  console.log(
    `daemon RSS (MB) every 5 s: ${rssTimeline.map(([at, mb]) => `${at}s ${mb}`).join(", ")}`,
  );
  console.log(
    `harness (not in the figures above): this process ${pctOfCore((harnessCpu.user + harnessCpu.system) / 1e6)} of a core, the log writer ${pctOfCore(writerCpu)}`,
  );
  // What the daemon warned about, by message, with one example line each.
  const warnings = new Map<string, { n: number; example: string }>();
  for (const line of readFileSync(daemonLog, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    let key = line.slice(0, 120);
    try {
      key = (JSON.parse(line) as { msg?: string }).msg ?? key;
    } catch {
      // Not a log line (a stack trace): counted by its start.
    }
    const seen = warnings.get(key) ?? { n: 0, example: line.slice(0, 400) };
    seen.n += 1;
    warnings.set(key, seen);
  }
  for (const [msg, { n, example }] of [...warnings].sort((a, b) => b[1].n - a[1].n).slice(0, 8)) {
    console.log(`daemon log: ${n}x ${msg}, e.g. ${example}`);
  }
} finally {
  await cleanup();
}
