import type { RunConfig } from "../../config/schema.ts";
import type { DigestPeriodsRepo } from "../../store/digest-periods-repo.ts";
import type { AlertLogger } from "../alert-engine.ts";
import type { ChannelSettings } from "../channel-settings.ts";
import type { AlertSink } from "../sinks/alert-sink.ts";
import { digestMessage } from "./digest-message.ts";
import { buildDigest, type DigestSources } from "./digest-report.ts";
import { latestDigestTime, nextDigestTime } from "./digest-schedule.ts";

export interface DigestSchedulerOptions {
  channels: ReadonlyMap<string, ChannelSettings>;
  periods: DigestPeriodsRepo;
  sources: DigestSources;
  runs: readonly RunConfig[];
  /** The sinks of this process, read at each check (front ends add theirs after start). */
  sinks: readonly AlertSink[];
  log: AlertLogger;
}

/**
 * Queues each channel's digest once per period through the outbox. The period is the schedule's
 * latest time at or before now; recording it and sealing the digest's batch (owed to that
 * channel alone) are one transaction, so a restart neither repeats a digest nor loses one it
 * missed while down (the latest missed period is sent, covering everything since the last).
 * A channel's first period is recorded without a digest: it marks where its digests begin.
 */
export class DigestScheduler {
  /**
   * Each channel's current period, valid from `from` until the next digest time: the sender
   * checks every tick, and the time-zone arithmetic need not run that often.
   */
  private readonly periods = new Map<
    string,
    { period: number | null; from: number; until: number }
  >();

  constructor(private readonly o: DigestSchedulerOptions) {}

  private periodAt(channel: ChannelSettings, now: number): number | null {
    const known = this.periods.get(channel.sink);
    if (known && now >= known.from && now < known.until) return known.period;
    const digest = channel.digest as NonNullable<ChannelSettings["digest"]>;
    const period = latestDigestTime(digest, channel.digestTimeZone, now);
    // No time in the next year: look again in an hour (the config may not change, but cheap).
    const until = nextDigestTime(digest, channel.digestTimeZone, now) ?? now + 3_600_000;
    this.periods.set(channel.sink, { period, from: now, until });
    return period;
  }

  /** Seals the digests due at `now`; returns how many. */
  queueDue(now: number): number {
    let queued = 0;
    const present = new Set(this.o.sinks.map((s) => s.name));
    for (const channel of this.o.channels.values()) {
      if (!channel.digest || !present.has(channel.sink)) continue;
      const period = this.periodAt(channel, now);
      if (period === null) continue;
      const last = this.o.periods.latest(channel.sink);
      if (last && last.periodAt >= period) continue;
      if (!last) {
        this.o.periods.record(channel.sink, period, now);
        continue;
      }
      const runs = this.o.runs.filter((r) => channel.digestRuns.includes(r.name));
      const report = buildDigest(this.o.sources, runs, last.periodAt, period);
      const message = digestMessage(report, { timeZone: channel.digestTimeZone });
      const batch = this.o.periods.record(channel.sink, period, now, {
        sink: channel.sink,
        message,
      });
      if (typeof batch === "number") {
        queued++;
        this.o.log.info(
          { channel: channel.sink, period: new Date(period).toISOString(), runs: runs.length },
          "digest queued",
        );
      }
    }
    return queued;
  }
}
