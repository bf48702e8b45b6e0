/**
 * CLI start-up cost: wall time and local CPU of `trainops --help`, `trainops status` and
 * `trainops poll --once` (over a loopback sshd) against a bare `node -e 0`, and poll's local CPU
 * against the user's four monitoring commands as they type them (a fresh `ssh` each). Runs the
 * compiled CLI (dist/, built by `npm run build`) and, for comparison, the sources through tsx.
 * Run: `npx tsx bench/cli-start.ts [--runs 15]`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { shellQuote } from "../src/transport/shell-quote.ts";
import { startSshd } from "../test/harness/sshd.ts";

const args = process.argv.slice(2);
const runsArg = args.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 15;
const CLK_TCK = 100;
const BIN = fileURLToPath(new URL("../bin/trainops.js", import.meta.url));

if (!existsSync(fileURLToPath(new URL("../dist/cli/main.js", import.meta.url)))) {
  process.stderr.write("cli-start: no dist/ — run `npm run build` first\n");
  process.exit(1);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** CPU (user + system, ms) of every child this process has waited for so far. */
function childrenCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: field 16 (cutime) and 17 (cstime) of proc(5) are index 13 and 14.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}

interface Cost {
  wallMs: number;
  cpuMs: number;
}

/** Runs one command to the end, measuring its wall time and the CPU of it and its children. */
function measure(command: string, argv: string[], env: NodeJS.ProcessEnv = {}): Cost {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const result = spawnSync(command, argv, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const wallMs = performance.now() - t0;
  if (result.status !== 0 && !(argv.includes("poll") && result.status === 1)) {
    throw new Error(`${command} ${argv.join(" ")}: exit ${result.status}\n${result.stderr}`);
  }
  return { wallMs, cpuMs: childrenCpuMs() - cpu0 };
}

function repeat(times: number, body: () => Cost): Cost {
  const costs = Array.from({ length: times }, body);
  return {
    wallMs: median(costs.map((c) => c.wallMs)),
    cpuMs: costs.reduce((sum, c) => sum + c.cpuMs, 0) / times,
  };
}

const sshd = await startSshd();
const root = mkdtempSync(join(tmpdir(), "trainops-cli-bench-"));
try {
  const workdir = join(root, "vm");
  mkdirSync(join(workdir, "logs"), { recursive: true });
  const lines: string[] = [];
  for (let i = 1; i <= 5000; i += 1) {
    lines.push(
      `2026-11-28 10:00:00,000 - __main__ - INFO - Train step ${i}/128000 loss=0.4213 time=18.1s`,
    );
  }
  writeFileSync(join(workdir, "logs/train.log"), `${lines.join("\n")}\n`);
  const smi = join(root, "nvidia-smi");
  writeFileSync(
    smi,
    '#!/bin/sh\ncase "$*" in *query-gpu*) echo "0, NVIDIA A100-SXM4-80GB, 78822, 81920, 7, 36, 83.10";; *query-compute*) echo "4242, 78000";; *) echo "GPU 0: NVIDIA A100-SXM4-80GB";; esac\n',
    { mode: 0o755 },
  );
  const target = sshd.runConfigSsh();
  const configPath = join(root, "trainops.yaml");
  writeFileSync(
    configPath,
    stringify({
      store: join(root, "trainops.db"),
      runs: [
        {
          name: "exp001",
          ssh: target,
          workdir,
          log: "logs/train.log",
          nvidiaSmi: smi,
          steps: { perEpoch: 4000, epochs: 32 },
        },
      ],
      alerts: { console: true },
    }),
  );
  // The first call creates the store; a few warm-ups fill the page cache for both sides.
  for (let i = 0; i < 2; i += 1)
    measure(process.execPath, [BIN, "poll", "--once", "-c", configPath]);

  const compiled = { TRAINOPS_FROM_SOURCE: "0" };
  const source = { TRAINOPS_FROM_SOURCE: "1" };
  const bare = repeat(RUNS, () => measure(process.execPath, ["-e", "0"]));
  const rows: Array<[string, Cost]> = [
    ["node -e 0", bare],
    ["trainops --help", repeat(RUNS, () => measure(process.execPath, [BIN, "--help"], compiled))],
    [
      "trainops status",
      repeat(RUNS, () => measure(process.execPath, [BIN, "status", "-c", configPath], compiled)),
    ],
    [
      "trainops poll --once",
      repeat(RUNS, () =>
        measure(process.execPath, [BIN, "poll", "--once", "-c", configPath], compiled),
      ),
    ],
    [
      "trainops --help (sources via tsx)",
      repeat(Math.min(RUNS, 5), () => measure(process.execPath, [BIN, "--help"], source)),
    ],
    [
      "trainops poll --once (sources via tsx)",
      repeat(Math.min(RUNS, 5), () =>
        measure(process.execPath, [BIN, "poll", "--once", "-c", configPath], source),
      ),
    ],
  ];

  // The user's check, as typed: four fresh ssh calls. Local CPU is the ssh clients'.
  const log = join(workdir, "logs/train.log");
  const userCommands = [
    `tail -50 ${shellQuote(log)} | grep 'Train step'`,
    `grep -i 'error\\|killed\\|oom' ${shellQuote(log)} | tail -20`,
    shellQuote(smi),
    "ps aux | grep train.py",
  ];
  const sshArgs = [
    "-p",
    String(target.port),
    "-i",
    target.privateKey,
    "-F",
    target.sshConfig,
    "-o",
    `UserKnownHostsFile=${target.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    `${target.user}@${target.host}`,
  ];
  const user = repeat(RUNS, () => {
    const costs = userCommands.map((c) => {
      const cost = measure("ssh", [...sshArgs, c]);
      return cost;
    });
    return {
      wallMs: costs.reduce((s, c) => s + c.wallMs, 0),
      cpuMs: costs.reduce((s, c) => s + c.cpuMs, 0),
    };
  });
  rows.push(["user's four ssh commands", user]);

  console.log(
    `CLI start-up, median wall of ${RUNS} calls, mean local CPU (user+system, 10 ms ticks)`,
  );
  console.log("| command | wall | × node -e 0 | local CPU | × user's ssh CPU |");
  console.log("|---|---|---|---|---|");
  for (const [name, cost] of rows) {
    console.log(
      `| ${name} | ${cost.wallMs.toFixed(0)} ms | ${(cost.wallMs / bare.wallMs).toFixed(1)}× | ${cost.cpuMs.toFixed(0)} ms | ${(cost.cpuMs / user.cpuMs).toFixed(2)}× |`,
    );
  }
} finally {
  await sshd.stop();
  rmSync(root, { recursive: true, force: true });
}
