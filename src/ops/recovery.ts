import type { RunConfig } from "../config/schema.ts";
import type { ChangeLock } from "../store/change-locks-repo.ts";
import type { JournalEntry } from "../store/operation-journal-repo.ts";
import { writeConfig } from "./config-write.ts";
import { restartForOperation } from "./operation-restart.ts";
import type { OpsContext } from "./ops-context.ts";
import { findTrainingPids, RestartError } from "./restart.ts";
import { type Actor, actorAuditFields } from "./run-operations.ts";
import { pausePhaseForStop } from "./stop-pauses-phase.ts";
import { settleInterruptedStop } from "./stop-recovery.ts";
import { noticeMessage } from "./verdict-message.ts";

/** Who recovers an interrupted change, in the audit trail and the journal. */
export const RECOVERY_ACTOR: Actor = {
  platform: "trainops",
  userId: "recovery",
  name: "trainops (recovery)",
  channelId: "",
};

/** What a recovery did with one interrupted change. */
export interface Recovery {
  run: string;
  /** The interrupted change's journal entry. */
  entryId: number;
  /** `forward`: the new config stays; `back`: the old one is restored; `none`: nothing had changed. */
  direction: "forward" | "back" | "none";
  /** Whether training runs afterwards. */
  running: boolean;
  summary: string;
}

/**
 * Rolls the run's interrupted changes (journal entries that never ended: their holder died)
 * forward or back, so training runs with either the old or the new config, and tells chat what
 * happened in one notice each. Call it holding the run's change lock. The rule, by the step the
 * change had reached:
 * - locked: nothing on the VM changed; the change is only closed.
 * - config written: the old config is restored; training, never stopped, runs on (or is
 *   started with it if it is not running).
 * - stop sent: the old config is restored and training restarted with it (a stop may have
 *   been sent; a half-stopped job must not be left to exit on its own).
 * - started, confirmed: the new process runs with the new config; if it does, the change is
 *   finished (rolled forward); if not, the old config is restored and training started.
 * - a stop, at any step after locked: finished as asked (training is never started again by a
 *   recovery); the notice says whether it still runs.
 */
export async function recoverInterrupted(
  ctx: OpsContext,
  run: RunConfig,
  tookOverFrom: ChangeLock | null,
): Promise<Recovery[]> {
  const entries = ctx.journal.unfinished(run.name);
  if (tookOverFrom) {
    ctx.audit.record({
      at: ctx.clock.now(),
      ...actorAuditFields(RECOVERY_ACTOR),
      run: run.name,
      command: tookOverFrom.operation,
      args: {},
      outcome: "taken-over",
      detail: `lock of ${tookOverFrom.holderName} (${tookOverFrom.process ? `pid ${tookOverFrom.process.pid} on ${tookOverFrom.process.host}, ` : ""}since ${new Date(tookOverFrom.acquiredAt).toISOString()}) taken over: its holder is gone`,
    });
  }
  const done: Recovery[] = [];
  for (const entry of entries) done.push(await recoverOne(ctx, run, entry));
  return done;
}

async function recoverOne(ctx: OpsContext, run: RunConfig, entry: JournalEntry): Promise<Recovery> {
  const who = actorName(entry.actor);
  const what = titleOf(entry);
  const when = new Date(entry.updatedAt).toISOString().slice(11, 19);
  const intro = `${who}'s ${what} was interrupted (${stepText(entry.step)}, ${when} UTC).`;
  // Steps of the recovery go to the same entry: if it too is interrupted, the next one resumes.
  ctx.journalAs(run.name, entry.id);
  let recovery: Recovery;
  try {
    recovery = await settle(ctx, run, entry, intro);
  } catch (error) {
    recovery = {
      run: run.name,
      entryId: entry.id,
      direction: "back",
      running: false,
      summary: `${intro} Recovering it failed: ${(error as Error).message}. Training may be stopped: check the VM, then /train restart.`,
    };
  } finally {
    ctx.journalAs(run.name, null);
  }
  // A stop that ended with training stopped did what was asked: no emergency.
  const stoppedAsAsked =
    entry.kind === "stop" && recovery.direction === "forward" && !recovery.running;
  ctx.transaction(() => {
    if (entry.attemptId !== null) markAttempt(ctx, entry, recovery);
    ctx.journal.close(
      entry.id,
      ctx.clock.now(),
      `recovered-${recovery.direction}`,
      recovery.summary,
    );
    ctx.audit.record({
      at: ctx.clock.now(),
      ...actorAuditFields(RECOVERY_ACTOR),
      run: run.name,
      command: entry.kind,
      args: {},
      outcome: "recovered",
      detail: recovery.summary,
    });
    ctx.notify(
      run.name,
      noticeMessage(
        run.name,
        recovery.running || stoppedAsAsked ? "warning" : "critical",
        "interrupted change recovered",
        [
          recovery.summary,
          stoppedAsAsked
            ? `Next: fix the cause, then /train restart ${run.name} resumes training.`
            : recovery.running
              ? `Next: /train status ${run.name}; /train plan shows where the plan stands.`
              : `Next: check the VM, then /train restart ${run.name}.`,
        ],
      ),
      `recovered:${run.name}:${entry.id}`,
    );
  });
  return recovery;
}

async function settle(
  ctx: OpsContext,
  run: RunConfig,
  entry: JournalEntry,
  intro: string,
): Promise<Recovery> {
  const base = { run: run.name, entryId: entry.id };
  const noop = () => {};
  if (entry.step === "locked") {
    return {
      ...base,
      direction: "none",
      running: await isRunning(ctx, run),
      summary: `${intro} Nothing had changed yet; the lock is free again.`,
    };
  }
  if (entry.kind === "stop") {
    // A stop is never undone by starting training: it is finished, or asked for again.
    const settled = await settleInterruptedStop(ctx, run, entry);
    if (!settled.running) pausePhaseForStop(ctx, run.name, actorName(entry.actor));
    return {
      ...base,
      direction: "forward",
      running: settled.running,
      summary: `${intro} ${settled.summary}`,
    };
  }
  const forwardable = entry.step === "started" || entry.step === "confirmed";
  if (forwardable && (await isRunning(ctx, run))) {
    return {
      ...base,
      direction: "forward",
      running: true,
      summary: `${intro} Training runs with the new config: the change is kept.`,
    };
  }
  let restored = false;
  if (entry.configBefore !== null && run.trainConfig) {
    const current = await ctx.editor(run).read();
    if (current !== entry.configBefore) {
      await writeConfig(ctx, run, current, entry.configBefore, "recovery", RECOVERY_ACTOR, noop);
      restored = true;
    }
  }
  if (entry.step === "config-written" && (await isRunning(ctx, run))) {
    // No stop was sent: the job still runs with the config it was started with.
    return {
      ...base,
      direction: restored ? "back" : "none",
      running: true,
      summary: `${intro} ${restored ? "The previous config is restored; training" : "The config was not written yet; training"} kept running with it, untouched.`,
    };
  }
  const config = entry.configBefore !== null ? "the previous config" : "its config";
  try {
    const outcome = await restartForOperation(ctx, run, noop);
    return {
      ...base,
      direction: "back",
      running: true,
      summary: `${intro} ${restored ? "The previous config is restored and training restarted with it" : `Training restarted with ${config}`} (first step: ${outcome.firstStepLine}).`,
    };
  } catch (error) {
    if (!(error instanceof RestartError)) throw error;
    return {
      ...base,
      direction: "back",
      running: false,
      summary: `${intro} ${restored ? "The previous config is restored, but training" : "Training"} did not come back: ${error.message}.`,
    };
  }
}

/** The phase attempt the interrupted change created, told how it ended. */
function markAttempt(ctx: OpsContext, entry: JournalEntry, recovery: Recovery): void {
  const attempt = ctx.phases.get(entry.attemptId as number);
  if (attempt?.state !== "applying") return;
  const now = ctx.clock.now();
  if (recovery.direction === "forward") {
    // Judged from here; its errors count from when the new process was started.
    const started = ctx.expectedStops.get(entry.run)?.startedAt ?? entry.updatedAt;
    ctx.phases.update(attempt.id, {
      state: "warming",
      measureFrom: now,
      trainingStartedAt: started,
    });
    return;
  }
  ctx.phases.update(attempt.id, {
    state: "inconclusive",
    endedAt: now,
    paused: true,
    reason: "interrupted while applying; the previous config was restored",
  });
}

async function isRunning(ctx: OpsContext, run: RunConfig): Promise<boolean> {
  if (run.restart.systemdUnit) return true;
  return (await findTrainingPids(ctx.remote(run).transport, run)).length > 0;
}

function stepText(step: JournalEntry["step"]): string {
  switch (step) {
    case "locked":
      return "before it changed anything";
    case "config-written":
      return "after writing the training config";
    case "stop-sent":
      return "while stopping training";
    case "started":
      return "after starting training again";
    case "confirmed":
      return "after training came back";
  }
}

function actorName(stored: unknown): string {
  const name = (stored as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : "someone";
}

function titleOf(entry: JournalEntry): string {
  const title = (entry.preview as { title?: unknown } | null)?.title;
  return typeof title === "string" ? `'${title}'` : entry.kind;
}
