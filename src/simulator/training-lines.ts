import { relative } from "node:path";
import { asctime, pythonRepr } from "./python-log.ts";
import type { TrainingConfig } from "./training-config.ts";

/**
 * The messages the simulated trainer logs, in the shape of the user's script: global
 * `Train step N/M` lines with the epoch, loss, learning rate and seconds per step, and
 * epoch summaries. Step times are simulated (uncompressed) seconds.
 */

/** Python's f"{x:.2e}": two-digit exponent. */
export function sci(value: number): string {
  const [mantissa, exponent = "0"] = value.toExponential(2).split("e");
  const sign = exponent.startsWith("-") ? "-" : "+";
  return `${mantissa}e${sign}${exponent.replace(/^[-+]/, "").padStart(2, "0")}`;
}

export function stepLine(p: {
  step: number;
  total: number;
  epoch: number;
  epochs: number;
  loss: number;
  lr: number;
  stepSeconds: number;
}): string {
  const loss = Number.isNaN(p.loss) ? "nan" : p.loss.toFixed(4);
  return (
    `Train step ${p.step}/${p.total} (epoch ${p.epoch}/${p.epochs}) - loss: ${loss} - ` +
    `lr: ${sci(p.lr)} - ${p.stepSeconds.toFixed(2)} s/step`
  );
}

export function headerLines(config: TrainingConfig, startedAt: Date): string[] {
  const rule = "=".repeat(80);
  // Local time, like the asctime of the records around it.
  const stamp = asctime(startedAt).slice(0, 19);
  return [
    rule,
    `Training started at: ${stamp}`,
    rule,
    `Configuration: ${pythonRepr(config.document)}`,
    "Using device: cuda (NVIDIA A100-SXM4-80GB)",
    `Train batches: ${config.stepsPerEpoch}, Val batches: ${Math.ceil(config.stepsPerEpoch / 4)}`,
    "Model parameters: 90,474,209",
    `DataLoader: num_workers=${config.workers}, batch_size=${config.batchSize}, ` +
      `persistent_workers=${config.persistentWorkers ? "True" : "False"}, pin_memory=True`,
  ];
}

/** A duration as a person writes it in a log: "20h 05m", "3m 12s". */
export function humanDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600)
    return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** A path as the script prints it: relative to the workdir when inside it. */
export function shownPath(workdir: string, path: string): string {
  const rel = relative(workdir, path);
  return rel.startsWith("..") ? path : rel;
}
