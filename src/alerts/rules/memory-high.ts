import * as z from "zod";
import { slopePerMs } from "../../core/statistics.ts";
import { formatPercent } from "../../message/format.ts";
import { gpuMemoryLimitGiB } from "../../model/gpu-memory-limit.ts";
import type { RunSample } from "../../model/monitoring.ts";
import { baseSettings, defineRule, durationSetting, type RuleContext } from "./rule.ts";
import { vramUsedMiB } from "./run-facts.ts";
import { num, SampleSeries } from "./sample-series.ts";

const GIB = 1024 ** 3;
const HOUR = 3_600_000;

interface Gauge {
  name: string;
  usedGiB: number;
  limitGiB: number;
  /** Its column in the facts' series. */
  column: number;
}

/** VRAM or host RAM above a share of the run's limit, with the trend and when it would hit it. */
export const memoryHighRule = defineRule({
  name: "memory_high",
  label: "high memory",
  settings: baseSettings({ severity: "warning", for: "2m", repeatInterval: "1h" }).extend({
    gpuShare: z
      .number()
      .gt(0)
      .max(1)
      .default(0.97)
      .describe("Alert above this share of the VRAM limit, 0-1"),
    hostShare: z
      .number()
      .gt(0)
      .max(1)
      .default(0.9)
      .describe("Alert above this share of the host RAM limit, 0-1"),
    trendWindow: durationSetting
      .prefault("1h")
      .describe("How far back the memory trend in the alert looks"),
  }),
  // VRAM and host RAM (GiB) over `trendWindow` while the training process kept running: across
  // a restart memory drops to zero and climbs back, which is no leak.
  facts: (s) => ({
    span: s.trendWindow,
    init: () => new SampleSeries(s.trendWindow, 2),
    add(series: SampleSeries, x) {
      if (!x.reachable) return;
      if (x.alive === false) {
        series.clear();
        return;
      }
      const vram = vramUsedMiB(x);
      series.push(x.at, [
        vram === null ? Number.NaN : vram / 1024,
        num(x.hostMemory ? x.hostMemory.usedBytes / GIB : null),
      ]);
    },
    copy: (series: SampleSeries) => series.copy(),
  }),
  evaluate(ctx, s, _open, facts) {
    const latest = ctx.latest();
    if (!latest?.reachable) return "unknown";
    const high: Array<{ gauge: Gauge; share: number }> = [];
    for (const gauge of gauges(ctx, latest)) {
      const share = gauge.usedGiB / gauge.limitGiB;
      if (share >= (gauge.name === "VRAM" ? s.gpuShare : s.hostShare)) high.push({ gauge, share });
    }
    if (high.length === 0) return null;
    const window = facts.since(ctx.now - s.trendWindow);
    const lines = high.map(({ gauge, share }) => {
      const all = window
        .map((x) => ({ at: x.at, value: x.values[gauge.column] as number }))
        .filter((p) => !Number.isNaN(p.value));
      // A value under half of today's marks a (re)start still loading: growth from there is
      // start-up, not a trend.
      const cut = all.findLastIndex((p) => p.value < gauge.usedGiB / 2);
      const points = all.slice(cut + 1);
      return `${gauge.name} ${gauge.usedGiB.toFixed(1)} GiB of ${gauge.limitGiB.toFixed(1)} GiB (${formatPercent(share)}), ${trend(points, gauge)}.`;
    });
    const names = high.map((h) => h.gauge.name);
    lines.push(
      names.includes("VRAM")
        ? "Next: do not raise the batch size now; if VRAM keeps growing, look for tensors kept across steps."
        : "Next: fewer data-loader workers or less RAM per worker before the kernel's OOM killer steps in.",
    );
    const top = high[0] as { gauge: Gauge; share: number };
    // The busiest GPU, when VRAM is what is high: incident tools label the alert with it.
    const busiest = names.includes("VRAM")
      ? latest.gpus
          .filter((g) => g.memoryUsedMiB !== null)
          .sort((a, b) => (b.memoryUsedMiB ?? 0) - (a.memoryUsedMiB ?? 0))[0]
      : undefined;
    return {
      ...(busiest ? { gpu: String(busiest.index) } : {}),
      headline:
        high.length > 1
          ? "VRAM and host RAM near their limits"
          : `${top.gauge.name} at ${formatPercent(top.share)} of ${top.gauge.limitGiB.toFixed(1)} GiB`,
      lines,
    };
  },
  resolved(ctx) {
    const latest = ctx.latestReachable();
    if (!latest) return [];
    return gauges(ctx, latest).map(
      (g) => `${g.name} ${g.usedGiB.toFixed(1)} GiB of ${g.limitGiB.toFixed(1)} GiB now.`,
    );
  },
});

function gauges(ctx: RuleContext, sample: RunSample): Gauge[] {
  const out: Gauge[] = [];
  const vram = vramUsedMiB(sample);
  const vramLimit = gpuMemoryLimitGiB(ctx.runConfig?.limits.gpuMemoryGiB, sample.gpus);
  if (vram !== null && vramLimit) {
    out.push({
      name: "VRAM",
      usedGiB: vram / 1024,
      limitGiB: vramLimit,
      column: 0,
    });
  }
  const host = sample.hostMemory;
  const hostLimit = ctx.runConfig?.limits.hostMemoryGiB ?? (host ? host.totalBytes / GIB : null);
  if (host && hostLimit) {
    out.push({
      name: "host RAM",
      usedGiB: host.usedBytes / GIB,
      limitGiB: hostLimit,
      column: 1,
    });
  }
  return out;
}

/** "+0.6 GiB/h: reaches 100 GiB in about 3 h", or "stable over the last 60 min". */
function trend(points: Array<{ at: number; value: number }>, gauge: Gauge): string {
  const slope = slopePerMs(points);
  if (slope === null) return "trend unknown yet";
  const perHour = slope * HOUR;
  if (perHour < 0.05) {
    const span = Math.round(((points.at(-1)?.at ?? 0) - (points[0]?.at ?? 0)) / 60_000);
    return perHour <= -0.05
      ? `${perHour.toFixed(1)} GiB/h (falling)`
      : `stable over the last ${span} min`;
  }
  const hours = (gauge.limitGiB - gauge.usedGiB) / perHour;
  const when =
    hours <= 0
      ? "at the limit now"
      : `reaches ${formatLimit(gauge.limitGiB)} in about ${formatHours(hours)}`;
  return `+${perHour.toFixed(1)} GiB/h: ${when}`;
}

function formatLimit(gib: number): string {
  return Number.isInteger(gib) ? `${gib} GiB` : `${gib.toFixed(1)} GiB`;
}

function formatHours(hours: number): string {
  if (hours < 1) return `${Math.max(1, Math.round(hours * 60))} min`;
  if (hours < 48) return `${Math.round(hours)} h`;
  return `${Math.round(hours / 24)} d`;
}
