import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** Knobs of one simulated run. Training settings come from the YAML; these never do. */
export interface SimulatorOptions {
  /** The run's working directory (absolute). */
  workdir: string;
  /** Training YAML, relative to workdir (or absolute). */
  config: string;
  /** Log file, relative to workdir (or absolute); null writes to stdout. */
  log: string | null;
  /** Where the fake nvidia-smi reads GPU state; null writes none. */
  stateDir: string | null;
  /** Simulated seconds per real second: 100 makes an 18 s step take 0.18 s. */
  timeScale: number;
  seed: number;
  /** GPU memory limit in GiB (an A100 80GB); above it the job dies of CUDA OOM. */
  vramLimitGiB: number;
  /** Host memory limit in GiB; above it the kernel kills a data-loader worker. */
  ramLimitGiB: number;
  /** Override the YAML's training.steps_per_epoch / training.epochs. */
  stepsPerEpoch: number | null;
  epochs: number | null;
  /** Checkpoint file, relative to workdir; default: checkpoints/ beside the log's folder. */
  checkpoint: string;
  /** Steps run after a start before a configuration over a limit fails. */
  failAfterSteps: number;
  /** Real memory each worker process holds, MiB (the model's 7 GiB, scaled down). */
  workerMemoryMiB: number;
  /** Simulated seconds of model loading before the first step. */
  startupSeconds: number;
  /** Forced faults: a generic traceback, NaN loss from, or silence from that step on. */
  crashAtStep: number | null;
  nanAtStep: number | null;
  stallAtStep: number | null;
  /** Report 0 % GPU utilisation whatever the configuration. */
  gpuIdle: boolean;
  /** Hold at each epoch start until told to go on (epoch-gate.ts); null never holds. */
  epochGate: string | null;
}

/** A command-line flag was missing or malformed. */
export class SimulatorUsageError extends Error {
  override name = "SimulatorUsageError";
}

const FLAGS = {
  workdir: { type: "string" },
  config: { type: "string" },
  log: { type: "string" },
  "state-dir": { type: "string" },
  "time-scale": { type: "string" },
  seed: { type: "string" },
  "vram-limit-gib": { type: "string" },
  "ram-limit-gib": { type: "string" },
  "steps-per-epoch": { type: "string" },
  epochs: { type: "string" },
  checkpoint: { type: "string" },
  "fail-after-steps": { type: "string" },
  "worker-memory-mib": { type: "string" },
  "startup-seconds": { type: "string" },
  "crash-at-step": { type: "string" },
  "nan-at-step": { type: "string" },
  "stall-at-step": { type: "string" },
  "gpu-idle": { type: "boolean" },
  "epoch-gate": { type: "string" },
} as const;

/** Parses the simulator's command line (everything after the script path). */
export function parseSimulatorArgs(args: string[], cwd = process.cwd()): SimulatorOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new SimulatorUsageError(
      `${(error as Error).message}; flags: --${Object.keys(FLAGS).join(", --")}`,
    );
  }
  const str = (key: string) => values[key] as string | undefined;
  const num = (key: string, fallback: number, min: number): number => {
    const raw = str(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) {
      throw new SimulatorUsageError(`--${key} must be a number >= ${min}, got '${raw}'`);
    }
    return value;
  };
  const positive = (key: string, value: number): number => {
    if (value <= 0)
      throw new SimulatorUsageError(`--${key} must be greater than 0, got '${str(key)}'`);
    return value;
  };
  const optionalInt = (key: string): number | null => {
    if (str(key) === undefined) return null;
    const value = num(key, 0, 1);
    if (!Number.isInteger(value)) throw new SimulatorUsageError(`--${key} must be an integer`);
    return value;
  };
  const config = str("config");
  if (config === undefined) {
    throw new SimulatorUsageError("--config is required: the training YAML, relative to --workdir");
  }
  const workdir = resolve(cwd, str("workdir") ?? ".");
  const log = str("log") ?? null;
  const stateDir = str("state-dir");
  const epochGate = str("epoch-gate");
  return {
    workdir,
    config,
    log,
    stateDir: stateDir === undefined ? null : resolve(workdir, stateDir),
    timeScale: positive("time-scale", num("time-scale", 1, 0)),
    seed: num("seed", 1, 0),
    vramLimitGiB: num("vram-limit-gib", 80, 1),
    ramLimitGiB: num("ram-limit-gib", 100, 1),
    stepsPerEpoch: optionalInt("steps-per-epoch"),
    epochs: optionalInt("epochs"),
    checkpoint: str("checkpoint") ?? defaultCheckpoint(log),
    failAfterSteps: num("fail-after-steps", 3, 1),
    workerMemoryMiB: num("worker-memory-mib", 16, 0),
    startupSeconds: num("startup-seconds", 40, 0),
    crashAtStep: optionalInt("crash-at-step"),
    nanAtStep: optionalInt("nan-at-step"),
    stallAtStep: optionalInt("stall-at-step"),
    gpuIdle: values["gpu-idle"] === true,
    epochGate: epochGate === undefined ? null : resolve(workdir, epochGate),
  };
}

/** `runs/x/logs/train.log` → `runs/x/checkpoints/last.json`, as the user's layout keeps them. */
function defaultCheckpoint(log: string | null): string {
  if (log === null) return "checkpoints/last.json";
  const logDir = dirname(log);
  const runDir = logDir.endsWith("logs") ? dirname(logDir) : logDir;
  return join(runDir, "checkpoints", "last.json");
}

/** Resolves a workdir-relative path. */
export function inWorkdir(workdir: string, path: string): string {
  return isAbsolute(path) ? path : join(workdir, path);
}

/** The simulator's entry script. */
export const SIMULATOR_MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/** What to run the simulator with. Flags are passed verbatim: see `SimulatorOptions`. */
export interface SimulatorCommand {
  /** Executable: a `python` link to node in the VM layout, or node itself. */
  executable?: string;
  /**
   * The script path node runs. Give a `train.py` symlink to main.ts so the command line
   * contains `train.py` as the user's does (node follows the link to load the module).
   */
  entry?: string;
  workdir: string;
  config: string;
  log?: string;
  stateDir?: string;
  timeScale?: number;
  /** More flags, e.g. ["--vram-limit-gib", "40"]. */
  extraArgs?: string[];
}

/** Builds `node --import tsx <entry> --workdir … --config …` as an argv array. */
export function buildSimulatorCommand(command: SimulatorCommand): string[] {
  const argv = [
    command.executable ?? process.execPath,
    "--import",
    import.meta.resolve("tsx"),
    command.entry ?? SIMULATOR_MAIN,
    "--workdir",
    command.workdir,
    "--config",
    command.config,
  ];
  if (command.log !== undefined) argv.push("--log", command.log);
  if (command.stateDir !== undefined) argv.push("--state-dir", command.stateDir);
  if (command.timeScale !== undefined) argv.push("--time-scale", String(command.timeScale));
  argv.push(...(command.extraArgs ?? []));
  return argv;
}
