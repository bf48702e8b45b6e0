import type { OpsContext } from "./ops-context.ts";
import { type Actor, OperationRefusedError } from "./run-operations.ts";

/** Runs `fn` holding the run's change lock; refuses naming the holder when taken. */
export async function withChangeLock<T>(
  ctx: OpsContext,
  run: string,
  actor: Actor,
  operation: string,
  fn: () => Promise<T>,
): Promise<T> {
  const acquiredAt = ctx.clock.now();
  const taken = ctx.locks.tryAcquire({
    run,
    holderId: actor.id,
    holderName: actor.name,
    operation,
    acquiredAt,
    expiresAt: acquiredAt + (ctx.options.lockTtlMs ?? 3_600_000),
  });
  if (!taken.ok) {
    const h = taken.heldBy;
    throw new OperationRefusedError(
      `${run} is being changed by ${h.holderName} (${h.operation} since ${new Date(h.acquiredAt).toISOString().slice(11, 19)} UTC); one change at a time, retry when it finishes`,
    );
  }
  try {
    return await fn();
  } finally {
    ctx.locks.release(run, actor.id, acquiredAt);
  }
}
