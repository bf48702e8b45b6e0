/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between checks (default 100 ms). */
  intervalMs?: number;
  /** Named in the timeout error, e.g. "the metrics endpoint". */
  what?: string;
}

/**
 * Checks `predicate` until it holds, pausing between checks; rejects naming `what` once the
 * time is up. Tests wait on real processes, so they poll instead of sleeping a fixed time.
 */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const { timeoutMs = 30_000, intervalMs = 100, what = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}
