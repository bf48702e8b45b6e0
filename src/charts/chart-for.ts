import type { RunConfig } from "../config/schema.ts";
import type { TimeZone } from "../message/format.ts";
import type { MessageImage } from "../message/message.ts";
import { gpuMemoryLimitGiB } from "../model/gpu-memory-limit.ts";
import type { ChartPort, ChartStore } from "./chart-port.ts";
import type { ChartMarker, RunChartOptions } from "./run-chart.ts";

/**
 * A chart of a run over `from <= at < to` with its phase boundaries, rollbacks and restarts,
 * or null when charts are off or rendering failed: the text of a reply or a verdict goes out
 * either way. Times read in the config's `timezone`; `more.focusFrom` gives a judged span most
 * of the width.
 */
export async function chartFor(
  options: {
    charts?: ChartPort | undefined;
    db: ChartStore;
    config?: { timezone?: TimeZone };
  },
  run: Pick<RunConfig, "name" | "limits">,
  from: number,
  to: number,
  metrics?: RunChartOptions["metrics"],
  name?: string,
  title?: string,
  more: Pick<RunChartOptions, "focusFrom"> = {},
): Promise<MessageImage | null> {
  const charts = options.charts;
  if (!charts) return null;
  const { db } = options;
  // A young run's chart spans its own life, not a day of empty axis.
  const first = db.samples.firstAt(run.name);
  if (first !== null && first > from) from = Math.max(from, first - (to - first) * 0.05);
  const timeZone = options.config?.timezone;
  try {
    return await charts.render(
      { samples: db.samples, events: db.events },
      {
        run: run.name,
        from,
        to,
        ...(metrics ? { metrics } : {}),
        limits: {
          ...run.limits,
          gpuMemoryGiB: gpuMemoryLimitGiB(
            run.limits.gpuMemoryGiB,
            db.samples.latestReachable(run.name)?.gpus ?? [],
          ),
        },
        markers: chartMarkers(options.db, run.name, from, to),
        ...(name ? { name } : {}),
        ...(title ? { title } : {}),
        ...(timeZone ? { timeZone } : {}),
        ...(more.focusFrom !== undefined ? { focusFrom: more.focusFrom } : {}),
      },
    );
  } catch {
    return null;
  }
}

/**
 * Phase boundaries and rollbacks from the phase engine's table when the store has it, else the
 * changes applied through chat from the audit trail; restarts from the audit trail either way.
 */
function chartMarkers(db: ChartStore, run: string, from: number, to: number): ChartMarker[] {
  const inWindow = (m: ChartMarker) => m.at >= from && m.at < to;
  const applied = db.audit.list({ run, outcomes: ["applied"], limit: 50 });
  const markers: ChartMarker[] = [];
  if (db.phases) {
    for (const a of db.phases.list(run)) {
      markers.push({
        at: a.measureFrom ?? a.startedAt,
        label: a.kind === "manual" ? "set" : `P${a.phaseIndex}`,
        kind: "phase",
      });
      if (a.rolledBackAt !== null)
        markers.push({ at: a.rolledBackAt, label: "rollback", kind: "rollback" });
    }
    for (const e of applied)
      if (e.command === "restart") markers.push({ at: e.at, label: "restart", kind: "restart" });
  } else {
    for (const e of applied) {
      const kind =
        e.command === "restart" ? "restart" : e.command === "rollback" ? "rollback" : "phase";
      markers.push({
        at: e.at,
        label: kind === "phase" && e.args.phase ? `P${e.args.phase}` : e.command,
        kind,
      });
    }
  }
  return markers.filter(inWindow).sort((a, b) => a.at - b.at);
}
