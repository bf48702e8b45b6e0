import * as z from "zod";
import { formatClock } from "../../message/format.ts";
import type { Severity } from "../../message/message.ts";
import { gpuMemoryLimitGiB } from "../../model/gpu-memory-limit.ts";
import type { ErrorKind, RunSample } from "../../model/monitoring.ts";
import type { StoredEvent } from "../../store/events-repo.ts";
import { baseSettings, defineRule, durationSetting, type Rule, type RuleContext } from "./rule.ts";
import { vramUsedMiB } from "./run-facts.ts";

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
  /** The rule takes `stop: true`: its alert then offers to stop training (after confirmation). */
  offersStop?: boolean;
}): Rule {
  const settings = baseSettings({ severity: options.severity, repeatInterval: "0s" }).extend({
    /** Events older than this are history, not news. */
    window: durationSetting.prefault("6h").describe("Errors older than this no longer count"),
    ...(options.offersStop
      ? {
          /** Opt-in: the alert carries a Stop training button (confirmed, authorised, audited). */
          stop: z
            .boolean()
            .default(false)
            .describe(
              "Offer to stop training from the alert (a Stop training button that asks to confirm); default false",
            ),
        }
      : {}),
  });
  return defineRule({
    name: options.name,
    label: options.label,
    settings,
    quietResolve: true,
    evaluate(ctx, s) {
      const event = ctx.latestEvent(options.kinds);
      if (!event || event.at < ctx.now - s.window) return null;
      if (fromStoppingProcess(ctx, event.at)) return null;
      if (progressedSince(ctx, event.at)) return null;
      const text = options.describe(event, ctx);
      const offerStop = (s as { stop?: boolean }).stop === true;
      return {
        headline: text.headline,
        lines: [
          ...text.facts,
          text.fix,
          ...(offerStop
            ? [
                "Stop training now so it wastes no more GPU time: press Stop training (it asks to confirm) or `/train stop`.",
              ]
            : []),
        ],
        ...(offerStop ? { offerStop } : {}),
        quote: event.line,
        since: event.at,
        fields: [
          { name: "Seen", value: `${formatClock(event.at)} (${event.source})`, inline: true },
        ],
      };
    },
  });
}

/**
 * True when an event was logged while a restart we asked for was stopping the old process
 * (what a job prints on its way out, e.g. a worker exiting first), before the new one started.
 * A failure of the new process comes after its start and alerts as usual.
 */
function fromStoppingProcess(ctx: RuleContext, at: number): boolean {
  const stop = ctx.expectedStop();
  if (!stop || at < stop.notedAt) return false;
  return stop.startedAt === null ? at <= stop.until : at < stop.startedAt;
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

/** Samples around an event: the 10 minutes before it up to now (the poll after it may be 0). */
function around(ctx: RuleContext, event: StoredEvent): RunSample[] {
  return ctx.samplesSince(event.at - 10 * 60_000).filter((x) => x.reachable);
}

/** "VRAM peak before it: 78.6 GiB of 80.0 GiB", from the samples around the event. */
export function vramFact(ctx: RuleContext, event: StoredEvent): string[] {
  let peak: RunSample | null = null;
  let peakMiB = 0;
  for (const x of around(ctx, event)) {
    const used = vramUsedMiB(x);
    if (used !== null && used > peakMiB) {
      peak = x;
      peakMiB = used;
    }
  }
  // Under half a GiB the trainer was not on the GPU yet (or already gone): nothing to say.
  if (!peak || peakMiB < 512) return [];
  const limit = gpuMemoryLimitGiB(ctx.runConfig?.limits.gpuMemoryGiB, peak.gpus);
  return [
    `VRAM peak before it: ${(peakMiB / 1024).toFixed(1)} GiB${limit ? ` of ${limit.toFixed(1)} GiB` : ""}.`,
  ];
}

/** "Host RAM peak before it: 96.0 GiB of 100.0 GiB; 4 workers using 28.0 GiB". */
export function hostRamFact(ctx: RuleContext, event: StoredEvent): string[] {
  let peak: RunSample | null = null;
  for (const x of around(ctx, event)) {
    if (x.hostMemory && (!peak?.hostMemory || x.hostMemory.usedBytes > peak.hostMemory.usedBytes))
      peak = x;
  }
  if (!peak?.hostMemory) return [];
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const limit = ctx.runConfig?.limits.hostMemoryGiB;
  const total = limit ? `${limit.toFixed(1)} GiB` : gib(peak.hostMemory.totalBytes);
  const workers = peak.workers
    ? `; ${peak.workers.count} worker${peak.workers.count === 1 ? "" : "s"} using ${gib(peak.workers.rssBytes)}`
    : "";
  return [`Host RAM peak before it: ${gib(peak.hostMemory.usedBytes)} of ${total}${workers}.`];
}
