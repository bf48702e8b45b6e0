import type { Config } from "../config/schema.ts";
import type { SilenceRecord } from "../store/silences-repo.ts";

/** What to mute: a run, a rule, or one rule of one run. */
export interface SilenceRequest {
  run?: string | null;
  rule?: string | null;
  durationMs: number;
  reason: string;
  /** Who asked, e.g. `discord:1234`. */
  by?: string | null;
}

/** Raised for a bad silence request; the message is for people. */
export class SilenceError extends Error {
  override readonly name = "SilenceError";
}

/**
 * Checks a silence request against the configured runs and the known rules and turns it into
 * the record to store. Throws {@link SilenceError} naming what is wrong: a silence that matches
 * nothing would hide nothing while the person believes the noise is gone.
 */
export function silenceRecordFor(
  request: SilenceRequest,
  known: { config: Config; rules: readonly { name: string }[] },
  now: number,
): Omit<SilenceRecord, "id" | "endedAt" | "endReason"> {
  const run = request.run ?? null;
  const rule = request.rule ?? null;
  if (run === null && rule === null)
    throw new SilenceError("name a run, a rule, or both to silence");
  if (rule !== null && !known.rules.some((r) => ruleCovers(rule, r.name))) {
    throw new SilenceError(
      `no rule named '${rule}'; rules: ${known.rules.map((r) => r.name).join(", ")}`,
    );
  }
  if (run !== null && !known.config.runs.some((r) => r.name === run)) {
    throw new SilenceError(
      `no run named '${run}'; runs: ${known.config.runs.map((r) => r.name).join(", ")}`,
    );
  }
  if (!(request.durationMs > 0))
    throw new SilenceError("a silence needs a positive duration, e.g. 2h");
  if (!request.reason.trim()) throw new SilenceError("say why (a reason) so others know");
  return {
    run,
    rule,
    reason: request.reason.trim(),
    createdBy: request.by ?? null,
    createdAt: now,
    endsAt: now + request.durationMs,
  };
}

/**
 * True when one of `silences` mutes `rule` of `run` at `now`. The end time is checked here as
 * well: a silence whose time is up mutes nothing, even before its end has been recorded and
 * announced.
 */
export function isSilenced(
  silences: readonly SilenceRecord[],
  run: string,
  rule: string,
  now: number,
): boolean {
  return silences.some(
    (s) =>
      s.endsAt > now &&
      (s.run === null || s.run === run) &&
      (s.rule === null || ruleCovers(s.rule, rule)),
  );
}

/** A silence of `pattern` covers every user pattern's rule (`pattern:<name>`). */
function ruleCovers(silenced: string, rule: string): boolean {
  return silenced === rule || (silenced === "pattern" && rule.startsWith("pattern:"));
}

/** `exp001/gpu_idle`, `exp001` (every rule) or `gpu_idle` (every run). */
export function silenceTarget(silence: Pick<SilenceRecord, "run" | "rule">): string {
  if (silence.run && silence.rule) return `${silence.run}/${silence.rule}`;
  return silence.run ?? `${silence.rule} (all runs)`;
}
