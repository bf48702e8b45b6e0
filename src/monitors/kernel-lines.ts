/** A kernel log line with its uptime stamp (`[12345.678901] text`). */
export interface KernelLine {
  /** Seconds since boot. */
  stamp: number;
  text: string;
}

const STAMPED = /^\[\s*(\d+\.\d+)\]\s?(.*)$/;

/**
 * Picks the kernel lines that are newer than `mark`. The probe prints the last matching dmesg
 * lines every poll; the mark (newest stamp already handled) keeps each line to one event.
 * `uptime` below the mark means the VM rebooted: every line is then new.
 */
export function newKernelLines(
  text: string,
  mark: number | null,
  uptime: number | null,
): { lines: KernelLine[]; mark: number | null } {
  const parsed: KernelLine[] = [];
  for (const raw of text.split("\n")) {
    const match = STAMPED.exec(raw.trim());
    if (match) parsed.push({ stamp: Number(match[1]), text: match[2] ?? "" });
  }
  const newest = parsed.reduce<number | null>(
    (m, l) => (m === null || l.stamp > m ? l.stamp : m),
    null,
  );
  if (mark === null) {
    // First attach: what happened before we watched is history, not an alert.
    return { lines: [], mark: newest ?? uptime ?? 0 };
  }
  const rebooted = uptime !== null && uptime < mark;
  const floor = rebooted ? -1 : mark;
  const lines = parsed.filter((l) => l.stamp > floor);
  return {
    lines,
    mark: newest !== null && (rebooted || newest > mark) ? newest : rebooted ? 0 : mark,
  };
}
