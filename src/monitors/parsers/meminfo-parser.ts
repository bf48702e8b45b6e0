/** Host memory as the probe reads it from /proc/meminfo. */
export interface HostMemory {
  totalBytes: number;
  availableBytes: number;
  /** total − available: what the kernel could not hand out without swapping or killing. */
  usedBytes: number;
}

/**
 * Parses /proc/meminfo. Uses MemAvailable; kernels before 3.14 lack it, and then free +
 * buffers + cached stands in. Returns null when MemTotal is missing (not a meminfo text).
 */
export function parseMeminfo(text: string): HostMemory | null {
  const kib = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s*kB)?\s*$/.exec(line.trim());
    if (m) kib.set(m[1] as string, Number(m[2]));
  }
  const total = kib.get("MemTotal");
  if (total === undefined) return null;
  const available =
    kib.get("MemAvailable") ??
    (kib.get("MemFree") ?? 0) + (kib.get("Buffers") ?? 0) + (kib.get("Cached") ?? 0);
  const clamped = Math.min(available, total);
  return {
    totalBytes: total * 1024,
    availableBytes: clamped * 1024,
    usedBytes: (total - clamped) * 1024,
  };
}
