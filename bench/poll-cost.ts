/**
 * Poll cost: trainops' single-probe poll over one persistent SSH connection against the user's
 * four monitoring commands as they type them (a fresh `ssh` each: `tail -50 LOG | grep`,
 * `grep … LOG | tail -20`, `nvidia-smi`, `ps aux | grep`), on logs of 10 MB, 100 MB and 1 GB
 * over a loopback sshd, with 5 s worth of new lines appended before every poll of either side.
 * Remote CPU is everything the VM spent: the sshd processes (key exchange, session) and all
 * they started, read from the sshd listener's process tree. With `--cold` (root only: it
 * writes /proc/sys/vm/drop_caches, slowing every process on the machine) the page cache is
 * dropped before each poll; by default the log is in the page cache, as on a VM whose trainer
 * just wrote it. Run: `npx tsx bench/poll-cost.ts [--sizes 10,100,1000] [--polls 10] [--cold]`.
 */
import { execFile, execFileSync } from "node:child_process";
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runSchema } from "../src/config/schema.ts";
import { systemClock } from "../src/core/clock.ts";
import { RunMonitor } from "../src/monitors/run-monitor.ts";
import { openDatabase } from "../src/store/database.ts";
import { createMonitorStore } from "../src/store/monitor-store.ts";
import { shellQuote } from "../src/transport/shell-quote.ts";
import { SshTransport } from "../src/transport/ssh-transport.ts";
import { treeCpuSeconds } from "../test/harness/process-cpu.ts";
import { startSshd } from "../test/harness/sshd.ts";

const run = promisify(execFile);
const args = process.argv.slice(2);
const argOf = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : fallback;
};
const sizesMb = argOf("--sizes", "10,100,1000").split(",").map(Number);
const polls = Number(argOf("--polls", "10"));
const cold = args.includes("--cold");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Writes a realistic log of about `mb` megabytes: step lines, info lines, a warning now and then. */
function writeLog(path: string, mb: number): void {
  const block: string[] = [];
  for (let i = 0; i < 2000; i += 1) {
    block.push(
      i % 50 === 0
        ? "2026-11-28 10:00:00,000 - py.warnings - WARNING - UserWarning: val_error=0.1 no exception raised"
        : `2026-11-28 10:00:00,000 - __main__ - INFO - Train step ${i}/4000 loss=0.4213 dice=0.8121 time=18.1s`,
    );
  }
  const chunk = Buffer.from(`${block.join("\n")}\n`);
  const fd = openSync(path, "w");
  let written = 0;
  while (written < mb * 1_000_000) written += writeSync(fd, chunk);
  closeSync(fd);
}

const sshd = await startSshd();
const root = mkdtempSync(join(tmpdir(), "trainops-bench-"));
const smi = join(root, "nvidia-smi");
writeFileSync(
  smi,
  '#!/bin/sh\ncase "$*" in *query-gpu*) echo "0, NVIDIA A100-SXM4-80GB, 78822, 81920, 7, 36, 83.10";; *query-compute*) echo "4242, 78000";; *) echo "GPU 0: NVIDIA A100-SXM4-80GB";; esac\n',
  { mode: 0o755 },
);
const target = sshd.runConfigSsh();
const sshArgs = [
  "-p",
  String(target.port),
  "-i",
  target.privateKey,
  "-o",
  `UserKnownHostsFile=${target.knownHosts}`,
  "-o",
  "StrictHostKeyChecking=yes",
  "-o",
  "BatchMode=yes",
  `${target.user}@${target.host}`,
];

/** Appends 5 s of a trainer's output: five step lines. */
let nextStep = 1;
function appendLines(path: string): void {
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) {
    lines.push(
      `2026-11-28 10:00:05,000 - __main__ - INFO - Train step ${nextStep++}/4000 loss=0.4213 dice=0.8121 time=18.1s`,
    );
  }
  appendFileSync(path, `${lines.join("\n")}\n`);
}

function dropCaches(): void {
  if (!cold) return;
  execFileSync("sh", ["-c", "sync; echo 1 > /proc/sys/vm/drop_caches"]);
}

async function planPoll(workdir: string, log: string): Promise<number> {
  const path = shellQuote(join(workdir, log));
  const commands = [
    `tail -50 ${path} | grep 'Train step'`,
    `grep -i 'error\\|killed\\|oom' ${path} | tail -20`,
    shellQuote(smi),
    "ps aux | grep train.py",
  ];
  const start = performance.now();
  for (const command of commands) {
    await run("ssh", [...sshArgs, command], { maxBuffer: 64 * 1024 * 1024 }).catch(
      (error: { code?: number }) => {
        // grep exits 1 when nothing matched: that is an answer, not a failure.
        if (error.code !== 1) throw error;
      },
    );
  }
  return performance.now() - start;
}

const rows: string[] = [];
rows.push(
  "| log size | trainops wall / poll | user's commands wall / poll | wall ratio | trainops VM CPU / poll | user's commands VM CPU / poll | CPU ratio |",
);
rows.push("|---|---|---|---|---|---|---|");
for (const mb of sizesMb) {
  const workdir = join(root, `w${mb}`);
  mkdirSync(join(workdir, "logs"), { recursive: true });
  const logRel = "logs/train_full.log";
  const logPath = join(workdir, logRel);
  writeLog(logPath, mb);
  await run("sh", ["-c", `cat ${shellQuote(logPath)} > /dev/null`]);

  const config = runSchema.parse({
    name: `bench${mb}`,
    ssh: target,
    workdir,
    log: logRel,
    nvidiaSmi: smi,
    steps: { perEpoch: 4000, epochs: 32 },
  });
  if (config.ssh === "local") throw new Error("unexpected");
  const transport = new SshTransport(config.ssh);
  const store = createMonitorStore(openDatabase(join(root, `bench${mb}.db`)));
  const monitor = new RunMonitor({ run: config, transport, store, clock: systemClock });
  await monitor.pollOnce(); // first attach and connection set-up are not what we measure

  const trainopsWall: number[] = [];
  let trainopsCpu = 0;
  for (let i = 0; i < polls; i += 1) {
    appendLines(logPath);
    dropCaches();
    const cpu0 = treeCpuSeconds(sshd.pid) * 1000;
    const t0 = performance.now();
    const report = await monitor.pollOnce();
    trainopsWall.push(performance.now() - t0);
    trainopsCpu += treeCpuSeconds(sshd.pid) * 1000 - cpu0;
    if (report.outcome !== "ok") throw new Error(report.message ?? "poll failed");
  }
  trainopsCpu /= polls;

  const planWall: number[] = [];
  const planCpu: number[] = [];
  const planPolls = Math.max(3, Math.min(polls, mb >= 1000 ? 3 : polls));
  for (let i = 0; i < planPolls; i += 1) {
    appendLines(logPath);
    dropCaches();
    const cpu0 = treeCpuSeconds(sshd.pid) * 1000;
    planWall.push(await planPoll(workdir, logRel));
    planCpu.push(treeCpuSeconds(sshd.pid) * 1000 - cpu0);
  }
  const tw = median(trainopsWall);
  const pw = median(planWall);
  const pc = median(planCpu);
  rows.push(
    `| ${mb >= 1000 ? `${mb / 1000} GB` : `${mb} MB`} | ${tw.toFixed(1)} ms | ${pw.toFixed(0)} ms | ${(pw / tw).toFixed(0)}x | ${trainopsCpu.toFixed(1)} ms | ${pc.toFixed(0)} ms | ${trainopsCpu > 0 ? `${(pc / trainopsCpu).toFixed(0)}x` : "n/a"} |`,
  );
  await transport.close();
  rmSync(logPath);
}
console.log(
  `poll cost over loopback sshd, ${cold ? "page cache dropped before each poll" : "log in the page cache"}, 5 lines appended before each poll; median of ${polls} trainops polls (user's commands: ≥3)`,
);
console.log(rows.join("\n"));
console.log(
  "VM CPU: user+system time of sshd and everything under it during the poll (10 ms ticks; mean for trainops)",
);
await sshd.stop();
rmSync(root, { recursive: true, force: true });
