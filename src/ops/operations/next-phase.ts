import * as z from "zod";
import { applyConfigEdit, currentConfigAsPreviewed } from "../config-change.ts";
import type { Operation } from "../operation.ts";
import { OperationRefusedError } from "../operation-refused-error.ts";
import { phaseRefSchema, previewCommon } from "../preview-schema.ts";
import { editOrRefuse, nextPhaseIndex, readConfig } from "../previews.ts";
import { sbatchResourceArgs } from "../slurm-restart.ts";
import { diffLines } from "../yaml-edit.ts";

const schema = z.object({ kind: z.literal("next-phase"), ...previewCommon, phase: phaseRefSchema });

/** Starts the next phase of the run's plan: the keys it sets, before → after, risk and effect. */
export const nextPhaseOperation: Operation<typeof schema> = {
  kind: "next-phase",
  schema,
  async preview(ctx, run) {
    const plan = ctx.requirePlan(run);
    const index = nextPhaseIndex(ctx, run, plan);
    const phase = plan.phases[index - 1];
    if (!phase) throw new OperationRefusedError(`the plan has no phase ${index}`);
    const text = await readConfig(ctx, run);
    const edit = editOrRefuse(text, phase.set);
    return {
      run: run.name,
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
  },
  async apply(ctx, change) {
    const { run, preview } = change;
    const text = await currentConfigAsPreviewed(ctx, run, preview.changes);
    const plan = ctx.requirePlan(run);
    const index = nextPhaseIndex(ctx, run, plan);
    if (preview.phase.index !== index) {
      throw new OperationRefusedError(
        `the next phase is now ${index}, not ${preview.phase.index}; preview again`,
      );
    }
    const phase = plan.phases[index - 1];
    if (!phase) throw new OperationRefusedError(`the plan has no phase ${index}`);
    return applyConfigEdit(
      ctx,
      change,
      text,
      phase.set,
      { kind: "phase", phaseIndex: index, name: phase.name },
      phase.slurm,
    );
  },
};
