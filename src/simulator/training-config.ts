import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { TrainingSettings } from "./performance-model.ts";

/** Everything the simulator takes from the user's training YAML. */
export interface TrainingConfig extends TrainingSettings {
  stepsPerEpoch: number;
  epochs: number;
  checkpointEvery: number;
  logEvery: number;
  learningRate: number;
  /** The whole parsed document, logged as the script's configuration dict. */
  document: Record<string, unknown>;
}

/**
 * The YAML cannot be used. `pythonException` is the last line a Python script would print
 * (e.g. "ValueError: training.workers must be an integer >= 0, got 'two'").
 */
export class TrainingConfigError extends Error {
  constructor(readonly pythonException: string) {
    super(pythonException);
    this.name = "TrainingConfigError";
  }
}

/** Reads and checks the training YAML; the defaults are the user's current (baseline) run. */
export function readTrainingConfig(path: string): TrainingConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new TrainingConfigError(
      `FileNotFoundError: [Errno 2] No such file or directory: '${path}'`,
    );
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const first = (error as Error).message.split("\n")[0];
    throw new TrainingConfigError(`yaml.scanner.ScannerError: ${first}`);
  }
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new TrainingConfigError("TypeError: the config file must hold a mapping at the top");
  }
  const root = document as Record<string, unknown>;
  const training = section(root, "training");
  const logging = section(root, "logging");
  return {
    workers: integer(training, "training.workers", "workers", 1, 0),
    batchSize: integer(training, "training.train_batch_size", "train_batch_size", 1, 1),
    persistentWorkers: boolean(training, "training.persistent_workers", false),
    stepsPerEpoch: integer(training, "training.steps_per_epoch", "steps_per_epoch", 4000, 1),
    epochs: integer(training, "training.epochs", "epochs", 32, 1),
    checkpointEvery: integer(training, "training.checkpoint_every", "checkpoint_every", 500, 1),
    logEvery: integer(logging, "logging.log_every", "log_every", 1, 1),
    learningRate: number(training, "training.learning_rate", 0.005),
    document: root,
  };
}

function section(root: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = root[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new TrainingConfigError(`TypeError: '${key}' must be a mapping, got ${typeName(value)}`);
  }
  return value as Record<string, unknown>;
}

function integer(
  from: Record<string, unknown>,
  dotted: string,
  key: string,
  fallback: number,
  min: number,
): number {
  const value = from[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new TrainingConfigError(
      `ValueError: ${dotted} must be an integer >= ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function number(from: Record<string, unknown>, dotted: string, fallback: number): number {
  const value = from[dotted.split(".").pop()!];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TrainingConfigError(
      `ValueError: ${dotted} must be a number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function boolean(from: Record<string, unknown>, dotted: string, fallback: boolean): boolean {
  const value = from[dotted.split(".").pop()!];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") {
    throw new TrainingConfigError(
      `ValueError: ${dotted} must be true or false, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function typeName(value: unknown): string {
  return Array.isArray(value) ? "list" : typeof value === "string" ? "str" : typeof value;
}
