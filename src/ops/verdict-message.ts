import type { RunConfig } from "../config/schema.ts";
import { verdictButtons } from "../message/action-buttons.ts";
import {
  formatFactor,
  formatGiBValue,
  formatMoney,
  formatSeconds,
  formatSpan,
} from "../message/format.ts";
import type { Message } from "../message/message.ts";
import type { PhaseAttempt } from "../store/phases-repo.ts";
import { type Check, type PhaseMeasure, ramLabel, verdictCheckLines } from "./criteria.ts";
import type { PhaseCriteria, PlanPhase } from "./plan-schema.ts";

/** The label of a phase attempt for people: "Phase 2", "Baseline", "Manual change". */
export function phaseLabel(attempt: Pick<PhaseAttempt, "kind" | "phaseIndex">): string {
  if (attempt.kind === "baseline") return "Baseline";
  if (attempt.kind === "manual") return "Manual change";
  return `Phase ${attempt.phaseIndex}`;
}

/** "Phase 3 (workers 4, medium risk)". */
export function nextLabel(
  index: number,
  phase: PlanPhase,
  keys: { workers: string; batch: string },
): string {
  const parts: string[] = [];
  const w = phase.set[keys.workers];
  const b = phase.set[keys.batch];
  if (w !== undefined) parts.push(`workers ${w}`);
  if (b !== undefined) parts.push(`batch ${b}`);
  for (const [key, value] of Object.entries(phase.set))
    if (key !== keys.workers && key !== keys.batch) parts.push(`${key.split(".").pop()} ${value}`);
  return `Phase ${index} (${[...parts.slice(0, 3), `${phase.risk} risk`].join(", ")})`;
}

/**
 * The one-line summary of a measured phase, each figure with its bound apart: "9.4 s/step (was
 * 18.1 s, 1.9x faster), VRAM peak 77.6 GiB (needs < 80 GiB), training RSS peak 28.0 GiB (needs
 * < 100 GiB), 150 steps".
 */
export function measureSummary(
  m: PhaseMeasure,
  criteria: PhaseCriteria | null,
  reference: { stepTimeSeconds: number | null } | null,
): string {
  const parts: string[] = [];
  if (m.stepTimeSeconds !== null) {
    const was = reference?.stepTimeSeconds ?? null;
    const ratio = was ? was / m.stepTimeSeconds : null;
    parts.push(
      was && ratio !== null
        ? `${formatSeconds(m.stepTimeSeconds)}/step (was ${formatSeconds(was)}, ${formatFactor(ratio >= 1 ? ratio : 1 / ratio)} ${ratio >= 1 ? "faster" : "slower"})`
        : `${formatSeconds(m.stepTimeSeconds)}/step`,
    );
  }
  // Without a step in the phase the memory figures are an idle GPU's: they would mislead.
  const ran = m.steps > 0;
  if (ran && m.vramPeakGiB !== null)
    parts.push(
      `VRAM peak ${formatGiBValue(m.vramPeakGiB)}${criteria?.maxVramGiB ? ` (needs < ${criteria.maxVramGiB} GiB)` : ""}`,
    );
  if (ran && m.ramPeakGiB !== null)
    parts.push(
      `${ramLabel(m.ramSource)} ${formatGiBValue(m.ramPeakGiB)}${criteria?.maxHostRamGiB ? ` (needs < ${criteria.maxHostRamGiB} GiB)` : ""}`,
    );
  if (m.gpuUtilMeanPercent !== null && criteria?.minGpuUtilPercent !== undefined)
    parts.push(
      `GPU util ${Math.round(m.gpuUtilMeanPercent)}% (needs > ${criteria.minGpuUtilPercent}%)`,
    );
  parts.push(`${m.evalSteps} steps`);
  return parts.join(", ");
}

export interface VerdictInput {
  run: string;
  attempt: PhaseAttempt;
  verdict: "passed" | "failed" | "inconclusive";
  reason: string;
  measure: PhaseMeasure;
  criteria: PhaseCriteria | null;
  reference: { stepTimeSeconds: number | null } | null;
  checks: Check[];
  /** "Phase 3 (workers 4, medium risk)", or null at the end of the plan. */
  next: string | null;
  autoAdvance: boolean;
  /** What happens after a failure: "Rolling back to Phase 2's config and restarting." */
  afterward?: string;
  /** Steps left in the training and the machine's price, for "time and cost to finish". */
  finish?: { remainingSteps: number; cost: RunConfig["cost"] };
}

/**
 * "8.4 days → 6.3 days, saves $1,650" (after "Time to finish: "): the rest of the training at the reference's
 * pace and at this phase's, and what the difference is worth at the run's price.
 */
export function finishLine(
  input: Pick<VerdictInput, "measure" | "reference" | "finish">,
): string | null {
  const now = input.measure.stepTimeSeconds;
  if (!input.finish || now === null || input.finish.remainingSteps <= 0) return null;
  const left = input.finish.remainingSteps;
  const after = left * now;
  const was = input.reference?.stepTimeSeconds ?? null;
  const cost = input.finish.cost;
  const money = (seconds: number) =>
    cost ? formatMoney((seconds / 3600) * cost.perHour, cost.currency) : null;
  if (was === null) {
    const price = money(after);
    return `${formatSpan(after)}${price ? ` (${price})` : ""} at this pace.`;
  }
  const before = left * was;
  const delta = money(Math.abs(before - after));
  const effect =
    delta === null ? "" : before >= after ? `, saves ${delta}` : `, costs ${delta} more`;
  return `${formatSpan(before)} → ${formatSpan(after)}${effect}.`;
}

/** Ends a reason with one full stop; a quoted log line may already end with one or with "…". */
function sentence(text: string): string {
  return /[.…!?]$/.test(text.trimEnd()) ? text.trimEnd() : `${text.trimEnd()}.`;
}

/** The message a verdict sends. */
export function verdictMessage(input: VerdictInput): Message {
  const label = phaseLabel(input.attempt);
  const summary = measureSummary(input.measure, input.criteria, input.reference);
  const lines: string[] = [];
  let severity: Message["severity"];
  if (input.verdict === "passed") {
    severity = "success";
    const head = input.attempt.kind === "baseline" ? "Baseline measured" : `${label} passed`;
    lines.push(
      `${head}: ${summary}.${input.next ? ` Next: ${input.next}` : " The plan is complete."}`,
    );
    const finish = finishLine(input);
    if (finish) lines.push(`Time to finish: ${finish}`);
    if (input.next)
      lines.push(
        input.autoAdvance
          ? "autoAdvance is on: applying the next phase now."
          : `To continue: /train next-phase ${input.run} (or trainops next-phase --run ${input.run}).`,
      );
  } else if (input.verdict === "failed") {
    severity = "critical";
    lines.push(`${label} failed: ${sentence(input.reason)} Measured: ${summary}.`);
    lines.push(input.afterward ?? `Roll back with /train rollback ${input.run}.`);
  } else {
    severity = "warning";
    lines.push(`${label} inconclusive: ${sentence(input.reason)} Measured: ${summary}.`);
    lines.push(
      `Paused. Check the VM, then retry with /train next-phase ${input.run} or go back with /train rollback ${input.run}.`,
    );
  }
  return {
    title: `${input.run}: ${input.attempt.kind === "baseline" ? "baseline measured" : `${label} ${input.verdict}`}${input.attempt.kind === "phase" ? ` (${input.attempt.name})` : ""}`,
    severity,
    lines,
    fields: [{ name: "Criteria", value: verdictCheckLines(input.checks).join("\n") }],
    buttons:
      input.attempt.kind === "manual"
        ? verdictButtons(input.run, input.attempt.phaseIndex, input.verdict, {
            hasNext: false,
            rolledBack: true,
          }).filter((b) => !b.id.includes("|retry|"))
        : verdictButtons(input.run, input.attempt.phaseIndex, input.verdict, {
            hasNext: input.next !== null && !input.autoAdvance,
            rolledBack: input.afterward !== undefined,
          }),
    footer: `run ${input.run} · attempt ${input.attempt.id}`,
  };
}

/** A short message for an operation's outcome (rollback after a failure, a failed restart). */
export function noticeMessage(
  run: string,
  severity: Message["severity"],
  title: string,
  lines: string[],
): Message {
  return { title: `${run}: ${title}`, severity, lines, footer: `run ${run}` };
}
