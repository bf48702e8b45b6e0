import * as z from "zod";
import { slopePerMs } from "../../core/statistics.ts";
import { formatPercent } from "../../message/format.ts";
import { gpuMemoryLimitGiB } from "../../model/gpu-memory-limit.ts";
import type { RunSample } from "../../model/monitoring.ts";
import { baseSettings, defineRule, durationSetting, type RuleContext } from "./rule.ts";
import { vramUsedMiB } from "./run-facts.ts";

const GIB = 1024 ** 3;
const HOUR = 3_600_000;

interface Gauge {
  name: string;
  usedGiB: number;
  limitGiB: number;
  read(sample: RunSample): number | null;
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
  evaluate(ctx, s) {
    const latest = ctx.latest();
    if (!latest?.reachable) return "unknown";
    const high: Array<{ gauge: Gauge; share: number }> = [];
    for (const gauge of gauges(ctx, latest)) {
      const share = gauge.usedGiB / gauge.limitGiB;
      if (share >= (gauge.name === "VRAM" ? s.gpuShare : s.hostShare)) high.push({ gauge, share });
    }
    if (high.length === 0) return null;
    // The trend covers the current process only: across a restart memory drops to zero and
    // climbs back, which is no leak.
    const window = sinceLastStart(
      ctx.samplesSince(ctx.now - s.trendWindow).filter((x) => x.reachable),
    );
    const lines = high.map(({ gauge, share }) => {
      const all = window
        .map((x) => ({ at: x.at, value: gauge.read(x) }))
        .filter((p): p is { at: number; value: number } => p.value !== null);
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
      read: (x) => {
        const v = vramUsedMiB(x);
        return v === null ? null : v / 1024;
      },
    });
  }
  const host = sample.hostMemory;
  const hostLimit = ctx.runConfig?.limits.hostMemoryGiB ?? (host ? host.totalBytes / GIB : null);
  if (host && hostLimit) {
    out.push({
      name: "host RAM",
      usedGiB: host.usedBytes / GIB,
      limitGiB: hostLimit,
      read: (x) => (x.hostMemory ? x.hostMemory.usedBytes / GIB : null),
    });
  }
  return out;
}

/** The trailing samples during which the training process kept running. */
function sinceLastStart<T extends { alive: boolean | null }>(samples: T[]): T[] {
  let start = samples.length;
  while (start > 0 && samples[start - 1]?.alive !== false) start -= 1;
  return samples.slice(start);
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
