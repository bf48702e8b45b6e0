import { ruleLabel } from "../../alerts/rule-label.ts";
import type { RunConfig } from "../../config/schema.ts";
import { formatDuration } from "../../core/duration.ts";
import {
  formatCount as count,
  formatClock,
  formatDateTime,
  formatMoney,
  formatGiB as gib,
  formatSpan as longSpan,
  formatShare as percent,
  formatSeconds as seconds,
} from "../../message/format.ts";
import type {
  Message,
  MessageField,
  MessageImage,
  ProgressBar,
  Severity,
} from "../../message/message.ts";
import { errorKindLabel } from "../../model/error-kind-labels.ts";
import { gpuMemoryLimitGiB } from "../../model/gpu-memory-limit.ts";
import type { RunSample } from "../../model/monitoring.ts";
import { runCost } from "../../model/run-cost.ts";
import { trainingProgress } from "../../model/training-progress.ts";
import type { SlurmRunStatus } from "../../monitors/slurm/slurm-status.ts";
import { slurmStatusLines } from "../../monitors/slurm/slurm-status-lines.ts";
import type { PlanView } from "../../ops/run-operations.ts";
import type { StoredEvent } from "../../store/events-repo.ts";
import type { FiringAlertView, SilenceView } from "./ports.ts";
import { redactSecrets } from "./redact-secrets.ts";
import type { StoppedBy } from "./stopped-by.ts";

/** Everything `/train status` shows, gathered by the command layer. */
export interface StatusInputs {
  run: RunConfig;
  sample: RunSample;
  /** The newest sample that reached the VM, when the newest did not. */
  lastReachable: RunSample | null;
  plan: PlanView | null;
  /** Why the plan is missing ("no plan configured", a timeout). */
  planNote: string | null;
  lastError: StoredEvent | null;
  firing: FiringAlertView[] | null;
  silences: SilenceView[] | null;
  chart: MessageImage | null;
  now: number;
  /** The run's Slurm job, for runs that name one. */
  slurm?: SlurmRunStatus | null;
  /** When the run's first sample was taken: the start of "cost so far". */
  firstSampleAt?: number | null;
  /** Zone of the clock times shown (the config's `timezone`); UTC when absent. */
  timeZone?: string;
  /** Who stopped training on purpose (`/train stop`), when it was left stopped. */
  stoppedBy?: StoppedBy | null;
}

const GIB = 1024 ** 3;

/** "Stopped by alice at 10:56 UTC (`/train stop`); …": training is down on purpose. */
function stoppedLine(input: StatusInputs): string {
  const stop = input.stoppedBy as StoppedBy;
  return `Stopped by ${stop.by} at ${formatClock(stop.at, input.timeZone)} (\`/train stop\`); \`/train restart\` resumes it.`;
}

/** Builds the `/train status` message: short, exact, numbers with units, what to do next. */
export function buildStatusMessage(input: StatusInputs): Message {
  const { run, now } = input;
  const sample = input.sample.reachable ? input.sample : (input.lastReachable ?? input.sample);
  const lines: string[] = [];
  let severity: Severity = "info";
  if (!input.sample.reachable) {
    severity = "warning";
    lines.push(
      `VM unreachable at the last poll (${ago(now, input.sample.at)}); figures below are from ${input.lastReachable ? ago(now, input.lastReachable.at) : "no earlier poll"}.`,
    );
  } else if (input.slurm && input.slurm.state !== "RUNNING") {
    severity = input.slurm.state === "PENDING" ? "info" : "warning";
    lines.push(...slurmStatusLines(input.slurm));
    if (input.stoppedBy && input.slurm.state !== "PENDING") lines.push(stoppedLine(input));
  } else if (input.sample.alive === false && input.stoppedBy) {
    severity = "warning";
    lines.push(stoppedLine(input));
  } else if (input.sample.alive === false) {
    severity = "critical";
    lines.push(
      "Training process is not running. See `/train errors` and `/train logs`, then `/train restart`.",
    );
  }

  const progress = progressBars(run, sample);
  const stepTime =
    sample.stepTimeSeconds ?? (sample.stepsPerHour ? 3600 / sample.stepsPerHour : null);
  const stepsPerHour = sample.stepsPerHour ?? (stepTime ? 3600 / stepTime : null);
  const fields: MessageField[] = [];
  fields.push({
    name: "Speed",
    value: stepTime
      ? sample.stepTimeObserved
        ? `~${count(stepsPerHour ?? 0)} steps/h, ~${seconds(stepTime)}/step (timed from log arrival)`
        : `${count(stepsPerHour ?? 0)} steps/h, ${seconds(stepTime)}/step`
      : "no step time yet",
    inline: true,
  });
  const geometry = trainingProgress(run, sample);
  if (stepTime && geometry.perEpoch) {
    const epochEta =
      sample.epochEtaSeconds ?? (geometry.perEpoch - geometry.stepInEpoch) * stepTime;
    fields.push({
      name: "Epoch ETA",
      value: `${formatDuration(epochEta * 1000)} (~${longSpan(geometry.perEpoch * stepTime)} per epoch)`,
      inline: true,
    });
  }
  let remainingSeconds: number | null = sample.etaSeconds;
  if (stepTime && geometry.total) {
    const totalEta =
      sample.etaSeconds ?? Math.max(0, geometry.total - geometry.globalStep) * stepTime;
    remainingSeconds = totalEta;
    const epochs = run.steps.epochs ? ` for ${run.steps.epochs} epochs` : "";
    fields.push({
      name: "Total ETA",
      value: `${formatDuration(totalEta * 1000)} (~${longSpan(geometry.total * stepTime)}${epochs})`,
      inline: true,
    });
  } else if (sample.etaSeconds !== null) {
    fields.push({
      name: "Total ETA",
      value: formatDuration(sample.etaSeconds * 1000),
      inline: true,
    });
  }
  if (input.slurm?.state === "RUNNING") {
    fields.push({ name: "Slurm", value: slurmStatusLines(input.slurm).join("\n") });
  }
  const cost = costField(run, input.firstSampleAt ?? null, now, remainingSeconds);
  if (cost) fields.push(cost);
  fields.push(vramField(run, sample));
  const utils = sample.gpus.map((g) => g.utilizationPercent).filter((u): u is number => u !== null);
  fields.push({
    name: "GPU util",
    value: utils.length
      ? sample.gpus.map((g) => `${gpuName(g)} ${g.utilizationPercent ?? "?"}%`).join(", ")
      : "no GPU data",
    inline: true,
  });
  fields.push(hostField(run, sample));
  fields.push(configField(input.plan, sample));
  fields.push(phaseField(input.plan, input.planNote));
  fields.push({
    name: "Last error",
    value: input.lastError
      ? `${errorKindLabel(input.lastError.kind)} ${ago(now, input.lastError.at)}: ${clip(redactSecrets(input.lastError.line), 160)}`
      : "none recorded",
  });
  const alerts = alertsField(input.firing, input.silences, now);
  fields.push(alerts.field);
  if (alerts.worst === "critical") severity = "critical";
  else if (alerts.worst === "warning" && severity === "info") severity = "warning";
  if (!lines.length) lines.push(nextStep(input.plan, alerts.worst));

  const title =
    geometry.total !== null
      ? `${run.name}: step ${count(geometry.globalStep)}/${count(geometry.total)}${geometry.epoch !== null ? `, epoch ${geometry.epoch}${run.steps.epochs ? `/${run.steps.epochs}` : ""}` : ""}`
      : `${run.name}: step ${sample.step === null ? "unknown" : count(sample.step)}`;
  return {
    title,
    severity,
    lines,
    progress,
    fields,
    ...(input.chart ? { images: [input.chart] } : {}),
    footer: `${run.name} · sample ${ago(now, input.sample.at)} · ${formatDateTime(input.sample.at, input.timeZone)}`,
  };
}

/** `GPU0`, or `n2/GPU0` for a job on several nodes. */
function gpuName(gpu: RunSample["gpus"][number]): string {
  return gpu.node ? `${gpu.node}/GPU${gpu.index}` : `GPU${gpu.index}`;
}

function progressBars(run: RunConfig, sample: RunSample): ProgressBar[] {
  const g = trainingProgress(run, sample);
  const bars: ProgressBar[] = [];
  if (g.perEpoch) {
    bars.push({
      label: `Epoch ${g.epoch ?? "?"}`,
      value: g.stepInEpoch,
      max: g.perEpoch,
      caption: `${count(g.stepInEpoch)}/${count(g.perEpoch)} (${percent(g.stepInEpoch, g.perEpoch)})`,
    });
  }
  if (g.total) {
    bars.push({
      label: "Training",
      value: Math.min(g.globalStep, g.total),
      max: g.total,
      caption: `${count(g.globalStep)}/${count(g.total)} (${percent(g.globalStep, g.total)})`,
    });
  }
  return bars;
}

/** "$1,234 so far (37.7 h), $20,987 to finish at $32.77/h", when the run has a price. */
function costField(
  run: RunConfig,
  firstAt: number | null,
  now: number,
  remainingSeconds: number | null,
): MessageField | null {
  const elapsed = firstAt === null ? null : Math.max(0, now - firstAt) / 1000;
  const cost = runCost(run.cost, elapsed, remainingSeconds);
  if (!cost) return null;
  const money = (v: number) => formatMoney(v, cost.currency);
  const parts: string[] = [];
  if (cost.soFar !== null && elapsed !== null)
    parts.push(`${money(cost.soFar)} so far (${longSpan(elapsed)})`);
  parts.push(
    cost.toFinish !== null ? `${money(cost.toFinish)} to finish` : "to finish: no ETA yet",
  );
  return {
    name: "Cost",
    value: `${parts.join(", ")} at ${money(cost.perHour)}/h`,
    inline: true,
  };
}

function vramField(run: RunConfig, sample: RunSample): MessageField {
  const parts = sample.gpus
    .filter((g) => g.memoryUsedMiB !== null)
    .map((g) => {
      const limit = gpuMemoryLimitGiB(run.limits.gpuMemoryGiB, [g]);
      const used = (g.memoryUsedMiB as number) / 1024;
      const mark = limit ? (used < limit ? " ✓" : " ✗") : "";
      return `${gpuName(g)} ${used.toFixed(1)}${limit ? `/${limit.toFixed(limit % 1 ? 1 : 0)}` : ""} GiB${mark}`;
    });
  return { name: "VRAM", value: parts.length ? parts.join(", ") : "no GPU data", inline: true };
}

function hostField(run: RunConfig, sample: RunSample): MessageField {
  const parts: string[] = [];
  const limit =
    run.limits.hostMemoryGiB ?? (sample.hostMemory ? sample.hostMemory.totalBytes / GIB : null);
  if (sample.hostMemory) {
    const used = sample.hostMemory.usedBytes / GIB;
    parts.push(
      `${used.toFixed(1)}/${limit?.toFixed(0)} GiB${limit ? (used < limit ? " ✓" : " ✗") : ""}`,
    );
  }
  if (sample.workers) {
    const n = sample.workers.count;
    parts.push(`${n} worker${n === 1 ? "" : "s"} RSS ${gib(sample.workers.rssBytes)}`);
  }
  if (sample.trainerRssBytes !== null) parts.push(`trainer RSS ${gib(sample.trainerRssBytes)}`);
  return {
    name: "Host RAM",
    value: parts.length ? parts.join(", ") : "no host data",
    inline: true,
  };
}

function configField(plan: PlanView | null, sample: RunSample): MessageField {
  const index = plan?.current?.index ?? 0;
  // After a rollback the run has the last passed phase's config, not the failed one's.
  const rolledBack = plan?.current?.state.includes("rolled back") ?? false;
  const phase = rolledBack
    ? plan?.phases.filter((p) => p.state === "passed").at(-1)
    : plan?.phases.find((p) => p.index === index);
  const workers = phase?.workers ?? sample.workers?.count ?? null;
  const batch = phase?.batch ?? null;
  return {
    name: "Config",
    value: `workers ${workers ?? "?"}, batch ${batch ?? "?"}`,
    inline: true,
  };
}

function phaseField(plan: PlanView | null, note: string | null): MessageField {
  if (!plan) return { name: "Phase", value: note ?? "no plan" };
  if (!plan.current)
    return {
      name: `Phase (${plan.planName})`,
      value: "baseline; `/train next-phase` starts Phase 1",
    };
  const head = `${plan.current.name}, ${plan.current.state}`;
  return { name: `Phase (${plan.planName})`, value: [head, ...plan.criteria].join("\n") };
}

function alertsField(
  firing: FiringAlertView[] | null,
  silences: SilenceView[] | null,
  now: number,
): { field: MessageField; worst: Severity | null } {
  if (firing === null)
    return { field: { name: "Alerts", value: "alerting not connected" }, worst: null };
  const lines = firing.map(
    (a) =>
      `${a.severity === "critical" ? "🔴" : a.severity === "warning" ? "🟠" : "🔵"} ${ruleLabel(a.rule)}: ${a.summary} (firing ${formatDuration(now - a.since)})`,
  );
  for (const s of silences ?? []) {
    lines.push(
      `🔇 ${s.rule ? ruleLabel(s.rule) : "all alerts"} muted for ${formatDuration(s.until - now)} by ${s.createdBy}: ${s.reason}`,
    );
  }
  const worst = firing.some((a) => a.severity === "critical")
    ? "critical"
    : firing.some((a) => a.severity === "warning")
      ? "warning"
      : null;
  return {
    field: { name: "Alerts", value: lines.length ? lines.join("\n") : "none firing" },
    worst,
  };
}

function nextStep(plan: PlanView | null, worst: Severity | null): string {
  if (worst === "critical") return "Next: look at `/train errors` and `/train logs`.";
  if (worst === "warning") return "Next: see the alerts below; `/train mute` one you expect.";
  if (plan?.current?.state === "passed")
    return "Phase passed. Next: `/train next-phase` when you are ready.";
  if (plan?.current?.state === "failed")
    return "Phase failed. Next: `/train plan` for the evidence, `/train rollback` if it did not roll back.";
  if (plan?.current?.state === "inconclusive")
    return "Phase inconclusive: decide with `/train plan`, then `/train next-phase` or `/train rollback`.";
  return "Training runs. Next: `/train plan` for the phase plan.";
}

function ago(now: number, at: number): string {
  return `${formatDuration(Math.max(0, now - at))} ago`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
