import type { OpsContext } from "./ops-context.ts";

/**
 * A stop ends the judging of the phase under way: with training stopped on purpose its steps
 * can neither pass nor fail it, and a "training stopped" failure would roll back and start
 * training again, undoing the stop. The attempt is closed as inconclusive and waits for a
 * person. Call it holding the run's change lock, once training is stopped.
 */
export function pausePhaseForStop(ctx: OpsContext, run: string, by: string): void {
  const current = ctx.phases.current(run);
  if (current?.state !== "warming" && current?.state !== "evaluating") return;
  ctx.phases.update(current.id, {
    state: "inconclusive",
    endedAt: ctx.clock.now(),
    paused: true,
    reason: `training stopped by ${by}; /train restart resumes it, then next-phase or rollback`,
  });
}
