import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";

/** What a simulated checkpoint records: enough to resume at the right step. */
export interface Checkpoint {
  /** Last completed global step (1-based); training resumes at step + 1. */
  step: number;
  epoch: number;
  savedAt: string;
  workers: number;
  batchSize: number;
}

/** Reads a checkpoint; null when there is none (a fresh run). */
export function readCheckpoint(path: string): Checkpoint | null {
  if (!existsSync(path)) return null;
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Checkpoint;
    return Number.isInteger(value.step) && value.step >= 0 ? value : null;
  } catch {
    // A damaged checkpoint is treated like a missing one: the run starts over, as a script
    // that catches the load error would.
    return null;
  }
}

/** Saves a checkpoint atomically, so a kill mid-save leaves the previous one intact. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, `${JSON.stringify(checkpoint)}\n`);
}
