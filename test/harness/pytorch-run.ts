import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { type Config, configSchema, type RunConfig } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { listRunProcesses } from "../../src/monitors/run-process-list.ts";
import { startTraining } from "../../src/ops/restart.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { createTransport } from "../../src/transport/create-transport.ts";
import { RunRemote } from "../../src/transport/run-remote.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { signalPid } from "./process-stop.ts";
import { type SshdHarness, type SshdOptions, startSshd } from "./sshd.ts";
import { waitUntil } from "./wait.ts";

/** The real PyTorch training script the tests run (torch from Debian's python3-torch). */
export const TRAIN_PY = fileURLToPath(new URL("../fixtures/pytorch/train.py", import.meta.url));

/** The interpreter that imports Debian's torch; another python3 earlier on PATH may not. */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/**
 * A stand-in `train.py` without PyTorch: it forks two workers that end when their parent does,
 * prints `training` once they run (a readiness line for whoever reads its output), then idles.
 */
export const STAND_IN_TRAIN_PY = `import os, sys, time
parent = os.getpid()
for _ in range(2):
    if os.fork() == 0:
        while os.getppid() == parent:
            time.sleep(0.2)
        sys.exit(0)
print("training", flush=True)
while True:
    time.sleep(1)
`;

/** Options of {@link startPytorchRun}. */
export interface PytorchRunOptions {
  /** Prefix of the temp directory (workdir, store, config). */
  prefix: string;
  /** How train.py prints progress (its --style). */
  style: "tutorial" | "logging";
  workers?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Seconds train.py pauses per step, so a test can act while it runs. */
  stepSleep?: number;
  /** train.py's --nan-at-step. */
  nanAtStep?: number;
  sshd?: SshdOptions;
}

/** A real PyTorch job's workdir on "the VM" behind a real sshd, and a trainops config for it. */
export interface PytorchRun {
  root: string;
  workdir: string;
  sshd: SshdHarness;
  /** The YAML trainops writes and train.py reads. */
  trainConfigPath: string;
  logPath: string;
  /** A `runs:` entry (name `torch`, steps.format auto, process `train.py`), `extra` merged in. */
  runEntry(extra?: Record<string, unknown>): Record<string, unknown>;
  /** A parsed config with that one run and a store in the temp dir; written to trainops.yaml. */
  config(extra?: Record<string, unknown>): { config: Config; path: string };
  /** Starts train.py detached, as `trainops restart` does (its pid and start time recorded). */
  start(config: Config): Promise<void>;
  /** Opens the store, an SSH transport and a RunMonitor for the config's run. */
  attach(config: Config): { run: RunConfig; db: Db; transport: Transport; monitor: RunMonitor };
  readLog(): string;
  /** Resolves once the log holds `count` lines that match `pattern`. */
  waitForLines(pattern: RegExp, count: number, timeoutMs?: number): Promise<void>;
  /** SIGKILLs the run's own processes, closes what was attached, stops sshd, removes the dir. */
  stop(): Promise<void>;
}

/** Creates a workdir with a training YAML for train.py, behind a fresh sshd. */
export async function startPytorchRun(options: PytorchRunOptions): Promise<PytorchRun> {
  const sshd = await startSshd(options.sshd);
  const root = mkdtempSync(join(tmpdir(), options.prefix));
  chmodSync(root, 0o755);
  const workdir = join(root, "work");
  const trainConfigPath = join(workdir, "train.yaml");
  const logPath = join(workdir, "train.log");
  mkdirSync(workdir);
  writeFileSync(
    trainConfigPath,
    [
      "# A small real PyTorch run.",
      "training:",
      `  workers: ${options.workers ?? 2}            # DataLoader num_workers`,
      "  train_batch_size: 8    # samples per step",
      `  epochs: ${options.epochs ?? 3}`,
      `  steps_per_epoch: ${options.stepsPerEpoch ?? 40}`,
      "",
    ].join("\n"),
  );
  writeFileSync(logPath, "");
  const flags = [
    `--style ${options.style}`,
    `--step-sleep ${options.stepSleep ?? 0.1}`,
    options.nanAtStep ? `--nan-at-step ${options.nanAtStep}` : "",
  ].join(" ");
  const attached: Array<{ db: Db; transport: Transport }> = [];
  const configs: Config[] = [];

  const runEntry = (extra: Record<string, unknown> = {}) => ({
    name: "torch",
    ssh: sshd.runConfigSsh(),
    workdir,
    log: "train.log",
    trainConfig: "train.yaml",
    nvidiaSmi: "",
    // The bare script name, as a user writes it: other train.py jobs on this host are not ours.
    process: "train.py",
    start: `exec ${SYSTEM_PYTHON} ${TRAIN_PY} --config train.yaml ${flags} >> train.log 2>&1`,
    steps: { format: "auto" },
    follow: false,
    backfillBytes: 65536,
    restart: { interruptTimeout: "15s", terminateTimeout: "5s", confirmTimeout: "60s" },
    ...extra,
  });

  const run: PytorchRun = {
    root,
    workdir,
    sshd,
    trainConfigPath,
    logPath,
    runEntry,
    config: (extra = {}) => {
      const doc = {
        store: join(root, "trainops.db"),
        runs: [runEntry(extra)],
        alerts: { console: false },
      };
      const path = join(root, "trainops.yaml");
      writeFileSync(path, stringify(doc));
      const config = configSchema.parse(doc);
      configs.push(config);
      return { config, path };
    },
    start: async (config) => {
      const runConfig = config.runs[0] as RunConfig;
      const transport = createTransport(runConfig);
      try {
        await startTraining({
          remote: new RunRemote(runConfig, transport, systemClock),
          clock: systemClock,
        });
      } finally {
        await transport.close();
      }
    },
    attach: (config) => {
      const runConfig = config.runs[0] as RunConfig;
      const db = openDatabase(config.store);
      const transport = createTransport(runConfig);
      const monitor = new RunMonitor({
        run: runConfig,
        transport,
        store: createMonitorStore(db),
        clock: systemClock,
      });
      attached.push({ db, transport });
      return { run: runConfig, db, transport, monitor };
    },
    readLog: () => readFileSync(logPath, "utf8"),
    waitForLines: async (pattern, count, timeoutMs = 60_000) => {
      await waitUntil(
        () =>
          run
            .readLog()
            .split("\n")
            .filter((l) => pattern.test(l)).length >= count,
        {
          timeoutMs,
          intervalMs: 100,
          what: `${count} log lines matching ${pattern}`,
        },
      );
    },
    stop: async () => {
      // Only this run's processes: listed the way trainops lists them (this workdir, this user).
      for (const config of configs.slice(0, 1)) {
        const runConfig = config.runs[0] as RunConfig;
        const transport = createTransport(runConfig);
        try {
          const { tree } = await listRunProcesses(transport, runConfig);
          for (const p of tree) signalPid(p.pid, "SIGKILL");
        } catch {
          // sshd may be gone already; nothing of ours can be listed then.
        } finally {
          await transport.close();
        }
      }
      for (const { db, transport } of attached.splice(0)) {
        await transport.close();
        db.close();
      }
      await sshd.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return run;
}
