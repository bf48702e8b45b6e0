import type { RunConfig } from "../config/schema.ts";
import type { PhaseAttempt } from "../store/phases-repo.ts";
import { applyPreview } from "./apply.ts";
import { recoverAbandoned, withChangeLock } from "./change-lock.ts";
import { judgePhase, measurePhase, type Reference } from "./criteria.ts";
import { nextPhaseOperation } from "./operations/next-phase.ts";
import type { OpsContext } from "./ops-context.ts";
import { phaseSpec } from "./phase-spec.ts";
import type { Plan } from "./plan-schema.ts";
import { rollbackWith } from "./rollback-to.ts";
import { type Actor, actorKey, type OperationResult } from "./run-operations.ts";
import { noticeMessage, phaseLabel } from "./verdict-message.ts";
import { recordVerdict } from "./verdict-record.ts";
import { readKeys } from "./yaml-edit.ts";

/** The engine's own name in locks and the audit trail. */
export const ENGINE_ACTOR: Actor = {
  platform: "trainops",
  userId: "engine",
  name: "trainops (phase engine)",
  channelId: "",
};

/** Start-up time a phase gets on top of its step budget. */
const START_GRACE_MS = 60_000;

/** How far back the baseline may use samples collected before the plan started. */
const BASELINE_LOOKBACK_MS = 6 * 3_600_000;

/** What one tick did, for logs and tests. */
export interface TickResult {
  run: string;
  action:
    | "none"
    | "baseline-started"
    | "judged"
    | "passed"
    | "failed"
    | "inconclusive"
    | "advanced"
    | "rolled-back";
  detail?: string;
}

/**
 * Walks each run's plan: called after every poll, it judges the current phase over its own
 * samples and events and moves the persisted state machine (baseline → applying → warming →
 * evaluating → passed | failed | inconclusive). Everything lives in SQLite, so a restarted bot
 * picks up exactly where it was.
 */
export class PhaseEngine {
  constructor(private readonly ctx: OpsContext) {}

  async tick(runName: string, now = this.ctx.clock.now()): Promise<TickResult> {
    const ctx = this.ctx;
    const run = ctx.run(runName);
    const plan = ctx.plan(run);
    // A change whose holder died is rolled forward or back first, with or without a plan.
    await recoverAbandoned(ctx, runName);
    if (!plan || !run.trainConfig) return { run: runName, action: "none" };
    const lock = ctx.locks.get(runName);
    if (lock && lock.expiresAt > now)
      return { run: runName, action: "none", detail: `locked by ${lock.holderName}` };
    const current = ctx.phases.current(runName);
    if (!current) return this.startBaseline(run, plan, now);
    switch (current.state) {
      case "applying":
        // The lock is gone, so whoever was applying stopped half-way (a bot restart).
        ctx.phases.update(current.id, {
          state: "inconclusive",
          endedAt: now,
          paused: true,
          reason:
            "interrupted while applying (trainops stopped); check the run, then next-phase or rollback",
        });
        return { run: runName, action: "inconclusive", detail: "interrupted while applying" };
      case "warming":
      case "evaluating":
        return this.judge(run, plan, current, now);
      case "passed":
        if (run.autoAdvance && !current.paused && current.phaseIndex < plan.phases.length)
          return this.advance(run);
        return { run: runName, action: "none" };
      case "failed":
        if (
          run.autoRollback &&
          !current.paused &&
          current.rolledBackAt === null &&
          ctx.phases.lastPassed(runName)
        )
          return this.rollback(run, current);
        return { run: runName, action: "none" };
      default:
        return { run: runName, action: "none" };
    }
  }

  private async startBaseline(run: RunConfig, plan: Plan, now: number): Promise<TickResult> {
    const ctx = this.ctx;
    const latest = ctx.samples.latest(run.name);
    if (!latest?.reachable)
      return { run: run.name, action: "none", detail: "waiting for a successful poll" };
    let text: string;
    try {
      text = await ctx.editor(run).read();
    } catch (error) {
      return {
        run: run.name,
        action: "none",
        detail: `cannot read the training config yet: ${(error as Error).message}`,
      };
    }
    const keys = ctx.keys(run);
    const values = readKeys(text, [keys.workers, keys.batch]);
    const first = ctx.samples.range(run.name, now - BASELINE_LOOKBACK_MS, now + 1)[0];
    ctx.phases.create({
      run: run.name,
      plan: plan.name,
      phaseIndex: 0,
      kind: "baseline",
      name: "Baseline (current config)",
      state: "evaluating",
      startedAt: now,
      measureFrom: first?.at ?? now,
      endedAt: null,
      workers: typeof values[keys.workers] === "number" ? (values[keys.workers] as number) : null,
      batch: typeof values[keys.batch] === "number" ? (values[keys.batch] as number) : null,
      configBefore: text,
      configAfter: text,
      result: null,
      reason: null,
      rolledBackAt: null,
      paused: false,
      actor: actorKey(ENGINE_ACTOR),
    });
    return { run: run.name, action: "baseline-started" };
  }

  private async judge(
    run: RunConfig,
    plan: Plan,
    attempt: PhaseAttempt,
    now: number,
  ): Promise<TickResult> {
    const ctx = this.ctx;
    const from = attempt.measureFrom ?? attempt.startedAt;
    const samples = ctx.samples.range(run.name, from, now + 1);
    // Errors count from the moment training was started with this config: a config that fails
    // fast can OOM while the restart is still being confirmed, before the measured window
    // opens; what the old process printed while it was stopped is not this config's doing.
    const events = ctx.events.range(
      run.name,
      attempt.trainingStartedAt ?? attempt.startedAt,
      now + 1,
    );
    const spec = phaseSpec(plan, attempt);
    const measure = measurePhase(samples, events, spec.warmupSteps);
    const refAttempt = attempt.kind === "baseline" ? null : ctx.phases.lastPassed(run.name);
    const reference: Reference | null = refAttempt
      ? {
          name: phaseLabel(refAttempt),
          stepTimeSeconds:
            (refAttempt.result?.stepTimeSeconds as number | null | undefined) ?? null,
          batch: refAttempt.batch,
        }
      : null;
    const refWall = (refAttempt?.result?.wallMsPerStep as number | null | undefined) ?? null;
    // The time maxSteps would take at the reference pace, with slack: half again for noise,
    // plus a fixed grace for start-up (workers forking, data warming) that is not per step.
    const budgetMs =
      spec.timeout ??
      (refWall ? (spec.warmupSteps + spec.hold.maxSteps) * refWall * 1.5 + START_GRACE_MS : null);
    const judgement = judgePhase({
      measure,
      criteria: spec.criteria,
      hold: spec.hold,
      warmupSteps: spec.warmupSteps,
      batch: attempt.batch,
      reference,
      overBudget: budgetMs !== null && now - from > budgetMs,
      unreachablePolls: attempt.kind === "baseline" ? Number.POSITIVE_INFINITY : 3,
    });
    if (judgement.verdict === "continue") {
      const result = { ...measure, checks: judgement.checks };
      ctx.phases.update(attempt.id, { state: judgement.state, result });
      return { run: run.name, action: "judged", detail: judgement.state };
    }
    const verdict = judgement.verdict;
    const nextIndex =
      (verdict === "passed"
        ? attempt.phaseIndex
        : (ctx.phases.lastPassed(run.name)?.phaseIndex ?? 0)) + 1;
    const nextPhase = plan.phases[nextIndex - 1];
    const willRollBack =
      verdict === "failed" && run.autoRollback && ctx.phases.lastPassed(run.name) !== null;
    // The verdict and its notice commit together: a crash cannot record one without the other.
    const updated = ctx.transaction(() =>
      recordVerdict(ctx, run, plan, attempt, now, {
        verdict,
        reason: judgement.reason,
        measure,
        spec,
        reference,
        checks: judgement.checks,
        willRollBack,
        nextIndex,
      }),
    );
    if (verdict === "failed" && willRollBack) return this.rollback(run, updated);
    if (verdict === "passed" && run.autoAdvance && nextPhase) return this.advance(run);
    return { run: run.name, action: verdict, detail: judgement.reason };
  }

  private async advance(run: RunConfig): Promise<TickResult> {
    try {
      const preview = await nextPhaseOperation.preview(this.ctx, run, {});
      const result = await applyPreview(this.ctx, preview, ENGINE_ACTOR);
      return { run: run.name, action: "advanced", detail: result.summary };
    } catch (error) {
      return {
        run: run.name,
        action: "none",
        detail: `auto-advance waits: ${(error as Error).message}`,
      };
    }
  }

  private async rollback(run: RunConfig, failed: PhaseAttempt): Promise<TickResult> {
    const ctx = this.ctx;
    try {
      ctx.assertKnownState(run.name);
      const result = await withChangeLock(
        ctx,
        run.name,
        ENGINE_ACTOR,
        { kind: "rollback", preview: { title: `rollback after ${phaseLabel(failed)}` }, args: {} },
        async () => rollbackWith(ctx, run, await ctx.editor(run).read(), ENGINE_ACTOR, () => {}),
      );
      if (!result.ok) ctx.phases.update(failed.id, { paused: true });
      ctx.notify(
        run.name,
        noticeMessage(
          run.name,
          result.ok && !result.warning ? "warning" : "critical",
          rollbackTitle(result),
          [
            result.summary,
            // The last passed config failing at once means something else changed: say so.
            ...(result.warning ? [result.warning] : []),
            ...result.details,
            result.ok
              ? `${phaseLabel(failed)} is marked failed; /train plan ${run.name} shows where the run stands.`
              : "Fix it by hand, then /train rollback.",
          ],
        ),
        `rollback:${run.name}:${failed.id}`,
      );
      return { run: run.name, action: "rolled-back", detail: result.summary };
    } catch (error) {
      // Do not retry every poll: pause and say so once.
      ctx.phases.update(failed.id, { paused: true });
      ctx.notify(
        run.name,
        noticeMessage(run.name, "critical", "automatic rollback did not run", [
          `${(error as Error).message}`,
          `Roll back by hand with /train rollback ${run.name} once the VM answers.`,
        ]),
        `rollback:${run.name}:${failed.id}`,
      );
      return { run: run.name, action: "none", detail: (error as Error).message };
    }
  }
}

/** The notice title after an automatic rollback. */
function rollbackTitle(result: OperationResult): string {
  if (!result.ok) return "rollback failed";
  return result.warning ? "rolled back, but failing" : "rolled back";
}
