import type { RunConfig } from "../config/schema.ts";
import type { PhaseAttempt } from "../store/phases-repo.ts";
import type { OpsContext } from "./ops-context.ts";
import type { Plan } from "./plan-schema.ts";
import { type ChangePreview, OperationRefusedError, SETTING_LIMITS } from "./run-operations.ts";
import { sbatchResourceArgs } from "./slurm-restart.ts";
import { phaseLabel } from "./verdict-message.ts";
import { diffLines, editYaml, readKeys, type ScalarValue } from "./yaml-edit.ts";

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

/** The preview of the next plan phase: the keys it sets, before → after, risk and effect. */
export async function previewNextPhase(ctx: OpsContext, name: string): Promise<ChangePreview> {
  const run = ctx.run(name);
  const plan = ctx.requirePlan(run);
  const index = nextPhaseIndex(ctx, run, plan);
  const phase = plan.phases[index - 1];
  if (!phase) throw new OperationRefusedError(`the plan has no phase ${index}`);
  const text = await readConfig(ctx, run);
  const edit = editOrRefuse(text, phase.set);
  return {
    run: name,
    kind: "next-phase",
    title: `Phase ${index}: ${phase.name}`,
    changes: edit.changes,
    diff: [
      ...diffLines(text, edit.text),
      // A Slurm run resubmits with the phase's resources: shown as the sbatch flags it adds.
      ...(run.slurm && phase.slurm
        ? [`Slurm resubmit: sbatch ${sbatchResourceArgs(phase.slurm).join(" ")}`]
        : []),
    ],
    risk: `${phase.risk}${phase.why ? `: ${phase.why}` : ""}`,
    expected: phase.expected,
    phase: { index, name: phase.name },
    restarts: true,
  };
}

/** The preview of a manual workers / batch change. */
export async function previewSet(
  ctx: OpsContext,
  name: string,
  values: { workers?: number; batch?: number },
): Promise<ChangePreview> {
  const run = ctx.run(name);
  const set = validatedSet(ctx, run, values);
  const text = await readConfig(ctx, run);
  const edit = editOrRefuse(text, set);
  if (edit.changes.length === 0) {
    throw new OperationRefusedError(
      `${name} already runs with ${describeValues(values)}; nothing to change`,
    );
  }
  return {
    run: name,
    kind: "set",
    title: `Set ${describeValues(values)}`,
    changes: edit.changes,
    diff: diffLines(text, edit.text),
    restarts: true,
  };
}

/** The preview of going back to the last passed config. */
export async function previewRollback(ctx: OpsContext, name: string): Promise<ChangePreview> {
  const run = ctx.run(name);
  const target = rollbackTarget(ctx, name);
  const text = await readConfig(ctx, run);
  if (text === target.configAfter) {
    throw new OperationRefusedError(
      `${name} already runs ${phaseLabel(target)}'s config (the last passed); nothing to roll back`,
    );
  }
  const keys = trackedKeys(ctx, run);
  const now = readKeys(text, keys);
  const then = readKeys(target.configAfter as string, keys);
  const changes = keys
    .filter((k) => JSON.stringify(now[k]) !== JSON.stringify(then[k]))
    .map((key) => ({ key, before: now[key] ?? null, after: then[key] ?? null }));
  return {
    run: name,
    kind: "rollback",
    title: `Roll back to ${phaseLabel(target)}${target.kind === "phase" ? `: ${target.name}` : ""}`,
    changes,
    diff: diffLines(text, target.configAfter as string),
    phase: { index: target.phaseIndex, name: target.name },
    restarts: true,
  };
}

/** The preview of a plain restart. */
export async function previewRestart(ctx: OpsContext, name: string): Promise<ChangePreview> {
  const run = ctx.run(name);
  if (!run.start && !run.restart.systemdUnit) {
    throw new OperationRefusedError(`run ${name} has no start: command; add one to trainops.yaml`);
  }
  return {
    run: name,
    kind: "restart",
    title: `Restart training of ${name}`,
    changes: [],
    diff: [],
    restarts: true,
  };
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

async function readConfig(ctx: OpsContext, run: RunConfig): Promise<string> {
  try {
    return await ctx.editor(run).read();
  } catch (error) {
    if (error instanceof OperationRefusedError) throw error;
    throw new OperationRefusedError(
      `cannot read ${run.name}'s training config: ${(error as Error).message}`,
    );
  }
}

function editOrRefuse(text: string, set: Record<string, ScalarValue>): ReturnType<typeof editYaml> {
  try {
    return editYaml(text, set);
  } catch (error) {
    throw new OperationRefusedError((error as Error).message);
  }
}

function describeValues(values: { workers?: number; batch?: number }): string {
  return [
    values.workers !== undefined ? `workers ${values.workers}` : null,
    values.batch !== undefined ? `batch ${values.batch}` : null,
  ]
    .filter(Boolean)
    .join(", ");
}
