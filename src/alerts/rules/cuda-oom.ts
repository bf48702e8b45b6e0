import { eventRule, vramFact } from "./event-rule.ts";

/** CUDA ran out of GPU memory: the batch (or the model's activations) no longer fits. */
export const cudaOomRule = eventRule({
  name: "cuda_oom",
  label: "CUDA OOM",
  kinds: ["cuda_oom"],
  severity: "critical",
  describe: (event, ctx) => ({
    headline: "CUDA out of memory",
    facts: ["The GPU ran out of memory during training.", ...vramFact(ctx, event)],
    fix: "Usual fix: a smaller batch (`training.train_batch_size`), e.g. roll back to the previous phase, then restart.",
  }),
});
