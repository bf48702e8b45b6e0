/**
 * The GPU memory a run may use, in GiB: the configured `limits.gpuMemoryGiB`, else what the GPU
 * reports as its total (the first GPU that reports one), else null. One rule for status, the
 * memory alerts and the charts, so they never disagree about the line a run must stay under.
 */
export function gpuMemoryLimitGiB(
  configured: number | null | undefined,
  gpus: ReadonlyArray<{ memoryTotalMiB: number | null }>,
): number | null {
  if (configured !== undefined && configured !== null) return configured;
  const total = gpus.find((g) => g.memoryTotalMiB !== null)?.memoryTotalMiB ?? null;
  return total !== null ? total / 1024 : null;
}
