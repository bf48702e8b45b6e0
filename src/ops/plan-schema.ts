import * as z from "zod";

/**
 * The phase plan file: a list of phases, each a small change to the training YAML held for a
 * number of steps and judged by criteria over its own samples (progressive rollout with
 * analysis: warm-up, success and failure conditions, an inconclusive result, rollback).
 */

/** A value a phase may write into the training YAML. */
const scalar = z.union([z.number(), z.boolean(), z.string()]);

/** Dotted key into the training YAML, e.g. `training.workers`. */
const dottedKey = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/,
    "a dotted key such as training.workers",
  );

const criteriaSchema = z
  .object({
    noOom: z
      .boolean()
      .default(true)
      .describe("Fail on any OOM: CUDA, host OOM kill, worker killed"),
    noCrash: z.boolean().default(true).describe("Fail on any crash: traceback, kill, CUDA error"),
    maxVramGiB: z.number().positive().optional().describe("Peak VRAM of the busiest GPU, GiB"),
    maxHostRamGiB: z
      .number()
      .positive()
      .optional()
      .describe("Peak RAM of the training job (trainer + workers), GiB"),
    maxStepTimeRatio: z
      .number()
      .positive()
      .optional()
      .describe("Step time / previous passed phase's step time must be below this (1 = decreases)"),
    minThroughputRatio: z
      .number()
      .positive()
      .optional()
      .describe("Throughput / previous passed phase's must be above this (1 = increases)"),
    minGpuUtilPercent: z.number().min(0).max(100).optional().describe("Mean GPU utilisation"),
  })
  .strict();

const holdSchema = z
  .object({
    minSteps: z
      .number()
      .int()
      .positive()
      .describe("Steps the phase must run (after warm-up) before it is judged"),
    maxSteps: z
      .number()
      .int()
      .positive()
      .describe("Steps after which the phase is judged at the latest"),
    timeout: z
      .string()
      .regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, "a duration like 30m or 2h")
      .optional()
      .describe("Give up (inconclusive) if minSteps are not reached by then"),
  })
  .strict()
  .refine((hold) => hold.maxSteps >= hold.minSteps, {
    message: "maxSteps must be at least minSteps",
    path: ["maxSteps"],
  });

/** The criteria a change is judged by when it names none: no OOM, no crash. */
const DEFAULT_CRITERIA = { noOom: true, noCrash: true };
/** Steps after a change's restart that its criteria ignore, when it says nothing. */
const DEFAULT_WARMUP_STEPS = 10;

/**
 * How a change (a phase, a manual `set`) is judged once its restart is done: the steps its
 * criteria ignore first, then the criteria (`what` describes them).
 */
function judgingFields(what: string) {
  return {
    warmupSteps: z
      .number()
      .int()
      .min(0)
      .default(DEFAULT_WARMUP_STEPS)
      .describe("Steps after the restart that the criteria ignore"),
    criteria: criteriaSchema.default(DEFAULT_CRITERIA).describe(what),
  };
}

/** Resources a phase asks of Slurm when the run is a Slurm job (sbatch flags on resubmit). */
const slurmResourcesSchema = z
  .object({
    nodes: z.number().int().positive().optional().describe("sbatch --nodes"),
    gpusPerNode: z.number().int().min(0).optional().describe("sbatch --gres=gpu:N"),
    time: z
      .string()
      .regex(/^(\d+-)?\d+(:\d\d){0,2}$/, "Slurm's time format, e.g. 04:00:00 or 1-00:00:00")
      .optional()
      .describe("sbatch --time"),
    partition: z.string().min(1).optional().describe("sbatch --partition"),
  })
  .strict();

export const phaseSchema = z
  .object({
    name: z.string().min(1).describe("Phase name shown in chat, e.g. workers-2"),
    risk: z.enum(["low", "medium", "high"]).describe("How risky the change is, shown in previews"),
    why: z.string().optional().describe("Why this phase, shown in previews"),
    optional: z.boolean().default(false).describe("The plan may go on without this phase"),
    set: z
      .record(dottedKey, scalar)
      .refine((set) => Object.keys(set).length > 0, "set: needs at least one key")
      .describe("Training-YAML keys (dotted) and the values this phase writes"),
    slurm: slurmResourcesSchema
      .optional()
      .describe("Resources for the resubmitted job (Slurm runs): nodes, gpusPerNode, time"),
    hold: holdSchema.describe("How long the phase runs before it is judged"),
    ...judgingFields("What the phase must meet to pass"),
    expected: z.array(z.string()).default([]).describe("Expected effects, shown in the preview"),
  })
  .strict();

export const planSchema = z
  .object({
    name: z.string().min(1).describe("The plan's name"),
    description: z.string().optional().describe("What the plan is for"),
    keys: z
      .object({
        workers: dottedKey
          .default("training.workers")
          .describe("Training-YAML key of the data-loader workers (`set workers=`)"),
        batch: dottedKey
          .default("training.train_batch_size")
          .describe("Training-YAML key of the batch size (`set batch=`)"),
      })
      .strict()
      .default({ workers: "training.workers", batch: "training.train_batch_size" })
      .describe("Where `set workers=… batch=…` writes in the training YAML"),
    baseline: z
      .object({
        minSteps: z
          .number()
          .int()
          .positive()
          .default(20)
          .describe("Steps of the current config measured before the first phase"),
        warmupSteps: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe("Steps the baseline measurement ignores at first"),
      })
      .strict()
      .default({ minSteps: 20, warmupSteps: 0 })
      .describe("The measurement phases are compared with"),
    manual: z
      .object({
        hold: holdSchema
          .default({ minSteps: 50, maxSteps: 100 })
          .describe("How long a manual change runs before it is judged"),
        ...judgingFields("What a manual change must meet"),
      })
      .strict()
      .default({
        hold: { minSteps: 50, maxSteps: 100 },
        warmupSteps: DEFAULT_WARMUP_STEPS,
        criteria: { ...DEFAULT_CRITERIA },
      })
      .describe("How a manual `set` is judged"),
    phases: z
      .array(phaseSchema)
      .min(1, "add at least one phase under phases:")
      .describe("The phases, in order"),
  })
  .strict();

/** A validated plan with defaults filled in. */
export type Plan = z.infer<typeof planSchema>;
export type PlanPhase = z.infer<typeof phaseSchema>;
export type PhaseCriteria = z.infer<typeof criteriaSchema>;
export type PhaseHold = z.infer<typeof holdSchema>;
export type ScalarValue = z.infer<typeof scalar>;
