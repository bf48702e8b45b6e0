import { chartFor } from "../../charts/chart-for.ts";
import {
  formatMoney,
  formatShortDateTime,
  formatSpan as longSpan,
  formatSeconds as seconds,
  zoneName,
} from "../../message/format.ts";
import type { Message } from "../../message/message.ts";
import { errorKindLabel } from "../../model/error-kind-labels.ts";
import { remainingSteps, trainingProgress } from "../../model/training-progress.ts";
import { readSlurmStatus } from "../../monitors/slurm/slurm-status.ts";
import type { PlanView } from "../../ops/run-operations.ts";
import { parseArguments, usage } from "./command-arguments.ts";
import type { CommandContext } from "./command-context.ts";
import { planChart } from "./plan-chart.ts";
import { keepTail, redactSecrets } from "./redact-secrets.ts";
import { buildStatusMessage } from "./status-message.ts";
import { stoppedBy } from "./stopped-by.ts";
import { SUBCOMMAND_SPECS } from "./subcommand-specs.ts";

/** Longest log tail shown; leaves room for the fence and the title in Discord's 2000 chars. */
export const LOG_TAIL_MAX_CHARS = 1800;

/** `/train status`. */
export async function statusCommand(ctx: CommandContext): Promise<Message> {
  const { db } = ctx.options;
  const name = ctx.run.name;
  const sample = db.samples.latest(name);
  if (!sample) {
    return {
      title: `${name}: no data yet`,
      severity: "info",
      lines: [
        `No samples yet for ${name}: the first poll runs within 30 s. Check with \`trainops poll --once\`.`,
      ],
    };
  }
  const now = ctx.now();
  const windowMs = ctx.options.statusChartWindowMs ?? 24 * 3_600_000;
  const [planResult, firing, silences, chart] = await Promise.all([
    planWithin(ctx),
    ctx.options.alerts
      ? Promise.resolve(ctx.options.alerts.listFiring(name))
      : Promise.resolve(null),
    ctx.options.alerts
      ? Promise.resolve(ctx.options.alerts.listSilences(name))
      : Promise.resolve(null),
    chartFor(ctx.options, ctx.run, now - windowMs, now, undefined, `${name}-status.png`),
  ]);
  return buildStatusMessage({
    run: ctx.run,
    sample,
    lastReachable: sample.reachable ? sample : db.samples.latestReachable(name),
    plan: planResult.plan,
    planNote: planResult.note,
    lastError: db.events.latestError(name),
    firing,
    silences,
    chart,
    now,
    slurm: db.slurmJobs ? readSlurmStatus(db.slurmJobs, name) : null,
    timeZone: ctx.options.config.timezone,
    firstSampleAt: db.samples.firstAt(name),
    stoppedBy: stoppedBy(db.audit, name),
  });
}

/** The plan view, or a note saying why not, without holding the reply past the deadline. */
async function planWithin(
  ctx: CommandContext,
): Promise<{ plan: PlanView | null; note: string | null }> {
  if (!ctx.run.plan) return { plan: null, note: "no plan configured (set `plan:` on the run)" };
  const timeoutMs = ctx.options.planTimeoutMs ?? 1500;
  let timer: NodeJS.Timeout | undefined;
  try {
    const plan = await Promise.race([
      ctx.options.operations.plan(ctx.run.name),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { plan, note: null };
  } catch (error) {
    return { plan: null, note: `plan unavailable: ${redactSecrets((error as Error).message)}` };
  } finally {
    clearTimeout(timer);
  }
}

/** `/train plan`. */
export async function planCommand(ctx: CommandContext): Promise<Message> {
  const view = await ctx.options.operations.plan(ctx.run.name);
  const fmt = (v: number | null, f: (n: number) => string) => (v === null ? "-" : f(v));
  // "Cost to finish": the steps still to go at each phase's step time, at the run's price.
  const cost = ctx.run.cost;
  const latest = ctx.options.db.samples.latest(ctx.run.name);
  const good = latest?.reachable ? latest : ctx.options.db.samples.latestReachable(ctx.run.name);
  const left = good ? remainingSteps(trainingProgress(ctx.run, good)) : null;
  const toFinish = (step: number | null) =>
    cost && step !== null && left !== null
      ? formatMoney(((left * step) / 3600) * cost.perHour, cost.currency)
      : "-";
  const current = view.current
    ? `Now: ${view.current.name} (${view.current.state}).`
    : "Now: baseline (phase 0). `/train next-phase` starts Phase 1.";
  const chart = await planChart(ctx, view);
  return {
    title: `${view.run}: ${view.planName}`,
    severity: "info",
    lines: [current, ...view.criteria],
    ...(chart ? { images: [chart] } : {}),
    table: {
      columns: [
        "Phase",
        "Risk",
        "Workers",
        "Batch",
        "Step time",
        "Epoch",
        "Total",
        ...(cost ? ["Cost to finish"] : []),
        "Speedup",
        "State",
      ],
      rows: view.phases.map((p) => [
        p.index === 0 ? "0 baseline" : `${p.index} ${p.name}`,
        p.risk,
        fmt(p.workers, String),
        fmt(p.batch, String),
        fmt(p.stepTimeSeconds, seconds),
        fmt(p.epochTimeSeconds, longSpan),
        fmt(p.totalTimeSeconds, longSpan),
        ...(cost ? [toFinish(p.stepTimeSeconds)] : []),
        fmt(p.speedup, (s) => `${s.toFixed(1)}x`),
        p.state,
      ]),
    },
    footer: `${view.run} · plan`,
  };
}

/** `/train logs`. */
export async function logsCommand(ctx: CommandContext): Promise<Message> {
  const { lines } = parseArguments(
    ctx.spec as typeof ctx.spec & { name: "logs" },
    ctx.request.args,
  );
  if (!ctx.options.logs) {
    return {
      title: "Logs unavailable",
      severity: "warning",
      lines: ["This bot has no connection to read logs from."],
      ephemeral: true,
    };
  }
  const raw = (await ctx.options.logs.tail(ctx.run.name, lines)).replace(/\n+$/, "");
  const { text, droppedLines } = keepTail(
    redactSecrets(raw).replace(/```/g, "'''"),
    LOG_TAIL_MAX_CHARS,
  );
  const shown = text === "" ? 0 : text.split("\n").length;
  return {
    title: `${ctx.run.name}: last ${shown} lines of ${ctx.run.log ?? "the Slurm job's output"}`,
    severity: "info",
    code: text.length ? text : "(the log is empty)",
    lines: droppedLines
      ? [`${droppedLines} older lines cut to fit; ask for fewer lines or read the file on the VM.`]
      : [],
    footer: "secrets and tokens redacted",
  };
}

/** `/train errors`. */
export async function errorsCommand(ctx: CommandContext): Promise<Message> {
  const events = ctx.options.db.events.recent(ctx.run.name, 10);
  if (!events.length) {
    return {
      title: `${ctx.run.name}: no errors recorded`,
      severity: "success",
      lines: ["No OOM, crash or traceback seen in the log or kernel messages."],
    };
  }
  return {
    title: `${ctx.run.name}: ${events.length === 1 ? "last error" : `last ${events.length} errors`}`,
    severity: events.some((e) =>
      ["cuda_oom", "host_oom_kill", "worker_killed", "gpu_fault"].includes(e.kind),
    )
      ? "critical"
      : "warning",
    table: {
      columns: [
        `When (${zoneName(ctx.now(), ctx.options.config.timezone)})`,
        "Kind",
        "Source",
        "Line",
      ],
      rows: events.map((e) => [
        formatShortDateTime(e.at, ctx.options.config.timezone),
        errorKindLabel(e.kind),
        e.source,
        clip(redactSecrets(e.line), 120),
      ]),
    },
    lines: ["Next: `/train logs` for context."],
  };
}

/** `/train chart`. */
export async function chartCommand(ctx: CommandContext): Promise<Message> {
  const { metric, window } = parseArguments(
    ctx.spec as typeof ctx.spec & { name: "chart" },
    ctx.request.args,
  );
  const now = ctx.now();
  // The title names the span the picture shows: a young run has less data than the window.
  const first = ctx.options.db.samples.firstAt(ctx.run.name);
  const shown = first !== null && first > now - window ? now - first : window;
  const span =
    shown < window
      ? `last ${longSpan(shown / 1000)} (all the data there is; ${longSpan(window / 1000)} asked)`
      : `last ${longSpan(window / 1000)}`;
  const title = `${ctx.run.name}: ${metric ?? "overview"}, ${span}`;
  const image = await chartFor(
    ctx.options,
    ctx.run,
    now - window,
    now,
    metric ? [metric] : undefined,
    undefined,
    title,
  );
  if (!image) {
    return {
      title: "Chart unavailable",
      severity: "warning",
      lines: ["Charts are switched off or failed to render; try `/train status`."],
      ephemeral: true,
    };
  }
  return { title, severity: "info", images: [image], lines: [image.alt] };
}

/** `/train help`. */
export function helpMessage(runNames: readonly string[]): Message {
  return {
    title: "/train commands",
    severity: "info",
    lines: [
      `Runs: ${runNames.join(", ")}. The run can be left out when there is only one.`,
      "Commands marked * change the run: operators only, with Confirm / Cancel.",
    ],
    fields: SUBCOMMAND_SPECS.map((spec) => ({
      name: `${spec.mutating ? "* " : ""}${usage(spec).replace(/^usage: /, "")}`,
      value: spec.description,
    })),
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
