import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { WORKER_COMM } from "./data-workers.ts";
import {
  type FakeNvidiaSmiMode,
  installFakeNvidiaSmi,
  setFakeNvidiaSmiMode,
  shellSingleQuoted,
} from "./fake-nvidia-smi.ts";
import { findProcesses, signalProcess } from "./process-table.ts";

/** How to lay out and run a simulated GPU VM. All optional but `root`. */
export interface SimulatedVmOptions {
  /** Folder that holds the whole VM (created if missing). */
  root: string;
  /** Simulated seconds per real second (default 100: an 18 s step takes 0.18 s). */
  timeScale?: number;
  /** trainops checkout providing src/simulator and node_modules/tsx (default: this one). */
  repoRoot?: string;
  /** Initial training YAML values (default: the user's baseline, 1 worker, batch 1). */
  workers?: number;
  batchSize?: number;
  persistentWorkers?: boolean;
  stepsPerEpoch?: number;
  epochs?: number;
  checkpointEvery?: number;
  /** Simulator flags baked into start.sh (defaults: 80 GiB, 100 GiB, 40 s, 3 steps). */
  vramLimitGiB?: number;
  ramLimitGiB?: number;
  startupSeconds?: number;
  failAfterSteps?: number;
  workerMemoryMiB?: number;
  seed?: number;
  /** The loss is NaN from this step on (the NaN alert and its stop). */
  nanAtStep?: number;
}

/** A laid-out VM: paths for a trainops run config, and control of the simulated job. */
export interface SimulatedVm {
  root: string;
  /** The run's workdir (config `workdir`). */
  workdir: string;
  /** Log and training YAML, relative to workdir (config `log`, `trainConfig`). */
  log: string;
  trainConfig: string;
  /** The same, absolute. */
  logPath: string;
  trainConfigPath: string;
  checkpointPath: string;
  /** The fake nvidia-smi (config `nvidiaSmi`). */
  nvidiaSmiPath: string;
  /** Shell command that starts training detached and returns at once (config `start`). */
  startCommand: string;
  /** Where the simulator publishes GPU state (and sim.json). */
  stateDir: string;
  /** Runs startCommand and waits until the trainer process exists; resolves to its pid. */
  start(extraArgs?: string[]): Promise<number>;
  /** SIGTERM, then after `graceMs` SIGKILL, every simulator process of this VM; waits. */
  stop(graceMs?: number): Promise<void>;
  /** Whether a trainer process of this VM is alive. */
  isRunning(): boolean;
  /** Pid of the live trainer, or null. */
  trainerPid(): number | null;
  /** Pids of live data-loader workers. */
  workerPids(): number[];
  /** Flags start.sh appends on every later start (e.g. ["--crash-at-step", "40"]). */
  setExtraArgs(args: string[]): void;
  setNvidiaSmiMode(mode: FakeNvidiaSmiMode): void;
  readLog(): string;
}

const LOG = "runs/exp001_full/logs/train_full.log";
const TRAIN_CONFIG = "configs/experiments/exp001_full.yaml";
const CHECKPOINT = "runs/exp001_full/checkpoints/last.json";
const EXTRA_ARGS_FILE = "extra-args";
const here = fileURLToPath(new URL(".", import.meta.url));

/** Lays out a VM workdir under `root` like the user's, ready to start. */
export async function createSimulatedVm(options: SimulatedVmOptions): Promise<SimulatedVm> {
  const root = resolve(options.root);
  const workdir = join(root, "vesuvius_challenge");
  const stateDir = join(root, "sim-state");
  const simulatorDir = options.repoRoot ? join(options.repoRoot, "src/simulator") : here;
  const tsx = options.repoRoot
    ? pathToFileURL(join(options.repoRoot, "node_modules/tsx/dist/loader.mjs")).href
    : import.meta.resolve("tsx");
  for (const dir of ["bin", "configs/experiments", "runs/exp001_full/logs", "vesuvius"]) {
    mkdirSync(join(workdir, dir), { recursive: true });
  }
  mkdirSync(stateDir, { recursive: true });
  // `train.py` and `bin/python` are links, so `ps` shows `python … train.py` as on the VM.
  const trainPy = join(workdir, "train.py");
  const python = join(workdir, "bin/python");
  if (!existsSync(trainPy)) symlinkSync(join(simulatorDir, "main.ts"), trainPy);
  if (!existsSync(python)) symlinkSync(process.execPath, python);
  const nvidiaSmiPath = join(workdir, "bin/nvidia-smi");
  installFakeNvidiaSmi(nvidiaSmiPath, stateDir);
  const trainConfigPath = join(workdir, TRAIN_CONFIG);
  writeFileSync(trainConfigPath, trainingYaml(options));
  const logPath = join(workdir, LOG);
  if (!existsSync(logPath)) writeFileSync(logPath, "");

  const flags = [
    ["--time-scale", options.timeScale ?? 100],
    ["--vram-limit-gib", options.vramLimitGiB],
    ["--ram-limit-gib", options.ramLimitGiB],
    ["--startup-seconds", options.startupSeconds],
    ["--fail-after-steps", options.failAfterSteps],
    ["--worker-memory-mib", options.workerMemoryMiB],
    ["--seed", options.seed],
    ["--nan-at-step", options.nanAtStep],
  ].flatMap(([flag, value]) => (value === undefined ? [] : [`${flag} ${value}`]));
  const q = shellSingleQuoted;
  const startScript = [
    "#!/bin/sh",
    "# Starts training in the background, detached from this shell (the SSH session can end),",
    "# resuming from the last checkpoint. Everything it prints goes to the log.",
    "# Extra flags: this script's arguments, then one per line from the state dir's extra-args.",
    `cd ${q(workdir)} || exit 1`,
    `if [ -r ${q(join(stateDir, EXTRA_ARGS_FILE))} ]; then`,
    "  while IFS= read -r arg; do",
    '    [ -n "$arg" ] && set -- "$@" "$arg"',
    `  done < ${q(join(stateDir, EXTRA_ARGS_FILE))}`,
    "fi",
    `mkdir -p ${q(join(workdir, "runs/exp001_full/logs"))}`,
    `setsid nohup ${q(python)} --import ${q(tsx)} ${q(trainPy)} \\`,
    `  --workdir ${q(workdir)} --config ${TRAIN_CONFIG} --log ${LOG} --state-dir ${q(stateDir)} \\`,
    `  ${flags.join(" ")} "$@" >> ${LOG} 2>&1 < /dev/null &`,
    `echo "train.py started in the background (log: ${LOG})"`,
    "",
  ].join("\n");
  const startPath = join(workdir, "start.sh");
  writeFileSync(startPath, startScript, { mode: 0o755 });

  const trainers = () => findProcesses(trainPy).filter((p) => p.comm !== WORKER_COMM);
  const vm: SimulatedVm = {
    root,
    workdir,
    log: LOG,
    trainConfig: TRAIN_CONFIG,
    logPath,
    trainConfigPath,
    checkpointPath: join(workdir, CHECKPOINT),
    nvidiaSmiPath,
    startCommand: `sh ${q(startPath)}`,
    stateDir,
    async start(extraArgs = []) {
      await promisify(execFile)("sh", [startPath, ...extraArgs], { timeout: 10_000 });
      const deadline = Date.now() + 10_000;
      for (;;) {
        // Wait for the end of the exec chain (sh, setsid, nohup, then the interpreter): while a
        // process execs, its /proc cmdline can read empty, and a caller checking isRunning()
        // right after start() would see a live job as gone.
        const pid = trainers().find((p) => p.comm === "python")?.pid ?? null;
        if (pid !== null) return pid;
        if (Date.now() > deadline)
          throw new Error(`start.sh ran but no train.py process appeared; see ${logPath}`);
        await delay(25);
      }
    },
    async stop(graceMs = 3000) {
      for (const p of trainers()) signalProcess(p.pid, "SIGTERM");
      const graceEnd = Date.now() + graceMs;
      while (trainers().length > 0 && Date.now() < graceEnd) await delay(25);
      const hardEnd = Date.now() + 5000;
      for (;;) {
        const left = findProcesses(trainPy);
        if (left.length === 0) return;
        if (Date.now() > hardEnd) {
          throw new Error(
            `processes of ${workdir} survived SIGKILL: ${left.map((p) => p.pid).join(", ")}`,
          );
        }
        for (const p of left) signalProcess(p.pid, "SIGKILL");
        await delay(25);
      }
    },
    isRunning: () => trainers().length > 0,
    trainerPid: () => trainers()[0]?.pid ?? null,
    workerPids: () =>
      findProcesses(trainPy)
        .filter((p) => p.comm === WORKER_COMM)
        .map((p) => p.pid),
    setExtraArgs(args) {
      const file = join(stateDir, EXTRA_ARGS_FILE);
      if (args.length === 0) rmSync(file, { force: true });
      else writeFileSync(file, `${args.join("\n")}\n`);
    },
    setNvidiaSmiMode: (mode) => setFakeNvidiaSmiMode(stateDir, mode),
    readLog: () => readFileSync(logPath, "utf8"),
  };
  return vm;
}

/** The commented experiment YAML with this VM's values; comments stay in their column. */
function trainingYaml(options: SimulatedVmOptions): string {
  const values: Record<string, string | number | boolean | undefined> = {
    epochs: options.epochs,
    steps_per_epoch: options.stepsPerEpoch,
    train_batch_size: options.batchSize,
    workers: options.workers,
    persistent_workers: options.persistentWorkers,
    checkpoint_every: options.checkpointEvery,
  };
  const template = readFileSync(new URL("./assets/exp001_full.yaml", import.meta.url), "utf8");
  // Only the two-space-indented keys of the training section carry these names.
  return template.replace(
    /^( {2}([a-z_]+): )(\S+)( *)(#.*)?$/gm,
    (line, head: string, key: string, old: string, pad: string, comment?: string) => {
      const value = values[key];
      if (value === undefined) return line;
      if (comment === undefined) return `${head}${value}`;
      const width = head.length + old.length + pad.length;
      return `${`${head}${value}`.padEnd(width - 1)} ${comment}`;
    },
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
