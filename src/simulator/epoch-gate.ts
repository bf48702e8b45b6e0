import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";

/** What the trainer reports at the start of each epoch while it holds there. */
export interface EpochReady {
  epoch: number;
  /** The data-loader workers that serve this epoch (alive while the trainer holds). */
  workerPids: number[];
}

/** `epoch-N.ready`: the trainer holds at the start of epoch N (JSON {@link EpochReady}). */
export function epochReadyFile(dir: string, epoch: number): string {
  return join(dir, `epoch-${epoch}.ready`);
}

/** `epoch-N.go`: whoever watches the run lets the trainer go on with epoch N. */
export function epochGoFile(dir: string, epoch: number): string {
  return join(dir, `epoch-${epoch}.go`);
}

/** How often a holding trainer looks for its go file (real milliseconds). */
const GO_CHECK_MS = 10;

/**
 * A handshake at each epoch start (`--epoch-gate DIR`): the trainer writes `epoch-N.ready`
 * with the epoch's worker pids and waits for `epoch-N.go`. Whoever watches the run (a test)
 * sees every epoch's state for as long as it needs, however late it looks, instead of
 * sampling a run that moves on by the clock.
 */
export class EpochGate {
  private release: ((passed: boolean) => void) | null = null;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Reports the epoch and waits for its go file; false when interrupt() cut the wait short. */
  hold(ready: EpochReady): Promise<boolean> {
    writeFileAtomic(epochReadyFile(this.dir, ready.epoch), `${JSON.stringify(ready)}\n`);
    const go = epochGoFile(this.dir, ready.epoch);
    return new Promise((resolve) => {
      const done = (passed: boolean) => {
        clearInterval(timer);
        this.release = null;
        resolve(passed);
      };
      const timer = setInterval(() => {
        if (existsSync(go)) done(true);
      }, GO_CHECK_MS);
      this.release = done;
    });
  }

  /** Ends the current hold, if any, with `false` (a stop signal, a dead worker). */
  interrupt(): void {
    this.release?.(false);
  }
}
