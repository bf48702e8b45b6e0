import type * as z from "zod";
import type { RunConfig } from "../config/schema.ts";
import type { OpsContext } from "./ops-context.ts";
import type { Actor, OperationInput, OperationResult, ProgressCallback } from "./run-operations.ts";

/** A confirmed change being applied, as an operation's `apply` receives it. */
export interface AppliedChange<P> {
  run: RunConfig;
  /** The preview the person confirmed, parsed and of this operation's kind. */
  preview: P;
  actor: Actor;
  onProgress: ProgressCallback;
}

/**
 * One kind of change to a run (next-phase, set, rollback, restart): how it previews and how it
 * applies. The change lock, the journal, the audit row and the re-check of the run's state are
 * the caller's (see applyPreview), so an operation holds only what is its own. Registered in
 * src/ops/operations/index.ts.
 */
export interface Operation<S extends z.ZodObject<{ kind: z.ZodLiteral<string> }>> {
  /** The preview's `kind`, and the name chat and the CLI confirm it by. */
  readonly kind: z.infer<S>["kind"];
  /** The stored preview's shape; a confirmation's preview is parsed with it, not cast. */
  readonly schema: S;
  /** What the change would do, or an OperationRefusedError saying why it cannot. */
  preview(ctx: OpsContext, run: RunConfig, input: OperationInput): Promise<z.infer<S>>;
  /** Does it; runs holding the run's change lock, with the journal open. */
  apply(ctx: OpsContext, change: AppliedChange<z.infer<S>>): Promise<OperationResult>;
}
