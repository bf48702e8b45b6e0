/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between checks (default 100 ms). */
  intervalMs?: number;
  /** Named in the timeout error, e.g. "the metrics endpoint". */
  what?: string;
}

/** What a wait checks: holds when it returns anything but false, null or undefined. */
export type WaitProbe<T> = () =>
  | T
  | false
  | null
  | undefined
  | Promise<T | false | null | undefined>;

/**
 * Checks `probe` until it holds (returns anything but false, null or undefined), pausing between
 * checks, and resolves to what it returned; rejects naming `what` once the time is up. Tests
 * wait on real processes, so they poll instead of sleeping a fixed time. The one wait of the
 * test suite: other helpers delegate here.
 */
export async function waitUntil<T>(probe: WaitProbe<T>, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100, what = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== false && value !== null && value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}
