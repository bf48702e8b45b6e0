import type { RunConfig } from "../config/schema.ts";
import { remainingSteps, trainingProgress } from "../model/training-progress.ts";
import type { PhaseAttempt } from "../store/phases-repo.ts";
import type { Check, PhaseMeasure, Reference } from "./criteria.ts";
import type { OpsContext } from "./ops-context.ts";
import type { phaseSpec } from "./phase-spec.ts";
import type { Plan } from "./plan-schema.ts";
import { nextLabel, phaseLabel, verdictMessage } from "./verdict-message.ts";

/** What a judgement found, recorded and announced by {@link recordVerdict}. */
export interface VerdictFacts {
  verdict: "passed" | "failed" | "inconclusive";
  reason: string;
  measure: PhaseMeasure;
  spec: ReturnType<typeof phaseSpec>;
  reference: Reference | null;
  checks: Check[];
  willRollBack: boolean;
  /** The phase that would come next (after a pass, or after rolling back). */
  nextIndex: number;
}

/**
 * Ends an attempt with its verdict and queues the notice that announces it, with a chart of
 * the phase and as long again before it (the change shows against what it replaced; the
 * judged phase gets most of the width). Run it
 * inside the store's transaction, so the two land together; returns the updated attempt.
 */
export function recordVerdict(
  ctx: OpsContext,
  run: RunConfig,
  plan: Plan,
  attempt: PhaseAttempt,
  now: number,
  facts: VerdictFacts,
): PhaseAttempt {
  const { verdict, willRollBack } = facts;
  ctx.phases.update(attempt.id, {
    state: verdict,
    endedAt: now,
    reason: facts.reason,
    result: { ...facts.measure, checks: facts.checks },
    paused:
      verdict === "inconclusive" ||
      (verdict === "passed" && !run.autoAdvance) ||
      (verdict === "failed" && !willRollBack),
  });
  const updated = ctx.phases.get(attempt.id) as PhaseAttempt;
  const nextPhase = plan.phases[facts.nextIndex - 1];
  const latest = ctx.samples.latest(run.name);
  const left = latest ? remainingSteps(trainingProgress(run, latest)) : null;
  const message = verdictMessage({
    run: run.name,
    attempt: updated,
    verdict,
    reason: facts.reason,
    measure: facts.measure,
    criteria: attempt.kind === "baseline" ? null : facts.spec.criteria,
    reference: facts.reference,
    checks: facts.checks,
    next: nextPhase ? nextLabel(facts.nextIndex, nextPhase, ctx.keys(run)) : null,
    autoAdvance: run.autoAdvance,
    ...(left !== null ? { finish: { remainingSteps: left, cost: run.cost } } : {}),
    ...(willRollBack
      ? { afterward: "Rolling back to the last passed config and restarting." }
      : {}),
  });
  const chart = {
    run: run.name,
    from: attempt.startedAt - Math.max(now - attempt.startedAt, 60_000),
    to: now + 1,
    name: `${run.name}-${chartLabel(attempt)}-${verdict}.png`,
    title: `${run.name}: ${phaseLabel(attempt)} ${verdict}`,
    // What was judged: from the end of the warm-up, where the phase's marker stands.
    focusFrom: attempt.measureFrom ?? attempt.startedAt,
  };
  ctx.notify(
    run.name,
    { ...message, charts: [chart] },
    `phase:${run.name}:${attempt.id}:${verdict}`,
  );
  return updated;
}

/** "baseline", "phase3" or "change": the attempt in a chart's file name. */
function chartLabel(attempt: PhaseAttempt): string {
  if (attempt.kind === "baseline") return "baseline";
  return attempt.kind === "manual" ? "change" : `phase${attempt.phaseIndex}`;
}
