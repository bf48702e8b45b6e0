import { posix } from "node:path";
import type { RunConfig } from "../config/schema.ts";

/**
 * The absolute path of the run's log as the config names it, or null when the run leaves it to
 * Slurm (the job's StdOut, known once a probe has asked scontrol).
 */
export function configuredLogPath(run: RunConfig): string | null {
  if (run.log === undefined) return null;
  return posix.isAbsolute(run.log) ? run.log : posix.join(run.workdir, run.log);
}
