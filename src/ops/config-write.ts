import type { RunConfig } from "../config/schema.ts";
import { sha256 } from "../transport/training-config-file.ts";
import type { OpsContext } from "./ops-context.ts";
import type { Actor, ProgressCallback } from "./run-operations.ts";

/**
 * Writes a run's training config and records where the previous version was kept, so every
 * change, rollbacks included, can be traced and undone by hand.
 */
export async function writeConfig(
  ctx: OpsContext,
  run: RunConfig,
  before: string,
  after: string,
  operation: string,
  actor: Actor,
  onProgress: ProgressCallback,
): Promise<void> {
  const editor = ctx.editor(run);
  // Journalled ahead of the write: a change that dies while writing is undone from here.
  ctx.journalStep(run.name, "config-written", { configBefore: before, configAfter: after });
  const { backupPath } = await editor.write(after, before);
  ctx.backups.insert({
    run: run.name,
    at: ctx.clock.now(),
    path: editor.path,
    backupPath,
    sha256After: sha256(after),
    operation,
    actor: `${actor.platform}:${actor.userId}`,
  });
  onProgress(`Config written (${editor.path}); previous version kept at ${backupPath}`);
}
