import type { RunConfig } from "../config/schema.ts";
import type { MessageImage } from "../message/message.ts";
import { gpuMemoryLimitGiB } from "../model/gpu-memory-limit.ts";
import type { ChartPort, ChartStore } from "./chart-port.ts";
import type { ChartMarker, RunChartOptions } from "./run-chart.ts";

/**
 * A chart of a run over `from <= at < to` with its phase boundaries, or null when charts are
 * off or rendering failed: the text of a reply or a verdict goes out either way.
 */
export async function chartFor(
  options: { charts?: ChartPort | undefined; db: ChartStore },
  run: Pick<RunConfig, "name" | "limits">,
  from: number,
  to: number,
  metrics?: RunChartOptions["metrics"],
  name?: string,
  title?: string,
): Promise<MessageImage | null> {
  const charts = options.charts;
  if (!charts) return null;
  const { db } = options;
  // A young run's chart spans its own life, not a day of empty axis.
  const first = db.samples.firstAt(run.name);
  if (first !== null && first > from) from = Math.max(from, first - (to - first) * 0.05);
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
        markers: phaseMarkers(options.db, run.name, from, to),
        ...(name ? { name } : {}),
        ...(title ? { title } : {}),
      },
    );
  } catch {
    return null;
  }
}

/**
 * Phase boundaries: each phase attempt's start (and rollback) from the phase engine's table when
 * the store has it, else the changes applied through chat from the audit trail.
 */
function phaseMarkers(db: ChartStore, run: string, from: number, to: number): ChartMarker[] {
  const inWindow = (m: ChartMarker) => m.at >= from && m.at < to;
  if (db.phases) {
    const markers: ChartMarker[] = [];
    for (const a of db.phases.list(run)) {
      markers.push({
        at: a.measureFrom ?? a.startedAt,
        label: a.kind === "manual" ? "set" : `P${a.phaseIndex}`,
      });
      if (a.rolledBackAt !== null) markers.push({ at: a.rolledBackAt, label: "rollback" });
    }
    return markers.filter(inWindow);
  }
  return db.audit
    .list({ run, outcomes: ["applied"], limit: 50 })
    .map((e) => ({ at: e.at, label: e.args.phase ? `P${e.args.phase}` : e.command }))
    .filter(inWindow);
}
