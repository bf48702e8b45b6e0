import * as z from "zod";
import type { Operation } from "../operation.ts";
import { OperationRefusedError } from "../operation-refused-error.ts";
import { restartOnly } from "../operation-restart.ts";
import { previewCommon } from "../preview-schema.ts";

const schema = z.object({ kind: z.literal("restart"), ...previewCommon });

/** Restarts training with the config as it is. */
export const restartOperation: Operation<typeof schema> = {
  kind: "restart",
  schema,
  async preview(_ctx, run) {
    if (!run.start && !run.restart.systemdUnit) {
      throw new OperationRefusedError(
        `run ${run.name} has no start: command; add one to trainops.yaml`,
      );
    }
    return {
      run: run.name,
      kind: "restart",
      title: `Restart training of ${run.name}`,
      changes: [],
      diff: [],
      restarts: true,
    };
  },
  apply: (ctx, { run, onProgress }) => restartOnly(ctx, run, onProgress),
};
