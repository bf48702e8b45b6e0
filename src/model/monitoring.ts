/**
 * The data the monitor produces. Everything downstream (store, alerts, phase engine, chat)
 * speaks these types, never raw tool output.
 */

/** Classes of error the classifier recognises in log and kernel lines. */
export const ERROR_KINDS = [
  "cuda_oom",
  "host_oom_kill",
  "worker_killed",
  "shm_exhausted",
  "nccl_timeout",
  "gpu_fault",
  "cuda_error",
  "nan_loss",
  "traceback",
  "killed",
  "interrupted",
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Every kind but `interrupted`: a KeyboardInterrupt (a graceful restart) is not a failure. */
export const FAILURE_KINDS: readonly ErrorKind[] = ERROR_KINDS.filter(
  (kind) => kind !== "interrupted",
);

/** One classified error: a multi-line traceback is one event. */
export interface ClassifiedEvent {
  kind: ErrorKind;
  /** The decisive line, as shown to people (trimmed, ANSI removed). */
  line: string;
  /** 1-based line number within the text given to the classifier, when known. */
  lineNumber: number | null;
  /** Where it came from. */
  source: "log" | "kernel";
  /** Extra facts: exception type, signal, pid, Xid code… */
  detail?: Record<string, string | number>;
}

/** One parsed progress point from the log. */
export interface StepPoint {
  step: number;
  total: number | null;
  epoch: number | null;
  loss: number | null;
  /** Seconds per step when the logger prints it. */
  stepTime: number | null;
  /**
   * Set when `step` was composed from an in-epoch counter (`(epoch - first) × perEpoch + i`):
   * the batches in one epoch. Absent when `step` is as the log printed it.
   */
  perEpoch?: number | null;
}

/** One GPU as nvidia-smi reports it; null where it says [N/A] or [Not Supported]. */
export interface GpuSample {
  index: number;
  name: string;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  utilizationPercent: number | null;
  temperatureC: number | null;
  powerW: number | null;
  /** `GPU-…` as nvidia-smi and the DCGM exporter name it, when the probe read it. */
  uuid?: string;
}

/** The state of a run collected by one poll. */
export interface RunSample {
  run: string;
  /** Milliseconds since the epoch. */
  at: number;
  reachable: boolean;
  alive: boolean | null;
  step: number | null;
  totalSteps: number | null;
  epoch: number | null;
  loss: number | null;
  stepTimeSeconds: number | null;
  stepsPerHour: number | null;
  /**
   * The step time was measured by the monitor from when it saw the steps arrive (poll and
   * follow times), because the log prints no rate or step time of its own: an estimate.
   */
  stepTimeObserved?: boolean;
  etaSeconds: number | null;
  epochEtaSeconds: number | null;
  gpus: GpuSample[];
  hostMemory: { usedBytes: number; totalBytes: number } | null;
  workers: { count: number; rssBytes: number } | null;
  trainerRssBytes: number | null;
  diskFreeBytes: number | null;
}
