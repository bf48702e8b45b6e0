import type { RunConfig, SlurmRunConfig } from "../config/schema.ts";

/**
 * How long the rules treat a stopped run as stopped on purpose: the crash and stall alerts stay
 * quiet this long (errors the process logs after the stop still alert).
 */
export const STOPPED_ON_PURPOSE_MS = 24 * 3_600_000;

/**
 * How a run's training was launched, which decides how it is stopped: a Slurm job (scancel), a
 * systemd unit (systemctl stop), or processes on a VM (signals). Slurm wins over a unit, as in a
 * restart.
 */
export type LaunchKind =
  | { kind: "slurm"; run: RunConfig & { slurm: SlurmRunConfig } }
  | { kind: "systemd"; unit: string }
  | { kind: "process" };

/** The run's launch kind, from its config. */
export function launchKind(run: RunConfig): LaunchKind {
  const slurm = run.slurm;
  if (slurm) return { kind: "slurm", run: { ...run, slurm } };
  if (run.restart.systemdUnit) return { kind: "systemd", unit: run.restart.systemdUnit };
  return { kind: "process" };
}

/** A stop's preview as each launch kind builds it (see the stop operation's schema). */
export interface StopPreviewDraft {
  run: string;
  kind: "stop";
  title: string;
  changes: never[];
  diff: never[];
  risk: string;
  restarts: false;
  /** The Slurm job the person confirms cancelling. */
  slurmJob?: string;
}

/** The preview's common part: title and no config change. */
export function stopDraft(run: string, risk: string): StopPreviewDraft {
  return {
    run,
    kind: "stop",
    title: `Stop training of ${run}`,
    changes: [],
    diff: [],
    risk,
    restarts: false,
  };
}
