import type { RunConfig } from "../config/schema.ts";
import type { PhaseAttempt } from "../store/phases-repo.ts";
import { OperationRefusedError } from "./operation-refused-error.ts";
import type { OpsContext } from "./ops-context.ts";
import type { Plan } from "./plan-schema.ts";
import { SETTING_LIMITS } from "./run-operations.ts";
import { phaseLabel } from "./verdict-message.ts";
import { editYaml, type ScalarValue } from "./yaml-edit.ts";

/** Which plan phase `next-phase` would start, or why none. */
export function nextPhaseIndex(ctx: OpsContext, run: RunConfig, plan: Plan): number {
  const current = ctx.phases.current(run.name);
  if (!current) {
    throw new OperationRefusedError(
      `${run.name}'s baseline (phase 0) is not measured yet; trainops measures it from the current config over ${plan.baseline.minSteps} steps once polls come in`,
    );
  }
  if (
    current.state === "applying" ||
    current.state === "warming" ||
    current.state === "evaluating"
  ) {
    const progress = (current.result?.evalSteps as number | undefined) ?? 0;
    throw new OperationRefusedError(
      `${phaseLabel(current)} is still ${current.state} (${progress} steps judged); wait for its verdict or roll back`,
    );
  }
  const passed = ctx.phases.lastPassed(run.name);
  const index = (passed?.phaseIndex ?? 0) + 1;
  if (index > plan.phases.length) {
    throw new OperationRefusedError(
      `the plan is complete: all ${plan.phases.length} phases passed`,
    );
  }
  return index;
}

/** The last passed attempt with a config snapshot, or a refusal. */
export function rollbackTarget(ctx: OpsContext, run: string): PhaseAttempt {
  const target = ctx.phases.lastPassed(run);
  if (!target?.configAfter) {
    throw new OperationRefusedError(`nothing to roll back to: no phase of ${run} has passed yet`);
  }
  return target;
}

/** Keys the plan touches, to show a rollback's changes. */
export function trackedKeys(ctx: OpsContext, run: RunConfig): string[] {
  const keys = ctx.keys(run);
  const all = new Set<string>([keys.workers, keys.batch]);
  for (const phase of ctx.plan(run)?.phases ?? [])
    for (const key of Object.keys(phase.set)) all.add(key);
  return [...all];
}

/** Validates user-typed values (integers in sane bounds) and maps them to YAML keys. */
export function validatedSet(
  ctx: OpsContext,
  run: RunConfig,
  values: { workers?: number; batch?: number },
): Record<string, ScalarValue> {
  const keys = ctx.keys(run);
  const set: Record<string, ScalarValue> = {};
  for (const name of ["workers", "batch"] as const) {
    const value = values[name];
    if (value === undefined) continue;
    const { min, max } = SETTING_LIMITS[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new OperationRefusedError(
        `${name} must be an integer from ${min} to ${max}; got '${value}'`,
      );
    }
    set[keys[name]] = value;
  }
  if (Object.keys(set).length === 0) {
    throw new OperationRefusedError("nothing to set: give workers=<n> and/or batch=<n>");
  }
  return set;
}

/** The run's training config as it is now; a failure to read it is a refusal. */
export async function readConfig(ctx: OpsContext, run: RunConfig): Promise<string> {
  try {
    return await ctx.editor(run).read();
  } catch (error) {
    if (error instanceof OperationRefusedError) throw error;
    throw new OperationRefusedError(
      `cannot read ${run.name}'s training config: ${(error as Error).message}`,
    );
  }
}

/** The YAML edit, or a refusal naming the key it cannot make. */
export function editOrRefuse(
  text: string,
  set: Record<string, ScalarValue>,
): ReturnType<typeof editYaml> {
  try {
    return editYaml(text, set);
  } catch (error) {
    throw new OperationRefusedError((error as Error).message);
  }
}

/** "workers 4, batch 2". */
export function describeValues(values: { workers?: number; batch?: number }): string {
  return [
    values.workers !== undefined ? `workers ${values.workers}` : null,
    values.batch !== undefined ? `batch ${values.batch}` : null,
  ]
    .filter(Boolean)
    .join(", ");
}
