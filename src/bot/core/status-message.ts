import type { RunConfig } from "../../config/schema.ts";
import { formatDuration } from "../../core/duration.ts";
import type {
  Message,
  MessageField,
  MessageImage,
  ProgressBar,
  Severity,
} from "../../message/message.ts";
import { gpuMemoryLimitGiB } from "../../model/gpu-memory-limit.ts";
import type { RunSample } from "../../model/monitoring.ts";
import type { PlanView } from "../../ops/run-operations.ts";
import type { StoredEvent } from "../../store/events-repo.ts";
import { count, gib, longSpan, percent, seconds } from "./number-format.ts";
import type { FiringAlertView, SilenceView } from "./ports.ts";
import { redactSecrets } from "./redact-secrets.ts";

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
}

const GIB = 1024 ** 3;

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
  const geometry = epochGeometry(run, sample);
  if (stepTime && geometry.perEpoch) {
    const epochEta =
      sample.epochEtaSeconds ?? (geometry.perEpoch - geometry.stepInEpoch) * stepTime;
    fields.push({
      name: "Epoch ETA",
      value: `${formatDuration(epochEta * 1000)} (~${longSpan(geometry.perEpoch * stepTime)} per epoch)`,
      inline: true,
    });
  }
  if (stepTime && geometry.total) {
    const totalEta =
      sample.etaSeconds ?? Math.max(0, geometry.total - geometry.globalStep) * stepTime;
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
  fields.push(vramField(run, sample));
  const utils = sample.gpus.map((g) => g.utilizationPercent).filter((u): u is number => u !== null);
  fields.push({
    name: "GPU util",
    value: utils.length
      ? sample.gpus.map((g) => `GPU${g.index} ${g.utilizationPercent ?? "?"}%`).join(", ")
      : "no GPU data",
    inline: true,
  });
  fields.push(hostField(run, sample));
  fields.push(configField(input.plan, sample));
  fields.push(phaseField(input.plan, input.planNote));
  fields.push({
    name: "Last error",
    value: input.lastError
      ? `${input.lastError.kind} ${ago(now, input.lastError.at)}: ${clip(redactSecrets(input.lastError.line), 160)}`
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
    footer: `${run.name} · sample ${ago(now, input.sample.at)} · ${new Date(input.sample.at).toISOString().slice(0, 16).replace("T", " ")} UTC`,
  };
}

interface EpochGeometry {
  perEpoch: number | null;
  total: number | null;
  globalStep: number;
  stepInEpoch: number;
  epoch: number | null;
}

/** Where the run is in its epoch and its whole training, from the config and the log. */
function epochGeometry(run: RunConfig, sample: RunSample): EpochGeometry {
  const step = sample.step ?? 0;
  const perEpoch = run.steps.perEpoch ?? null;
  if (perEpoch === null) {
    return {
      perEpoch: null,
      total: sample.totalSteps,
      globalStep: step,
      stepInEpoch: step,
      epoch: sample.epoch,
    };
  }
  // Loggers count steps either across the whole run or within the epoch; both are seen.
  const withinEpochCounter = sample.epoch !== null && sample.epoch > 1 && step < perEpoch;
  const globalStep = withinEpochCounter ? ((sample.epoch as number) - 1) * perEpoch + step : step;
  const stepInEpoch = globalStep % perEpoch;
  const epoch = sample.epoch ?? Math.floor(globalStep / perEpoch) + 1;
  const total = run.steps.epochs ? perEpoch * run.steps.epochs : sample.totalSteps;
  return { perEpoch, total, globalStep, stepInEpoch, epoch };
}

function progressBars(run: RunConfig, sample: RunSample): ProgressBar[] {
  const g = epochGeometry(run, sample);
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

function vramField(run: RunConfig, sample: RunSample): MessageField {
  const parts = sample.gpus
    .filter((g) => g.memoryUsedMiB !== null)
    .map((g) => {
      const limit = gpuMemoryLimitGiB(run.limits.gpuMemoryGiB, [g]);
      const used = (g.memoryUsedMiB as number) / 1024;
      const mark = limit ? (used < limit ? " ✓" : " ✗") : "";
      return `GPU${g.index} ${used.toFixed(1)}${limit ? `/${limit.toFixed(limit % 1 ? 1 : 0)}` : ""} GiB${mark}`;
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
      `${a.severity === "critical" ? "🔴" : a.severity === "warning" ? "🟠" : "🔵"} ${a.rule}: ${a.summary} (firing ${formatDuration(now - a.since)})`,
  );
  for (const s of silences ?? []) {
    lines.push(
      `🔇 ${s.rule ?? "all rules"} muted for ${formatDuration(s.until - now)} by ${s.createdBy}: ${s.reason}`,
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
