import type { RunConfig } from "../../config/schema.ts";
import type { Severity } from "../../message/message.ts";
import { type RunCost, runCost } from "../../model/run-cost.ts";
import { trainingProgress } from "../../model/training-progress.ts";
import type { DigestFactsRepo, ProgressPoint } from "../../store/digest-facts-repo.ts";
import type { PhasesRepo } from "../../store/phases-repo.ts";
import type { SamplesRepo } from "../../store/samples-repo.ts";
import { RULES } from "../rules/index.ts";

/** A phase verdict reached within the digest's span. */
export interface DigestPhaseResult {
  /** phase: a plan phase; manual: a change made with `set`. */
  kind: "phase" | "manual";
  index: number;
  name: string;
  /** passed, failed or inconclusive; "rolled back" when it was rolled back in the span. */
  result: string;
  at: number;
  reason: string | null;
}

/** Alerts of one rule within the span. */
export interface DigestAlertGroup {
  rule: string;
  /** The rule for people: "GPU idle", "CUDA OOM". */
  label: string;
  severity: Severity;
  fired: number;
  resolved: number;
}

/** One run's part of a digest. */
export interface RunDigest {
  run: string;
  /** Global steps at the start and end of the span (null: no poll with a step). */
  stepFrom: number | null;
  stepTo: number | null;
  /** Steps of the whole training, when known. */
  totalSteps: number | null;
  /** Share of the training done at the end of the span (0..1), when the total is known. */
  done: number | null;
  stepsPerHour: number | null;
  stepTimeSeconds: number | null;
  /** Seconds to the end of the training at the current speed, when known. */
  etaSeconds: number | null;
  /** When the newest poll with a step was taken. */
  lastProgressAt: number | null;
  /**
   * How far the expected finish moved over the span, in seconds (positive: later), from the
   * ETA at its start to the ETA at its end; null when either is unknown.
   */
  finishMovedSeconds: number | null;
  phases: DigestPhaseResult[];
  alerts: {
    fired: number;
    resolved: number;
    /** Firing at the end of the span. */
    firingNow: number;
    /** By rule, the most severe and most frequent first. */
    byRule: DigestAlertGroup[];
  };
  /** Null when the run has no `cost:` configured. */
  cost: RunCost | null;
}

/** A digest: every run's progress, phases, alerts and cost over `from <= t < to`. */
export interface DigestReport {
  from: number;
  to: number;
  runs: RunDigest[];
}

/** The stores a digest reads. */
export interface DigestSources {
  facts: DigestFactsRepo;
  phases: Pick<PhasesRepo, "list">;
  samples: Pick<SamplesRepo, "firstAt">;
}

const RANK: Record<Severity, number> = { critical: 3, warning: 2, info: 1, success: 0 };

/** The rule's label for people; an unknown rule reads as its words. */
export function ruleLabel(rule: string): string {
  return RULES.find((r) => r.name === rule)?.label ?? rule.replace(/_/g, " ");
}

/** Builds the digest of `runs` over `from..to` from the store. */
export function buildDigest(
  sources: DigestSources,
  runs: readonly RunConfig[],
  from: number,
  to: number,
): DigestReport {
  return { from, to, runs: runs.map((run) => runDigest(sources, run, from, to)) };
}

function runDigest(sources: DigestSources, run: RunConfig, from: number, to: number): RunDigest {
  const start =
    sources.facts.progressAtOrBefore(run.name, from) ??
    sources.facts.progressAfter(run.name, from, to);
  const end = sources.facts.progressAtOrBefore(run.name, to);
  const global = (p: ProgressPoint) => trainingProgress(run, p);
  const endProgress = end ? global(end) : null;
  const total = endProgress?.total ?? null;
  const stepTime =
    end?.stepTimeSeconds ?? (end?.stepsPerHour ? 3600 / end.stepsPerHour : null) ?? null;
  const stepsPerHour = end?.stepsPerHour ?? (stepTime ? 3600 / stepTime : null);
  const eta = end ? etaOf(run, end) : null;
  const startEta = start && start !== end ? etaOf(run, start) : null;
  const finishMoved =
    end && start && eta !== null && startEta !== null
      ? (end.at + eta * 1000 - (start.at + startEta * 1000)) / 1000
      : null;
  const firstAt = sources.samples.firstAt(run.name);
  const elapsed = firstAt === null || firstAt > to ? null : (to - firstAt) / 1000;
  return {
    run: run.name,
    stepFrom: start ? global(start).globalStep : null,
    stepTo: endProgress?.globalStep ?? null,
    totalSteps: total,
    done: endProgress && total ? Math.min(1, endProgress.globalStep / total) : null,
    stepsPerHour,
    stepTimeSeconds: stepTime,
    etaSeconds: eta,
    lastProgressAt: end?.at ?? null,
    finishMovedSeconds: finishMoved,
    phases: phaseResults(sources, run.name, from, to),
    alerts: alertSummary(sources, run.name, from, to),
    cost: runCost(run.cost, elapsed, eta),
  };
}

/** Seconds to the end of the training as seen at `point`: the log's ETA, else steps left × step time. */
function etaOf(run: RunConfig, point: ProgressPoint): number | null {
  if (point.etaSeconds !== null) return point.etaSeconds;
  const progress = trainingProgress(run, point);
  const stepTime = point.stepTimeSeconds ?? (point.stepsPerHour ? 3600 / point.stepsPerHour : null);
  if (progress.total === null || !stepTime) return null;
  return Math.max(0, progress.total - progress.globalStep) * stepTime;
}

function phaseResults(
  sources: DigestSources,
  run: string,
  from: number,
  to: number,
): DigestPhaseResult[] {
  const within = (at: number | null): at is number => at !== null && at >= from && at < to;
  const results: DigestPhaseResult[] = [];
  for (const attempt of sources.phases.list(run)) {
    if (attempt.kind === "baseline") continue;
    const kind = attempt.kind;
    const decided = ["passed", "failed", "inconclusive"].includes(attempt.state);
    if (decided && within(attempt.endedAt)) {
      results.push({
        kind,
        index: attempt.phaseIndex,
        name: attempt.name,
        result: attempt.state,
        at: attempt.endedAt,
        reason: attempt.reason,
      });
    }
    if (within(attempt.rolledBackAt)) {
      results.push({
        kind,
        index: attempt.phaseIndex,
        name: attempt.name,
        result: "rolled back",
        at: attempt.rolledBackAt,
        reason: attempt.reason,
      });
    }
  }
  return results.sort((a, b) => a.at - b.at);
}

function alertSummary(
  sources: DigestSources,
  run: string,
  from: number,
  to: number,
): RunDigest["alerts"] {
  const within = (at: number | null) => at !== null && at >= from && at < to;
  const groups = new Map<string, DigestAlertGroup>();
  let fired = 0;
  let resolved = 0;
  for (const alert of sources.facts.alertsWithin(run, from, to)) {
    const group = groups.get(alert.rule) ?? {
      rule: alert.rule,
      label: ruleLabel(alert.rule),
      severity: alert.severity,
      fired: 0,
      resolved: 0,
    };
    if (RANK[alert.severity] > RANK[group.severity]) group.severity = alert.severity;
    if (within(alert.firedAt)) {
      group.fired++;
      fired++;
    }
    if (within(alert.resolvedAt)) {
      group.resolved++;
      resolved++;
    }
    groups.set(alert.rule, group);
  }
  const byRule = [...groups.values()].sort(
    (a, b) => RANK[b.severity] - RANK[a.severity] || b.fired - a.fired || b.resolved - a.resolved,
  );
  return { fired, resolved, firingNow: sources.facts.firingCount(run), byRule };
}
