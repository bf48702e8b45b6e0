import type { Logger } from "pino";
import type { Clock } from "../core/clock.ts";
import type { PhaseEngine } from "../ops/phase-engine.ts";

/** Runs the phase engine after polls: one tick per run at a time, in the background. */
export interface EngineTicker {
  /** Starts a tick of `run` unless one is still going (a restart can take minutes). */
  tick(run: string): void;
  /** Waits for ticks in progress, at most `maxMs`: a restart is persisted and resumed later. */
  settle(maxMs: number): Promise<void>;
}

/**
 * Polls of a run go on while its engine restarts training; ticks of one run never overlap, and
 * a failing tick is logged, not thrown into the poll loop.
 */
export function createEngineTicker(engine: PhaseEngine, clock: Clock, log: Logger): EngineTicker {
  const ticking = new Map<string, Promise<void>>();
  return {
    tick(run) {
      if (ticking.has(run)) return;
      const job = engine
        .tick(run, clock.now())
        .then(
          () => undefined,
          (error: unknown) => log.error({ run, err: error }, "phase engine failed"),
        )
        .finally(() => ticking.delete(run));
      ticking.set(run, job);
    },
    settle(maxMs) {
      return Promise.race([
        Promise.allSettled([...ticking.values()]).then(() => undefined),
        new Promise<void>((done) => setTimeout(done, maxMs).unref()),
      ]);
    },
  };
}
