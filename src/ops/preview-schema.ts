import * as z from "zod";

/** One key of the training YAML that a change touches, as a preview stores it. */
export const configChangeSchema = z.object({
  /** Dotted key, e.g. `training.workers`. */
  key: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});

/** A phase of the plan a preview starts or returns to (1-based; 0 is the baseline). */
export const phaseRefSchema = z.object({ index: z.number().int().nonnegative(), name: z.string() });

/**
 * What every preview holds, whatever its kind; each operation adds its `kind` and what else it
 * shows (see src/ops/operations/).
 */
export const previewCommon = {
  run: z.string().min(1),
  /** e.g. "Phase 3: Increase workers to 4". */
  title: z.string(),
  changes: z.array(configChangeSchema),
  /** before → after lines of the YAML, for people. */
  diff: z.array(z.string()),
  /** Risk and expected effect where the plan says them. */
  risk: z.string().optional(),
  expected: z.array(z.string()).optional(),
  /** Whether applying restarts training. */
  restarts: z.boolean(),
};
