import type { Severity } from "../../bot/message/message.ts";
import type { ErrorKind } from "../../monitors/types.ts";
import type { StoredEvent } from "../../store/events-repo.ts";
import { formatClock } from "../units.ts";
import { baseSettings, defineRule, durationSetting, type Rule, type RuleContext } from "./rule.ts";

/** What an error rule says about its event. */
export interface EventDescription {
  headline: string;
  /** What happened, with numbers. */
  facts: string[];
  /** The usual fix, phrased as the next step. */
  fix: string;
}

/**
 * Builds a rule that fires on a classified error event. It stays open (deduplicated: a second
 * OOM does not ping again) until the run makes progress after the event, then ends quietly, so
 * the next occurrence after a recovery alerts again.
 */
export function eventRule(options: {
  name: string;
  label: string;
  kinds: readonly ErrorKind[];
  severity: Severity;
  describe(event: StoredEvent, ctx: RuleContext): EventDescription;
}): Rule {
  const settings = baseSettings({ severity: options.severity, repeatInterval: "0s" }).extend({
    /** Events older than this are history, not news. */
    window: durationSetting.prefault("6h"),
  });
  return defineRule({
    name: options.name,
    label: options.label,
    settings,
    quietResolve: true,
    evaluate(ctx, s) {
      const event = ctx.latestEvent(options.kinds);
      if (!event || event.at < ctx.now - s.window) return null;
      if (progressedSince(ctx, event.at)) return null;
      const text = options.describe(event, ctx);
      return {
        headline: text.headline,
        lines: [...text.facts, text.fix],
        quote: event.line,
        since: event.at,
        fields: [
          { name: "Seen", value: `${formatClock(event.at)} (${event.source})`, inline: true },
        ],
      };
    },
  });
}

/** True when two samples after `at` show the step counter moving: training resumed. */
export function progressedSince(ctx: RuleContext, at: number): boolean {
  let previous: number | null = null;
  for (const sample of ctx.samplesSince(at)) {
    if (!sample.reachable || sample.step === null) continue;
    if (previous !== null && sample.step > previous && sample.alive !== false) return true;
    previous = sample.step;
  }
  return false;
}

/** "VRAM at the last poll: 77.4 GiB of 80.0 GiB" where known. */
export function vramFact(ctx: RuleContext): string[] {
  const sample = ctx.latestReachable();
  const gpu = sample?.gpus.find((g) => g.memoryUsedMiB !== null);
  if (!gpu || gpu.memoryUsedMiB === null) return [];
  const limit =
    ctx.runConfig?.limits.gpuMemoryGiB ??
    (gpu.memoryTotalMiB !== null ? gpu.memoryTotalMiB / 1024 : null);
  const used = (gpu.memoryUsedMiB / 1024).toFixed(1);
  return [`VRAM at the last poll: ${used} GiB${limit ? ` of ${limit.toFixed(1)} GiB` : ""}.`];
}

/** "Host RAM at the last poll: 96.0 GiB of 100.0 GiB; 4 workers using 28.0 GiB" where known. */
export function hostRamFact(ctx: RuleContext): string[] {
  const sample = ctx.latestReachable();
  if (!sample?.hostMemory) return [];
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const limit = ctx.runConfig?.limits.hostMemoryGiB;
  const total = limit ? `${limit.toFixed(1)} GiB` : gib(sample.hostMemory.totalBytes);
  const workers = sample.workers
    ? `; ${sample.workers.count} worker${sample.workers.count === 1 ? "" : "s"} using ${gib(sample.workers.rssBytes)}`
    : "";
  return [`Host RAM at the last poll: ${gib(sample.hostMemory.usedBytes)} of ${total}${workers}.`];
}
