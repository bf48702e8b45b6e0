import type { Clock } from "../core/clock.ts";
import type { LinePattern } from "../model/line-pattern.ts";
import { mayHoldError } from "./parsers/error-rules.ts";

/** Bytes of the previous chunk looked at again, so a word cut at a chunk edge is still seen. */
const CARRY = 256;

/**
 * Decides which follow-stream bytes are worth reading the log for at once (`followWakes:
 * errors`): text that may be an error (see mayHoldError) or matches one of the user's line
 * patterns (`alerts.rules.pattern`), and everything for `stickyMs` after
 * such text, so the rest of a traceback arrives with it. Ordinary progress lines wait for the
 * next poll, which reads them anyway: with a thousand runs each printing a line a second, a
 * read per line would cost the VMs thousands of processes a second.
 */
export class FollowWakeFilter {
  private carry = "";
  private wakeUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly patterns: readonly LinePattern[] = [],
    private readonly stickyMs = 10_000,
  ) {}

  /** True when these bytes should wake a read now. */
  wants(chunk: Buffer): boolean {
    const text = this.carry + chunk.toString("latin1");
    this.carry = text.slice(-CARRY);
    const now = this.clock.now();
    if (now < this.wakeUntil) return true;
    const matches = (pattern: LinePattern) => {
      pattern.regex.lastIndex = 0;
      return pattern.regex.test(text);
    };
    if (!mayHoldError(text) && !this.patterns.some(matches)) return false;
    this.wakeUntil = now + this.stickyMs;
    return true;
  }
}
