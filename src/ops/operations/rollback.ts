import * as z from "zod";
import { currentConfigAsPreviewed } from "../config-change.ts";
import type { Operation } from "../operation.ts";
import { OperationRefusedError } from "../operation-refused-error.ts";
import { phaseRefSchema, previewCommon } from "../preview-schema.ts";
import { readConfig, rollbackTarget, trackedKeys } from "../previews.ts";
import { rollbackWith } from "../rollback-to.ts";
import { phaseLabel } from "../verdict-message.ts";
import { diffLines, readKeys } from "../yaml-edit.ts";

const schema = z.object({ kind: z.literal("rollback"), ...previewCommon, phase: phaseRefSchema });

/** Goes back to the last passed config and restarts. */
export const rollbackOperation: Operation<typeof schema> = {
  kind: "rollback",
  schema,
  async preview(ctx, run) {
    const target = rollbackTarget(ctx, run.name);
    const text = await readConfig(ctx, run);
    if (text === target.configAfter) {
      throw new OperationRefusedError(
        `${run.name} already runs ${phaseLabel(target)}'s config (the last passed); nothing to roll back`,
      );
    }
    const keys = trackedKeys(ctx, run);
    const now = readKeys(text, keys);
    const then = readKeys(target.configAfter as string, keys);
    const changes = keys
      .filter((k) => JSON.stringify(now[k]) !== JSON.stringify(then[k]))
      .map((key) => ({ key, before: now[key] ?? null, after: then[key] ?? null }));
    return {
      run: run.name,
      kind: "rollback",
      title: `Roll back to ${phaseLabel(target)}${target.kind === "phase" ? `: ${target.name}` : ""}`,
      changes,
      diff: diffLines(text, target.configAfter as string),
      phase: { index: target.phaseIndex, name: target.name },
      restarts: true,
    };
  },
  async apply(ctx, { run, preview, actor, onProgress }) {
    const text = await currentConfigAsPreviewed(ctx, run, preview.changes);
    return rollbackWith(ctx, run, text, actor, onProgress);
  },
};
