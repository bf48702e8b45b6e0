import { type Check, checkLines, verdictCheckLines } from "./criteria.ts";
import type { OpsContext } from "./ops-context.ts";
import type { PlanView } from "./run-operations.ts";
import { phaseLabel } from "./verdict-message.ts";

type Row = PlanView["phases"][number];

/**
 * The plan, where the run stands, and a results table like the plan's summary: step time per
 * phase, epoch time (step time × steps.perEpoch), total time (× epochs) and speedup: how
 * many times sooner the whole training ends than at the baseline, as the plan counts it
 * (26.7 days → 2.7-4 days is its "6-10x": an epoch is a fixed number of steps).
 */
export function buildPlanView(ctx: OpsContext, name: string): PlanView {
  const run = ctx.run(name);
  const plan = ctx.requirePlan(run);
  const keys = ctx.keys(run);
  const attempts = ctx.phases.list(name);
  const latestFor = (index: number) =>
    [...attempts].reverse().find((a) => a.phaseIndex === index && a.kind !== "manual") ?? null;
  const perEpoch = run.steps.perEpoch ?? null;
  const epochs = run.steps.epochs ?? null;
  const row = (index: number, label: string, risk: string, set: Record<string, unknown>): Row => {
    const a = latestFor(index);
    const step = (a?.result?.stepTimeSeconds as number | null | undefined) ?? null;
    const measured = a?.state === "passed" || a?.state === "failed" || a?.state === "evaluating";
    const stepTime = measured ? step : null;
    const epochTime = stepTime !== null && perEpoch !== null ? stepTime * perEpoch : null;
    return {
      index,
      name: label,
      risk,
      state: a ? a.state : "pending",
      workers:
        a?.workers ??
        (typeof set[keys.workers] === "number" ? (set[keys.workers] as number) : null),
      batch: a?.batch ?? (typeof set[keys.batch] === "number" ? (set[keys.batch] as number) : null),
      stepTimeSeconds: stepTime,
      epochTimeSeconds: epochTime,
      totalTimeSeconds: epochTime !== null && epochs !== null ? epochTime * epochs : null,
      speedup: null,
    };
  };
  const rows: Row[] = [row(0, "Baseline (current config)", "none", {})];
  plan.phases.forEach((phase, i) => {
    const r = row(
      i + 1,
      phase.name,
      `${phase.risk}${phase.optional ? " (optional)" : ""}`,
      phase.set,
    );
    // A phase that does not set a key keeps the previous phase's value.
    const prev = rows[rows.length - 1] as Row;
    r.workers ??= prev.workers;
    r.batch ??= prev.batch;
    rows.push(r);
  });
  const base = rows[0] as Row;
  for (const r of rows) {
    r.speedup =
      base.stepTimeSeconds !== null && r.stepTimeSeconds !== null && r.stepTimeSeconds > 0
        ? base.stepTimeSeconds / r.stepTimeSeconds
        : null;
  }
  const current = attempts[attempts.length - 1] ?? null;
  let state = current?.state ?? "";
  if (current?.rolledBackAt) state += ", rolled back";
  if (current?.paused && current.state !== "failed") state += ", waiting for a person";
  return {
    run: name,
    planName: plan.name,
    current: current
      ? {
          index: current.phaseIndex,
          name:
            current.kind === "baseline"
              ? "Phase 0: baseline (the config as found)"
              : `${phaseLabel(current)}: ${current.name}`,
          state,
        }
      : null,
    phases: rows,
    criteria: current?.result?.checks
      ? (current.state === "evaluating" || current.state === "warming"
          ? checkLines
          : verdictCheckLines)(current.result.checks as Check[])
      : [],
  };
}
