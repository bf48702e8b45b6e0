import type { RuleContext } from "./rule.ts";

/**
 * What the newest sample says of the training process, for the rules that judge a live
 * trainer's progress: `unknown` (the VM did not answer, or the probe could not tell),
 * `down` (it is gone: the crash rule's business), `stopping` (a stop the operations side
 * expects, such as a requested restart, is in force) or `running`.
 */
export type TrainerState = "unknown" | "down" | "stopping" | "running";

/** The training process's state now (see {@link TrainerState}). */
export function trainerState(ctx: RuleContext): TrainerState {
  const latest = ctx.latest();
  if (!latest?.reachable || latest.alive === null) return "unknown";
  if (!latest.alive) return "down";
  return stopExpected(ctx) ? "stopping" : "running";
}

/** True while a stop the operations side announced (a restart, a requeue) is still expected. */
export function stopExpected(ctx: RuleContext): boolean {
  const expected = ctx.expectedStop();
  return expected !== null && ctx.now < expected.until;
}
