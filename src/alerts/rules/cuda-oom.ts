import { eventRule, vramFact } from "./event-rule.ts";

/** CUDA ran out of GPU memory: the batch (or the model's activations) no longer fits. */
export const cudaOomRule = eventRule({
  name: "cuda_oom",
  label: "CUDA OOM",
  kinds: ["cuda_oom"],
  severity: "critical",
  peak: "vram",
  describe: (event, _ctx, peaks) => ({
    headline: "CUDA out of memory",
    facts: ["The GPU ran out of memory during training.", ...vramFact(event, peaks)],
    fix: "Usual fix: a smaller batch (`training.train_batch_size`), e.g. roll back to the previous phase, then restart.",
  }),
});
