import {
  formatCount as count,
  formatDateTime,
  formatMoney,
  formatSeconds,
  formatSpan,
} from "../../message/format.ts";
import type { Message, MessageField } from "../../message/message.ts";
import type { DigestReport, RunDigest } from "./digest-report.ts";

/** How many rules a run's alert line names before "and N more". */
const NOTABLE = 3;

function plural(n: number, word: string): string {
  return `${count(n)} ${word}${n === 1 ? "" : "s"}`;
}

function stepsLine(run: RunDigest): string {
  if (run.stepTo === null) return "Steps: no poll with a step yet";
  const of = run.totalSteps !== null ? ` of ${count(run.totalSteps)}` : "";
  const done = run.done !== null ? `, ${(run.done * 100).toFixed(1)}% done` : "";
  if (run.stepFrom === null || run.stepFrom === run.stepTo) {
    return `Steps: ${count(run.stepTo)}${of}, no progress in this span${done}`;
  }
  const gained = run.stepTo - run.stepFrom;
  const sign = gained >= 0 ? "+" : "−";
  return `Steps: ${count(run.stepFrom)} → ${count(run.stepTo)}${of} (${sign}${count(Math.abs(gained))}${done})`;
}

function speedLine(run: RunDigest, timeZone: string | undefined, now: number): string | null {
  if (run.stepTimeSeconds === null) return null;
  const speed = `Speed: ${count(run.stepsPerHour ?? 3600 / run.stepTimeSeconds)} steps/h (${formatSeconds(run.stepTimeSeconds)}/step)`;
  if (run.etaSeconds === null) return `${speed}, no ETA (total steps unknown)`;
  const at = (run.lastProgressAt ?? now) + run.etaSeconds * 1000;
  const moved = run.finishMovedSeconds;
  // Under an hour either way is noise from when the polls fell.
  const shift =
    moved !== null && Math.abs(moved) >= 3600
      ? `; finish ${formatSpan(Math.abs(moved))} ${moved > 0 ? "later" : "earlier"} than at the span's start`
      : "";
  return `${speed}, ETA ${formatSpan(run.etaSeconds)} (${formatDateTime(at, timeZone)})${shift}`;
}

function phasesLine(run: RunDigest): string | null {
  if (run.phases.length === 0) return null;
  return `Phases: ${run.phases
    .map((p) => `${p.kind === "phase" ? `Phase ${p.index} (${p.name})` : p.name} ${p.result}`)
    .join(", ")}`;
}

function alertsLine(run: RunDigest): string {
  const { fired, resolved, firingNow, byRule } = run.alerts;
  const now = firingNow ? `; ${count(firingNow)} firing now` : "";
  if (fired === 0 && resolved === 0) return `Alerts: none fired${now}`;
  const named = byRule
    .slice(0, NOTABLE)
    .map((g) => `${g.label}${g.fired > 1 ? ` ×${g.fired}` : ""}`)
    .join(", ");
  const more = byRule.length > NOTABLE ? ` and ${byRule.length - NOTABLE} more` : "";
  return `Alerts: ${count(fired)} fired, ${count(resolved)} resolved (${named}${more})${now}`;
}

function costLine(run: RunDigest): string | null {
  const cost = run.cost;
  if (!cost) return null;
  const money = (v: number) => formatMoney(v, cost.currency);
  const soFar = cost.soFar !== null ? `${money(cost.soFar)} so far` : "nothing yet";
  const toFinish = cost.toFinish !== null ? `, ${money(cost.toFinish)} to finish` : "";
  return `Cost: ${soFar}${toFinish} at ${money(cost.perHour)}/h`;
}

/**
 * The digest as one message: a line of totals, then one field per run with its steps, speed and
 * ETA, phase results, alerts and cost; numbers with units, times in `timeZone`.
 */
export function digestMessage(
  report: DigestReport,
  options: { timeZone?: string | undefined; heading?: string } = {},
): Message {
  const { timeZone } = options;
  const span = formatSpan((report.to - report.from) / 1000);
  const fired = report.runs.reduce((n, r) => n + r.alerts.fired, 0);
  const resolved = report.runs.reduce((n, r) => n + r.alerts.resolved, 0);
  const phases = report.runs.reduce((n, r) => n + r.phases.length, 0);
  const firing = report.runs.reduce((n, r) => n + r.alerts.firingNow, 0);
  const fields: MessageField[] = report.runs.map((run) => ({
    name: run.run,
    value: [
      stepsLine(run),
      speedLine(run, timeZone, report.to),
      phasesLine(run),
      alertsLine(run),
      costLine(run),
    ]
      .filter((line): line is string => line !== null)
      .join("\n"),
  }));
  const totals = [
    plural(report.runs.length, "run"),
    `${plural(fired, "alert")} fired, ${count(resolved)} resolved`,
    ...(phases ? [plural(phases, "phase result")] : []),
  ].join(" · ");
  const next = firing
    ? "Next: `/train status <run>` for the alerts still firing."
    : "Next: `/train status <run>` for details.";
  return {
    title: `${options.heading ?? "Digest"}: last ${span}, to ${formatDateTime(report.to, timeZone)}`,
    severity: "info",
    lines: [totals, next],
    fields,
    footer: `since ${formatDateTime(report.from, timeZone)}`,
    scheduled: true,
  };
}

/** The digest as `trainops digest --json` prints it: times as ISO strings, figures as numbers. */
export function digestJson(report: DigestReport): unknown {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    from: iso(report.from),
    to: iso(report.to),
    runs: report.runs.map((run) => ({
      run: run.run,
      steps: {
        from: run.stepFrom,
        to: run.stepTo,
        gained: run.stepFrom !== null && run.stepTo !== null ? run.stepTo - run.stepFrom : null,
        total: run.totalSteps,
        percentDone: run.done === null ? null : run.done * 100,
      },
      stepsPerHour: run.stepsPerHour,
      stepTimeSeconds: run.stepTimeSeconds,
      etaSeconds: run.etaSeconds,
      finishMovedSeconds: run.finishMovedSeconds,
      lastProgressAt: iso(run.lastProgressAt),
      phases: run.phases.map((p) => ({ ...p, at: iso(p.at) })),
      alerts: run.alerts,
      cost: run.cost,
    })),
  };
}
