/**
 * Host probe cost: N runs on one loopback sshd "host", polled together (one probe per round),
 * each log grown by one line before every round (the common case: nothing rotated, the log
 * only grew). Prints, per round: the probe's wall time p50, the VM-side CPU (sshd and all it
 * runs) per run in % of a core at the given poll interval, and the processes the probe forks
 * and executes (counted by `strace -f` on the VM in one extra round), with the load average.
 * Run: `npx tsx bench/host-probe-cost.ts [--runs 10] [--rounds 20] [--poll-s 30]`.
 */

import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runSchema } from "../src/config/schema.ts";
import { systemClock } from "../src/core/clock.ts";
import { pollHost } from "../src/monitors/host-poll.ts";
import { RunMonitor } from "../src/monitors/run-monitor.ts";
import { openDatabase } from "../src/store/database.ts";
import { createMonitorStore } from "../src/store/monitor-store.ts";
import { createTransport } from "../src/transport/create-transport.ts";
import { HostTransportPool } from "../src/transport/host-transport-pool.ts";
import { shellQuote } from "../src/transport/shell-quote.ts";
import type { ExecOptions, ExecResult, Transport } from "../src/transport/transport.ts";
import { createFakeRunDir, stepLine } from "../test/harness/fake-run-dir.ts";
import { treeCpuSeconds } from "../test/harness/process-cpu.ts";
import { startSshd } from "../test/harness/sshd.ts";

const args = process.argv.slice(2);
const argOf = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : fallback;
};
const RUNS = Number(argOf("--runs", "10"));
const ROUNDS = Number(argOf("--rounds", "20"));
const POLL_S = Number(argOf("--poll-s", "30"));

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** Runs each script as usual, or, once armed, under `strace -f` on the VM to count processes. */
class TracingTransport implements Transport {
  trace: string | null = null;
  constructor(private readonly inner: Transport) {}
  get description(): string {
    return this.inner.description;
  }
  run(script: string, options?: ExecOptions): Promise<ExecResult> {
    const out = this.trace;
    if (out === null) return this.inner.run(script, options);
    this.trace = null;
    const file = `${out}.sh`;
    const terminator = "TRAINOPS_BENCH_EOF";
    return this.inner.run(
      `cat > ${shellQuote(file)} <<'${terminator}'\n${script}${terminator}\nstrace -f -qq -e trace=execve,clone,clone3,fork,vfork -o ${shellQuote(out)} /bin/sh ${shellQuote(file)}`,
      options,
    );
  }
  follow(options: Parameters<Transport["follow"]>[0]) {
    return this.inner.follow(options);
  }
  close() {
    return this.inner.close();
  }
}

const root = mkdtempSync(join(tmpdir(), "trainops-probe-cost-"));
const sshd = await startSshd();
try {
  const logs: string[] = [];
  const runs = Array.from({ length: RUNS }, (_, i) => {
    // 8 KiB of lines already there: the log's prefix is a full 4 KiB, as any log past its start.
    const lines = Array.from({ length: 90 }, (_, s) => stepLine(s + 1, 128_000)).join("\n");
    const { workdir, logPath } = createFakeRunDir(join(root, `run${i}`), "train.log", `${lines}\n`);
    logs.push(logPath);
    return runSchema.parse({
      name: `run${String(i).padStart(4, "0")}`,
      ssh: { ...sshd.runConfigSsh(), execTimeout: "60s" },
      workdir,
      log: "train.log",
      nvidiaSmi: "",
    });
  });
  const store = createMonitorStore(openDatabase(join(root, "trainops.db")));
  let tracing: TracingTransport | undefined;
  const pool = new HostTransportPool((run) => {
    tracing = new TracingTransport(createTransport(run));
    return tracing;
  });
  const monitors = runs.map(
    (run) => new RunMonitor({ run, transport: pool.get(run), store, clock: systemClock }),
  );
  let step = 100;
  const grow = () => {
    step += 1;
    for (const log of logs) appendFileSync(log, `${stepLine(step, 128_000)}\n`);
  };
  // Attach, and one round to settle (a first read verifies the file in full).
  await pollHost(monitors, { store, clock: systemClock });
  grow();
  await pollHost(monitors, { store, clock: systemClock });
  const loadBefore = load();
  const walls: number[] = [];
  const cpu0 = treeCpuSeconds(sshd.pid);
  for (let r = 0; r < ROUNDS; r++) {
    grow();
    const t0 = performance.now();
    const reports = await pollHost(monitors, { store, clock: systemClock });
    walls.push(performance.now() - t0);
    const bad = reports.filter((p) => p.outcome !== "ok");
    if (bad.length > 0) throw new Error(`poll not ok: ${bad[0]?.run} ${bad[0]?.message}`);
  }
  const vmCpu = treeCpuSeconds(sshd.pid) - cpu0;
  const loadAfter = load();
  // One more round under strace, to count what the probe starts on the VM.
  const traceFile = join(root, "probe.trace");
  grow();
  if (!tracing) throw new Error("no transport");
  tracing.trace = traceFile;
  await pollHost(monitors, { store, clock: systemClock });
  let trace: string[] = [];
  try {
    trace = readFileSync(traceFile, "utf8").split("\n");
  } catch {
    console.log("strace is not installed on the VM: processes are not counted");
  }
  const execs = trace.filter((l) => / execve\(/.test(l) && !/ENOENT/.test(l)).length;
  const forks = trace.filter((l) => /\b(clone3?|v?fork)\(/.test(l)).length;
  const programs = new Map<string, number>();
  for (const line of trace) {
    const name = / execve\("([^"]+)"/.exec(line)?.[1];
    if (name && !/ENOENT/.test(line)) programs.set(name, (programs.get(name) ?? 0) + 1);
  }
  walls.sort((a, b) => a - b);
  const p50 = walls[Math.floor(walls.length / 2)] ?? Number.NaN;
  const perRunCpuS = vmCpu / ROUNDS / RUNS;
  const shell = execFileSync("sh", ["-c", "readlink -f /bin/sh"]).toString().trim();
  console.log(
    `host probe, ${RUNS} runs on one host, ${ROUNDS} rounds, /bin/sh = ${shell}, load ${loadBefore} → ${loadAfter}`,
  );
  console.log(
    "| runs | probe wall p50 | VM CPU per run per round | VM CPU per run at a " +
      `${POLL_S} s poll | processes forked / executed per round (per run) |`,
  );
  console.log("|---|---|---|---|---|");
  console.log(
    `| ${RUNS} | ${p50.toFixed(0)} ms | ${(perRunCpuS * 1000).toFixed(2)} ms | ${((100 * perRunCpuS) / POLL_S).toFixed(4)} % of a core | ${forks} / ${execs} (${(forks / RUNS).toFixed(1)} / ${(execs / RUNS).toFixed(1)}) |`,
  );
  console.log(
    `executed: ${[...programs].map(([name, n]) => `${name.split("/").pop()} ${n}`).join(", ")}`,
  );
  await Promise.all(monitors.map((m) => m.transport.close()));
} finally {
  await sshd.stop();
  rmSync(root, { recursive: true, force: true });
}
