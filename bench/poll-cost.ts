/**
 * Poll cost: trainops' single-probe poll over one persistent SSH connection against the plan's
 * four monitoring commands (a fresh `ssh` each, two of them grepping the whole log), on logs of
 * 10 MB, 100 MB and 1 GB over a loopback sshd. Prints wall time and remote CPU per poll, and the
 * ratios. Run: `npx tsx bench/poll-cost.ts [--sizes 10,100,1000] [--polls 10]`.
 */
import { execFile } from "node:child_process";
import {
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
import { startSshd } from "../test/harness/sshd.ts";

const run = promisify(execFile);
const args = process.argv.slice(2);
const argOf = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : fallback;
};
const sizesMb = argOf("--sizes", "10,100,1000").split(",").map(Number);
const polls = Number(argOf("--polls", "10"));
const CLK_TCK = 100;

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

/** Remote CPU of a command: the children time its wrapping shell reports, in seconds. */
const CPU_SUFFIX = "; echo \"@@cpu $(sed 's/.*) //' /proc/$$/stat | awk '{print $14 + $15}')\"";

async function planPoll(workdir: string, log: string): Promise<{ wallMs: number; cpuMs: number }> {
  const commands = [
    `cd ${shellQuote(workdir)} && grep 'Train step' ${shellQuote(log)} | tail -n 1`,
    `${shellQuote(smi)} && echo '' && free -h`,
    `cd ${shellQuote(workdir)} && grep -i 'error\\|killed\\|oom\\|exception' ${shellQuote(log)} | tail -n 10`,
    "ps aux | grep 'pt_data_worker' | awk '{sum+=$6} END {print sum/1024/1024 \" GB\"}'",
  ];
  const start = performance.now();
  let cpuTicks = 0;
  for (const command of commands) {
    const { stdout } = await run("ssh", [...sshArgs, `sh -c ${shellQuote(command + CPU_SUFFIX)}`], {
      maxBuffer: 64 * 1024 * 1024,
    });
    cpuTicks += Number(/@@cpu (\d+)/.exec(stdout)?.[1] ?? 0);
  }
  return { wallMs: performance.now() - start, cpuMs: (cpuTicks * 1000) / CLK_TCK };
}

const rows: string[] = [];
rows.push(
  "| log size | trainops wall / poll | plan wall / poll | wall ratio | trainops remote CPU / poll | plan remote CPU / poll | CPU ratio |",
);
rows.push("|---|---|---|---|---|---|---|");
for (const mb of sizesMb) {
  const workdir = join(root, `w${mb}`);
  mkdirSync(join(workdir, "logs"), { recursive: true });
  const logRel = "logs/train_full.log";
  writeLog(join(workdir, logRel), mb);
  await run("sh", ["-c", `cat ${shellQuote(join(workdir, logRel))} > /dev/null`]);

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

  const cpuProbe = "sed 's/.*) //' /proc/$PPID/stat | awk '{print $14 + $15}'";
  const trainopsWall: number[] = [];
  const before = Number((await transport.run(cpuProbe)).stdout.toString().trim());
  for (let i = 0; i < polls; i += 1) {
    const t0 = performance.now();
    const report = await monitor.pollOnce();
    trainopsWall.push(performance.now() - t0);
    if (report.outcome !== "ok") throw new Error(report.message ?? "poll failed");
  }
  const after = Number((await transport.run(cpuProbe)).stdout.toString().trim());
  const trainopsCpu = ((after - before) * 1000) / CLK_TCK / polls;

  const planWall: number[] = [];
  const planCpu: number[] = [];
  const planPolls = Math.max(3, Math.min(polls, mb >= 1000 ? 3 : polls));
  for (let i = 0; i < planPolls; i += 1) {
    const { wallMs, cpuMs } = await planPoll(workdir, logRel);
    planWall.push(wallMs);
    planCpu.push(cpuMs);
  }
  const tw = median(trainopsWall);
  const pw = median(planWall);
  const pc = median(planCpu);
  rows.push(
    `| ${mb >= 1000 ? `${mb / 1000} GB` : `${mb} MB`} | ${tw.toFixed(1)} ms | ${pw.toFixed(0)} ms | ${(pw / tw).toFixed(0)}x | ${trainopsCpu.toFixed(1)} ms | ${pc.toFixed(0)} ms | ${trainopsCpu > 0 ? `${(pc / trainopsCpu).toFixed(0)}x` : "n/a"} |`,
  );
  await transport.close();
  rmSync(join(workdir, logRel));
}
console.log(`poll cost over loopback sshd, median of ${polls} trainops polls (plan: ≥3 polls)`);
console.log(rows.join("\n"));
console.log(
  "remote CPU: user+system time of the processes each poll starts on the VM (10 ms ticks; averaged for trainops)",
);
await sshd.stop();
rmSync(root, { recursive: true, force: true });
