import * as z from "zod";
import type { RunConfig } from "../../config/schema.ts";
import { applyConfigEdit, currentConfigAsPreviewed } from "../config-change.ts";
import type { Operation } from "../operation.ts";
import { OperationRefusedError } from "../operation-refused-error.ts";
import type { OpsContext } from "../ops-context.ts";
import { previewCommon } from "../preview-schema.ts";
import { describeValues, editOrRefuse, readConfig, validatedSet } from "../previews.ts";
import type { ConfigChange } from "../run-operations.ts";
import { diffLines, type ScalarValue } from "../yaml-edit.ts";

const schema = z.object({ kind: z.literal("set"), ...previewCommon });

/** A person's change of data-loader workers and/or batch size, outside the plan. */
export const setOperation: Operation<typeof schema> = {
  kind: "set",
  schema,
  async preview(ctx, run, values) {
    const set = validatedSet(ctx, run, values);
    const text = await readConfig(ctx, run);
    const edit = editOrRefuse(text, set);
    if (edit.changes.length === 0) {
      throw new OperationRefusedError(
        `${run.name} already runs with ${describeValues(values)}; nothing to change`,
      );
    }
    return {
      run: run.name,
      kind: "set",
      title: `Set ${describeValues(values)}`,
      changes: edit.changes,
      diff: diffLines(text, edit.text),
      restarts: true,
    };
  },
  async apply(ctx, change) {
    const { run, preview } = change;
    const text = await currentConfigAsPreviewed(ctx, run, preview.changes);
    const set = setFromChanges(ctx, run, preview.changes);
    const base = ctx.phases.lastPassed(run.name);
    return applyConfigEdit(ctx, change, text, set, {
      kind: "manual",
      phaseIndex: base?.phaseIndex ?? 0,
      name: preview.title,
    });
  },
};

/** The stored preview's changes as values to set, checked again (it is data from the store). */
function setFromChanges(
  ctx: OpsContext,
  run: RunConfig,
  changes: readonly ConfigChange[],
): Record<string, ScalarValue> {
  const keys = ctx.keys(run);
  const values: { workers?: number; batch?: number } = {};
  for (const change of changes) {
    if (change.key === keys.workers) values.workers = change.after as number;
    else if (change.key === keys.batch) values.batch = change.after as number;
    else
      throw new OperationRefusedError(
        `set may change only ${keys.workers} and ${keys.batch}, not ${change.key}`,
      );
  }
  return validatedSet(ctx, run, values);
}
