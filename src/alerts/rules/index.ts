import { crashedRule } from "./crashed.ts";
import { cudaOomRule } from "./cuda-oom.ts";
import { degradedRule } from "./degraded.ts";
import { diskLowRule } from "./disk-low.ts";
import { etaSlipRule } from "./eta-slip.ts";
import { finishedRule } from "./finished.ts";
import { gpuFaultRule } from "./gpu-fault.ts";
import { gpuIdleRule } from "./gpu-idle.ts";
import { hostOomKillRule } from "./host-oom-kill.ts";
import { jobEndedRule } from "./job-ended.ts";
import { lossDivergingRule } from "./loss-diverging.ts";
import { lossPlateauRule } from "./loss-plateau.ts";
import { memoryHighRule } from "./memory-high.ts";
import { nanLossRule } from "./nan-loss.ts";
import { ncclTimeoutRule } from "./nccl-timeout.ts";
import { patternRule } from "./pattern.ts";
import { pendingLongRule } from "./pending-long.ts";
import { requeuedRule } from "./requeued.ts";
import type { Rule } from "./rule.ts";
import { shmExhaustedRule } from "./shm-exhausted.ts";
import { stalledRule } from "./stalled.ts";
import { throughputDropRule } from "./throughput-drop.ts";
import { timeLimitRule } from "./time-limit.ts";
import { unreachableRule } from "./unreachable.ts";
import { workerKilledRule } from "./worker-killed.ts";

/** Every alert rule, in the order their alerts are listed in a grouped message. */
export const RULES: readonly Rule[] = [
  cudaOomRule,
  hostOomKillRule,
  workerKilledRule,
  shmExhaustedRule,
  ncclTimeoutRule,
  gpuFaultRule,
  nanLossRule,
  lossDivergingRule,
  lossPlateauRule,
  crashedRule,
  finishedRule,
  jobEndedRule,
  requeuedRule,
  timeLimitRule,
  unreachableRule,
  degradedRule,
  stalledRule,
  throughputDropRule,
  etaSlipRule,
  gpuIdleRule,
  memoryHighRule,
  diskLowRule,
  pendingLongRule,
  patternRule,
];
