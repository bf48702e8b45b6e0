/**
 * What each error kind is called in front of people. The kinds themselves (`cuda_oom`) are ids
 * for config and storage; messages say "CUDA out of memory".
 */
const LABELS: Readonly<Record<string, string>> = {
  cuda_oom: "CUDA out of memory",
  host_oom_kill: "killed by the host's OOM killer",
  worker_killed: "data-loader worker killed",
  shm_exhausted: "shared memory (/dev/shm) exhausted",
  nccl_timeout: "NCCL timeout",
  gpu_fault: "GPU fault (Xid)",
  cuda_error: "CUDA error",
  nan_loss: "loss became NaN",
  traceback: "Python exception",
  killed: "process killed",
  interrupted: "interrupted (KeyboardInterrupt)",
};

/** The label of an error kind for people; an unknown kind reads as its words. */
export function errorKindLabel(kind: string): string {
  return LABELS[kind] ?? kind.replace(/_/g, " ");
}

/**
 * An error for people: its label, then the decisive line, the label left out when the line
 * already says it ("torch.OutOfMemoryError: CUDA out of memory. …" needs no prefix).
 */
export function describeError(kind: string, line: string): string {
  const label = errorKindLabel(kind);
  return line.toLowerCase().includes(label.toLowerCase()) ? line : `${label}: ${line}`;
}
