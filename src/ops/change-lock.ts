import type { Message } from "../message/message.ts";
import type { ChangeLock } from "../store/change-locks-repo.ts";
import type { OpsContext } from "./ops-context.ts";
import { RECOVERY_ACTOR, recoverInterrupted } from "./recovery.ts";
import {
  type Actor,
  actorAuditFields,
  actorKey,
  OperationRefusedError,
  type OperationResult,
} from "./run-operations.ts";
import { noticeMessage } from "./verdict-message.ts";

/** Default time a lock lives without a renewal: its holder renews it every quarter of this. */
export const DEFAULT_LOCK_TTL_MS = 120_000;

/** What is being changed, for the journal and the audit row. */
export interface LockedChange {
  /** The operation's kind (`set`, `rollback`, …). */
  kind: string;
  /** The preview being applied (journalled, so a recovery can say what was interrupted). */
  preview: unknown;
  /** The change's arguments as the audit trail shows them. */
  args: Record<string, string | undefined>;
}

/**
 * Whether a lock's holder is gone: its process no longer runs on this host (checked by pid and
 * the process's start time, so a reused pid is not mistaken for it). A holder on another host
 * speaks only through its renewals; its lock expires when they stop.
 */
export function holderGone(ctx: OpsContext, lock: ChangeLock): boolean {
  return lock.process !== null && ctx.holderAlive(lock.process) === false;
}

/**
 * Runs `fn` holding the run's change lock, journalled, and audited:
 * - refuses, naming the holder, while a live holder has the lock; takes over at once a lock
 *   whose holder died, and first rolls its interrupted change forward or back (see
 *   recoverInterrupted);
 * - renews the lock while `fn` runs, so it never expires under a slow restart;
 * - opens a journal entry that `fn`'s steps are written to;
 * - at the end closes the entry, writes the audit row (who, arguments, outcome, how long) and
 *   releases the lock in one transaction.
 */
export async function withChangeLock(
  ctx: OpsContext,
  run: string,
  actor: Actor,
  change: LockedChange,
  fn: () => Promise<OperationResult>,
): Promise<OperationResult> {
  const ttl = ctx.options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  const acquiredAt = ctx.clock.now();
  const holderId = actorKey(actor);
  const audit = (outcome: "applied" | "failed" | "refused", detail: string) =>
    ctx.audit.record({
      at: ctx.clock.now(),
      ...actorAuditFields(actor),
      run,
      command: change.kind,
      args: change.args,
      outcome,
      detail,
      durationMs: ctx.clock.now() - acquiredAt,
    });
  const taken = ctx.locks.tryAcquire(
    {
      run,
      holderId,
      holderName: actor.name,
      operation: change.kind,
      acquiredAt,
      expiresAt: acquiredAt + ttl,
      process: ctx.self,
    },
    (held) => holderGone(ctx, held),
  );
  if (!taken.ok) {
    const h = taken.heldBy;
    const message = `${run} is being changed by ${h.holderName} (${h.operation} since ${new Date(h.acquiredAt).toISOString().slice(11, 19)} UTC); one change at a time, retry when it finishes`;
    audit("refused", message);
    throw new OperationRefusedError(message);
  }
  const renewal = setInterval(
    () => {
      const now = ctx.clock.now();
      ctx.locks.renew(run, holderId, acquiredAt, now, now + ttl);
    },
    Math.max(1000, Math.floor(ttl / 4)),
  );
  renewal.unref();
  let journalId: number | null = null;
  let result: OperationResult | null = null;
  let failure: unknown = null;
  try {
    await recoverInterrupted(ctx, ctx.run(run), taken.tookOverFrom);
    journalId = ctx.transaction(() => {
      const id = ctx.journal.open({
        run,
        kind: change.kind,
        preview: change.preview,
        actor,
        at: ctx.clock.now(),
      });
      ctx.locks.setOperation(run, holderId, acquiredAt, id);
      return id;
    });
    ctx.journalAs(run, journalId);
    result = await fn();
    return result;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    clearInterval(renewal);
    ctx.journalAs(run, null);
    const refused = failure instanceof OperationRefusedError;
    const outcome = result ? (result.ok ? "applied" : "failed") : refused ? "refused" : "failed";
    const detail = result
      ? [result.summary, ...(result.warning ? [result.warning] : [])].join(" ")
      : String((failure as Error | null)?.message ?? failure);
    ctx.transaction(() => {
      if (journalId !== null) ctx.journal.close(journalId, ctx.clock.now(), outcome, detail);
      audit(outcome, detail);
      if (actor.announce && journalId !== null) {
        ctx.notify(
          run,
          outcomeNotice(run, actor, change, result, detail),
          `operation:${run}:${journalId}`,
        );
      }
      ctx.locks.release(run, holderId, acquiredAt);
    });
  }
}

/** A change's outcome for chat, when it was asked where chat did not see it (the terminal). */
function outcomeNotice(
  run: string,
  actor: Actor,
  change: LockedChange,
  result: OperationResult | null,
  detail: string,
): Message {
  const title = (change.preview as { title?: unknown } | null)?.title;
  const what = typeof title === "string" ? title : change.kind;
  const severity = !result?.ok ? "critical" : result.warning ? "warning" : "success";
  const verb = !result
    ? "refused"
    : !result.ok
      ? "failed"
      : result.warning
        ? "applied, but failing"
        : "done";
  return noticeMessage(run, severity, `${what}: ${verb}`, [
    `Asked by ${actor.name} from the terminal.`,
    result ? result.summary : detail,
    ...(result?.warning ? [result.warning] : []),
    ...(result?.details ?? []),
  ]);
}

/**
 * Recovers the run's interrupted change when its holder is gone (see recoverInterrupted): takes
 * the lock over, rolls the change forward or back, and lets go. Nothing happens while a live
 * holder has the lock or when nothing was interrupted. Called at start-up and on every tick of
 * the phase engine, so a change killed mid-way is dealt with within a poll.
 */
export async function recoverAbandoned(ctx: OpsContext, run: string): Promise<number> {
  const lock = ctx.locks.get(run);
  const interrupted = ctx.journal.unfinished(run);
  const abandoned = lock !== null && (lock.expiresAt <= ctx.clock.now() || holderGone(ctx, lock));
  if (interrupted.length === 0 && !abandoned) return 0;
  if (lock !== null && !abandoned) return 0;
  const acquiredAt = ctx.clock.now();
  const holderId = actorKey(RECOVERY_ACTOR);
  const taken = ctx.locks.tryAcquire(
    {
      run,
      holderId,
      holderName: RECOVERY_ACTOR.name,
      operation: "recovery",
      acquiredAt,
      expiresAt: acquiredAt + (ctx.options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS),
      process: ctx.self,
    },
    (held) => holderGone(ctx, held),
  );
  if (!taken.ok) return 0;
  try {
    return (await recoverInterrupted(ctx, ctx.run(run), taken.tookOverFrom)).length;
  } finally {
    ctx.locks.release(run, holderId, acquiredAt);
  }
}

/**
 * Removes the run's change lock whoever holds it, for the rare case a person must (a holder on
 * another host that will not come back); audited. An interrupted change it protected is
 * recovered by the next command or poll. Returns the lock that was removed, or null.
 */
export function unlockRun(ctx: OpsContext, run: string, actor: Actor): ChangeLock | null {
  ctx.run(run);
  return ctx.transaction(() => {
    const removed = ctx.locks.forceRelease(run);
    ctx.audit.record({
      at: ctx.clock.now(),
      ...actorAuditFields(actor),
      run,
      command: "unlock",
      args: {},
      outcome: removed ? "unlocked" : "refused",
      detail: removed
        ? `removed the lock of ${removed.holderName} (${removed.operation} since ${new Date(removed.acquiredAt).toISOString()})`
        : "no lock was held",
    });
    return removed;
  });
}
