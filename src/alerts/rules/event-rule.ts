import * as z from "zod";
import type { RunConfig } from "../../config/schema.ts";
import { formatClock } from "../../message/format.ts";
import type { Severity } from "../../message/message.ts";
import { gpuMemoryLimitGiB } from "../../model/gpu-memory-limit.ts";
import type { ErrorKind, RunSample } from "../../model/monitoring.ts";
import type { StoredEvent } from "../../store/events-repo.ts";
import { baseSettings, defineRule, durationSetting, type Rule, type RuleContext } from "./rule.ts";
import { vramUsedMiB } from "./run-facts.ts";
import { keepLarger, num, SampleSeries } from "./sample-series.ts";

/** How far before an event its peaks are looked for. */
const BEFORE_EVENT_MS = 10 * 60_000;

/** Which peak an error rule quotes from the samples around its event. */
export type EventPeak = "vram" | "host";

/**
 * What an error rule keeps of the samples: when the step counter last moved (the time of the
 * reading before the move, so "progress after the event" is one comparison), and, for a rule
 * that quotes one, the VRAM or host RAM readings of its window as a bounded series of peaks.
 */
export interface EventFacts {
  /** The newest reading that a higher step followed (process not seen gone), or null. */
  advancedAfter: number | null;
  /** The newest reachable reading with a step. */
  previous: { at: number; step: number } | null;
  /** VRAM: [busiest GPU MiB, limit GiB]; host: [used, total, workers, workers' RSS] (bytes). */
  peaks: SampleSeries | null;
}

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
  describe(event: StoredEvent, ctx: RuleContext, peaks: SampleSeries | null): EventDescription;
  /** The peak its description quotes, kept from the samples. */
  peak?: EventPeak;
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
    facts: (s) => eventFacts(s.window + BEFORE_EVENT_MS, options.peak),
    evaluate(ctx, s, _open, facts) {
      const event = ctx.latestEvent(options.kinds);
      if (!event || event.at < ctx.now - s.window) return null;
      if (fromStoppingProcess(ctx, event.at)) return null;
      if (progressedSince(facts, event.at)) return null;
      const text = options.describe(event, ctx, facts.peaks);
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

/** The facts of an error rule whose events count for `span`, with the peak it quotes. */
function eventFacts(span: number, peak: EventPeak | undefined) {
  return {
    span,
    key: `event-rule ${span} ${peak ?? "no peak"}`,
    init: (): EventFacts => ({
      advancedAfter: null,
      previous: null,
      peaks: peak ? new SampleSeries(span, peak === "vram" ? 2 : 4, keepLarger(0)) : null,
    }),
    add(f: EventFacts, x: RunSample, run: RunConfig | undefined) {
      if (!x.reachable) return;
      if (x.step !== null) {
        if (f.previous && x.step > f.previous.step && x.alive !== false)
          f.advancedAfter = f.previous.at;
        f.previous = { at: x.at, step: x.step };
      }
      if (!f.peaks) return;
      if (peak === "vram") {
        const used = vramUsedMiB(x);
        const limit = gpuMemoryLimitGiB(run?.limits.gpuMemoryGiB, x.gpus);
        if (used !== null) f.peaks.push(x.at, [used, num(limit)]);
      } else if (x.hostMemory) {
        f.peaks.push(x.at, [
          x.hostMemory.usedBytes,
          x.hostMemory.totalBytes,
          num(x.workers?.count),
          num(x.workers?.rssBytes),
        ]);
      }
    },
    copy: (f: EventFacts): EventFacts => ({ ...f, peaks: f.peaks?.copy() ?? null }),
  };
}

/** True when two samples after `at` showed the step counter moving: training resumed. */
function progressedSince(facts: EventFacts, at: number): boolean {
  return facts.advancedAfter !== null && facts.advancedAfter >= at;
}

/** "VRAM peak before it: 78.6 GiB of 80.0 GiB", from the samples around the event. */
export function vramFact(event: StoredEvent, peaks: SampleSeries | null): string[] {
  let peakMiB = 0;
  let limit = Number.NaN;
  for (const x of peaks?.since(event.at - BEFORE_EVENT_MS) ?? []) {
    const used = x.values[0] as number;
    if (used > peakMiB) {
      peakMiB = used;
      limit = x.values[1] as number;
    }
  }
  // Under half a GiB the trainer was not on the GPU yet (or already gone): nothing to say.
  if (peakMiB < 512) return [];
  return [
    `VRAM peak before it: ${(peakMiB / 1024).toFixed(1)} GiB${limit ? ` of ${limit.toFixed(1)} GiB` : ""}.`,
  ];
}

/** "Host RAM peak before it: 96.0 GiB of 100.0 GiB; 4 workers using 28.0 GiB". */
export function hostRamFact(
  ctx: RuleContext,
  event: StoredEvent,
  peaks: SampleSeries | null,
): string[] {
  let peak: readonly number[] | null = null;
  for (const x of peaks?.since(event.at - BEFORE_EVENT_MS) ?? []) {
    if (!peak || (x.values[0] as number) > (peak[0] as number)) peak = x.values;
  }
  if (!peak) return [];
  const [used, totalBytes, count, rss] = peak as [number, number, number, number];
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const limit = ctx.runConfig?.limits.hostMemoryGiB;
  const total = limit ? `${limit.toFixed(1)} GiB` : gib(totalBytes);
  const workers = Number.isNaN(count)
    ? ""
    : `; ${count} worker${count === 1 ? "" : "s"} using ${gib(Number.isNaN(rss) ? 0 : rss)}`;
  return [`Host RAM peak before it: ${gib(used)} of ${total}${workers}.`];
}
