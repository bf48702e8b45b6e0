import { parseDuration } from "../core/duration.ts";
import type { PhaseAttempt } from "../store/phases-repo.ts";
import type { Plan } from "./plan-schema.ts";

/** The hold, warm-up and criteria that judge an attempt. */
export function phaseSpec(plan: Plan, attempt: PhaseAttempt) {
  if (attempt.kind === "baseline") {
    return {
      hold: { minSteps: plan.baseline.minSteps, maxSteps: plan.baseline.minSteps },
      warmupSteps: plan.baseline.warmupSteps,
      criteria: { noOom: false, noCrash: false },
      timeout: null,
    };
  }
  const phase = attempt.kind === "phase" ? plan.phases[attempt.phaseIndex - 1] : undefined;
  const spec = phase ?? plan.manual;
  return {
    hold: spec.hold,
    warmupSteps: spec.warmupSteps,
    criteria: spec.criteria,
    timeout: spec.hold.timeout ? parseDuration(spec.hold.timeout) : null,
  };
}

/** One line for people: how many steps judge the attempt, after how much warm-up, and what a failure does. */
export function judgingLine(plan: Plan, attempt: PhaseAttempt, autoRollback: boolean): string {
  const spec = phaseSpec(plan, attempt);
  const { minSteps, maxSteps } = spec.hold;
  const steps = minSteps === maxSteps ? `${minSteps}` : `${minSteps}-${maxSteps}`;
  const warmup = spec.warmupSteps > 0 ? ` after ${spec.warmupSteps} warm-up steps` : "";
  const onFailure = autoRollback
    ? "a failure rolls back to the last passed config by itself"
    : "a failure waits for /train rollback (autoRollback is off)";
  return `Judged over the next ${steps} steps${warmup}; the verdict is posted when known, and ${onFailure}.`;
}
