import type { AlertHarness } from "./alert-fixture.ts";
import { MIN, sample } from "./alert-fixture.ts";

/** One sample at the clock's time with the GPU at `util`% and training moving. */
export function gpuMinute(h: AlertHarness, util: number, run = "exp001"): void {
  h.samples.insert(
    sample(h.clock.now(), {
      run,
      step: 500 + (Math.round(h.clock.now() / MIN) % 1000),
      gpus: [{ ...sample(0).gpus[0]!, utilizationPercent: util }],
    }),
  );
}

/**
 * Drives `gpu_idle` (set to `for: 2m`) through firing and, with `resolve`, back: one sample and
 * one evaluation per minute. Returns after the notification was queued; deliver it yourself.
 */
export function idleFor(h: AlertHarness, minutes: number, util: number, run = "exp001"): void {
  for (let i = 0; i < minutes; i++) {
    gpuMinute(h, util, run);
    h.alerting.evaluate(run);
    h.clock.advance(MIN);
  }
}
